"""The repository documents itself: docs/ holds the API guide, the architecture and operations; nothing points to
files outside the repository, and every relative link in the README and docs/ resolves."""
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def test_docs_has_the_api_guide_the_architecture_and_operations():
    assert {"api.md", "architecture.md", "operations.md"} <= {p.name for p in (ROOT / "docs").glob("*.md")}
    readme = (ROOT / "README.md").read_text("utf-8")
    for name in ("docs/api.md", "docs/architecture.md", "docs/operations.md"):
        assert name in readme


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.name)
def test_no_reference_leaves_the_repository(document):
    text = document.read_text("utf-8")
    assert "../shared" not in text and "/work/" not in text
    for target in re.findall(r"\]\(([^)#\s]+)", text):
        if "://" in target:
            continue
        assert (document.parent / target).resolve().is_relative_to(ROOT), target
        assert (document.parent / target).exists(), f"{document.name} links to a missing {target}"


def test_the_architecture_page_has_a_picture_of_the_layers():
    text = (ROOT / "docs/architecture.md").read_text("utf-8")
    picture = re.search(r"```\n(.*?)```", text, re.S)
    assert picture and all(layer in picture.group(1) for layer in ("adapters", "domain", "storage", "dev/"))


def test_the_api_guide_names_the_error_codes_clients_branch_on():
    guide = (ROOT / "docs/api.md").read_text("utf-8")
    for code in ("invalid_request", "unauthenticated", "not_found", "insufficient_stock", "already_redeemed"):
        assert f"`{code}`" in guide
