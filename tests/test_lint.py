"""ruff on the whole repository and mypy on the domain (app/) run with the suite, so CI runs them too. Their
configuration is in pyproject.toml; a finding fails the test with the linter's own report."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def tool(name: str) -> list[str]:
    """The tool from this interpreter's environment (it comes with the `test` extra)."""
    beside = Path(sys.executable).with_name(name)
    if beside.exists():
        return [str(beside)]
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: pip install -e '.[test]'")
    return [found]


def test_ruff():
    result = subprocess.run([*tool("ruff"), "check", "--no-cache", "."], cwd=ROOT, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_on_the_domain():
    # The cache (.mypy_cache, not committed) makes a second run take seconds.
    result = subprocess.run([*tool("mypy")], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
