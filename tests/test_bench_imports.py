"""Every module under bench/ still imports: it compiles, and each name it imports (at the top or inside a function)
exists where it is imported from. The bench runs only on an idle machine, so a helper moved elsewhere would break it
unseen until then (bench/verify_app.py imported one that had moved). The bench modules themselves are not imported:
some build an app or read the bench's environment at import; their own names are checked in their source instead."""
from __future__ import annotations

import ast
import importlib
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
# The project's own packages: a name imported from one of these must exist. Third-party imports are left to pip
# (bench/schema_overhead.py compares with frameworks that are installed only for that comparison).
FIRST_PARTY = ("app", "miniprogram_api", "official_account", "payments", "console", "wechat_sandbox", "micromall_dev",
               "bench")


def top_level_names(path: Path) -> set[str]:
    """The names a module defines at its top level (functions, classes, assignments, imports)."""
    names: set[str] = set()
    for node in ast.parse(path.read_text("utf-8"), str(path)).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(n.id for t in node.targets for n in ast.walk(t) if isinstance(n, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names


def unresolved(module: str, name: str | None) -> str | None:
    """Why `from module import name` (or `import module` when name is None) would fail, or None."""
    if module == "bench" or module.startswith("bench."):  # read, not imported
        path = BENCH / (module.removeprefix("bench").lstrip(".").replace(".", "/") or "__init__")
        source = path.with_suffix(".py")
        if name is None:
            return None if source.exists() else f"no module {module}"
        if not source.exists():
            return f"no module {module}"
        if name in top_level_names(source) or (module == "bench" and (BENCH / f"{name}.py").exists()):
            return None
        return f"{module} has no {name}"
    if module.split(".")[0] not in FIRST_PARTY:
        return None
    try:
        imported = importlib.import_module(module)
    except ImportError as exc:
        return f"import {module}: {exc}"
    if name is None or hasattr(imported, name):
        return None
    if hasattr(imported, "__path__") and importlib.util.find_spec(f"{module}.{name}") is not None:
        return None  # a submodule not yet imported
    return f"{module} has no {name}"


@pytest.mark.parametrize("path", sorted(BENCH.glob("*.py")), ids=lambda p: p.name)
def test_bench_module_imports_resolve(path: Path) -> None:
    tree = ast.parse(path.read_text("utf-8"), str(path))
    compile(tree, str(path), "exec")  # what py_compile does, without writing a .pyc
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            problems += [unresolved(alias.name, None) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and node.module != "__future__":
            problems += [unresolved(node.module, alias.name) for alias in node.names]
    assert not [p for p in problems if p], f"{path.name}: {[p for p in problems if p]}"
