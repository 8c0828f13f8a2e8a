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


# The API guide is checked against the code, so that it cannot fall behind it again.
GUIDE = (ROOT / "docs/api.md").read_text("utf-8")
README = (ROOT / "README.md").read_text("utf-8")
APP_PACKAGES = ("app", "miniprogram_api", "official_account", "payments", "console")


def _section(text: str, heading: str) -> str:
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    assert match, f"no section {heading!r}"
    return match.group(1)


def test_every_setting_is_in_the_readme_table_and_the_api_guide():
    from app.config import SETTINGS

    readme_table = _section(README, "Configuration")
    guide_table = _section(GUIDE, "Configuration (environment variables)")
    readme_rows = re.findall(r"^\| `([A-Z0-9_]+)` \|", readme_table, re.M)
    assert sorted(readme_rows) == sorted(s.name for s in SETTINGS)  # exactly the settings, each once
    assert [s.name for s in SETTINGS if f"`{s.name}`" not in guide_table] == []


def test_the_readme_table_gives_each_setting_its_default():
    from app.config import SETTINGS

    rows = dict(re.findall(r"^\| `([A-Z0-9_]+)` \|.*\| ([^|]*) \|$", _section(README, "Configuration"), re.M))
    for setting in SETTINGS:
        if setting.default not in (None, False):
            assert f"`{setting.default}`" in rows[setting.name], setting.name


def _routes() -> set[tuple[str, str]]:
    from app import create_app

    app = create_app({"MICROMALL_ENV": "testing", "DATABASE_URL": "sqlite://", "WECHAT_SANDBOX": True,
                      "SECRET_KEY": "kW3-vZ9qLr7_TmYb2XcN8pHs4dFj6GuAe1oQiR5nBy0"})
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(("/__sandbox__", "/static/")):
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            routes.add((method, path))
    return routes


def test_the_api_guide_names_every_route():
    """Each route as `METHOD /path`, relative to its section's prefix (`/api/v1`, `/api/v1/staff`, `/console`)."""
    missing = []
    for method, path in sorted(_routes()):
        for prefix in ("/api/v1/staff", "/api/v1", "/console", ""):
            if path.startswith(prefix + "/") or (prefix == "/console" and path == "/console/"):
                relative = path[len(prefix):] or "/"
                break
        if not re.search(re.escape(f"{method} {relative}") + r"(?![\w/.{-])", GUIDE):
            missing.append(f"{method} {path}")
    assert missing == []


def _raised_error_codes() -> set[str]:
    codes = set()
    for package in APP_PACKAGES:
        for source in (ROOT / package).rglob("*.py"):
            if "migrations" in source.parts:
                continue
            text = source.read_text("utf-8")
            codes.update(re.findall(r"\bcode\s*=\s*\"([a-z_]+)\"", text))
            codes.update(re.findall(r"status, code = \d+, \"([a-z_]+)\"", text))
            codes.update(re.findall(r"\"code\": \"([a-z_]+)\"", text))
            codes.update(f"qr_token_{reason}" for reason in ("invalid", "expired") if "qr_token_{" in text)
    from app.errors import _HTTP_CODES

    return codes | set(_HTTP_CODES.values()) | {"http_error", "internal_error"}


def test_the_api_guide_names_every_error_code_the_code_raises():
    codes = _raised_error_codes()
    assert {"pickup_not_found", "service_unavailable", "scene_expired", "csrf_failed"} <= codes  # the scan works
    assert sorted(code for code in codes if f"`{code}`" not in _section(GUIDE, "Error codes")) == []


def _commands(group, prefix="micromall"):
    import click

    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from _commands(command, f"{prefix} {name}")
        else:
            yield f"{prefix} {name}"


def test_the_api_guide_and_the_readme_name_every_command():
    from app import create_app

    app = create_app({"MICROMALL_ENV": "testing", "DATABASE_URL": "sqlite://", "WECHAT_SANDBOX": True,
                      "SECRET_KEY": "kW3-vZ9qLr7_TmYb2XcN8pHs4dFj6GuAe1oQiR5nBy0"})
    commands = sorted(_commands(app.cli))
    assert "micromall oa rules add" in commands and "micromall serve" in commands
    for document, text in (("docs/api.md", _section(GUIDE, "Command line (the operator's contract)")),
                           ("README.md", _section(README, "Commands"))):
        assert [c for c in commands if not re.search(re.escape(c) + r"(?![\w-])", text)] == [], document


def test_the_api_guide_has_every_order_status_and_transition():
    from app.orders.state import TRANSITIONS

    table = dict(re.findall(r"^\| `([a-z_]+)` \| (.*) \|$", _section(GUIDE, "Order statuses"), re.M))
    assert set(table) == {status.value for status in TRANSITIONS}
    for source, targets in TRANSITIONS.items():
        assert {t.value for t in targets} == set(re.findall(r"`([a-z_]+)`", table[source.value])), source.value


def test_the_readme_links_every_document():
    documentation = _section(README, "Documentation")
    for document in sorted((ROOT / "docs").glob("*.md")):
        assert f"(docs/{document.name})" in documentation, document.name
