"""The shape of the code: the domain (`app/`) imports no adapter, no wechatpy and nothing of the development tools;
a production `create_app()` loads none of the development tools; a production install does not contain them."""
from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOMAIN = ROOT / "app"
ADAPTERS = ("miniprogram_api", "official_account", "payments", "console")
DEV_TOOLS = ("wechat_sandbox", "micromall_dev")
# The composition root: the app factory wires the adapters into the app, and only it may import them.
COMPOSITION_ROOT = {"app/__init__.py"}
# Domain modules that may import wechatpy: none. WeChat is reached through the port (app/wechat/port.py) and its HTTP
# adapter; a module added here needs a reason.
WECHATPY_ALLOWED: set[str] = set()


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, wherever the import statement is (functions included)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def domain_files() -> list[Path]:
    return sorted(p for p in DOMAIN.rglob("*.py") if "migrations" not in p.parts)


def top(name: str) -> str:
    return name.split(".", 1)[0]


def violations(rel: str, modules: set[str]) -> list[str]:
    found = []
    for module in sorted(modules):
        if top(module) in DEV_TOOLS:
            found.append(f"{rel} imports the development tool {module}")
        elif top(module) in ADAPTERS and rel not in COMPOSITION_ROOT:
            found.append(f"{rel} imports the adapter {module}")
        elif top(module) == "wechatpy" and rel not in WECHATPY_ALLOWED:
            found.append(f"{rel} imports {module}: reach WeChat through the port (app/wechat)")
    return found


def test_the_domain_imports_no_adapter_no_wechatpy_and_no_development_tool():
    problems = []
    for path in domain_files():
        problems += violations(path.relative_to(ROOT).as_posix(), imported_modules(path))
    assert problems == []


def test_the_wechatpy_allow_list_holds_only_modules_that_still_need_it():
    stale = [rel for rel in sorted(WECHATPY_ALLOWED)
             if not (ROOT / rel).exists() or not any(top(m) == "wechatpy" for m in imported_modules(ROOT / rel))]
    assert stale == [], "remove these from WECHATPY_ALLOWED"


@pytest.mark.parametrize("rel, modules, expected", [
    ("app/orders/service.py", {"miniprogram_api.params"}, "adapter"),
    ("app/orders/service.py", {"console"}, "adapter"),
    ("app/orders/service.py", {"wechatpy.exceptions"}, "port"),
    ("app/orders/service.py", {"wechat_sandbox.follower"}, "development tool"),
    ("app/__init__.py", {"micromall_dev.hooks"}, "development tool"),
])
def test_the_check_catches_each_kind_of_wrong_import(rel, modules, expected):
    assert expected in " ".join(violations(rel, modules))


PRODUCTION = {
    "MICROMALL_ENV": "production", "SECRET_KEY": "kW3-vZ9qLr7_TmYb2XcN8pHs4dFj6GuAe1oQiR5nBy0", "REDIS_URL": "redis://127.0.0.1:6379/0",
    "DATABASE_URL": "mysql+pymysql://u:p@127.0.0.1/micromall", "MINIPROGRAM_APPID": "wx1234567890abcdef",
    "MINIPROGRAM_SECRET": "s", "WECHATPAY_MCHID": "1900000001", "WECHATPAY_APIV3_KEY": "k" * 32,
    "WECHATPAY_PRIVATE_KEY_PATH": "/etc/micromall/apiclient_key.pem", "WECHATPAY_MERCHANT_SERIAL_NO": "ABC",
    "WECHATPAY_PUBLIC_KEY_PATH": "/etc/micromall/pub_key.pem", "WECHATPAY_PUBLIC_KEY_ID": "PUB_KEY_ID_1",
}


def test_a_production_create_app_imports_none_of_the_development_tools(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MICROMALL_", "DATABASE_", "REDIS_", "WECHAT"))}
    env.update(PRODUCTION, MICROMALL_INSTANCE_PATH=str(tmp_path))
    script = ("import json, sys; from app import create_app; app = create_app(); "
              "print(json.dumps({'modules': sorted(m for m in sys.modules if m.split('.')[0] in %r), "
              "'commands': sorted(app.cli.commands)}))" % (DEV_TOOLS,))
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout.splitlines()[-1])
    assert loaded["modules"] == []
    assert not {"serve", "sandbox", "demo"} & set(loaded["commands"])
    assert "worker" in loaded["commands"]


def test_development_gets_the_tools_and_their_commands(app):
    assert {"serve", "sandbox", "demo"} <= set(app.cli.commands)


def test_the_product_distribution_does_not_contain_the_development_tools():
    from setuptools import find_packages

    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    include = config["tool"]["setuptools"]["packages"]["find"]["include"]
    packaged = set(find_packages(str(ROOT), include=include))
    assert not {top(p) for p in packaged} & set(DEV_TOOLS)
    assert {"app", "miniprogram_api", "official_account", "payments"} <= packaged
    dev = tomllib.loads((ROOT / "dev/pyproject.toml").read_text("utf-8"))
    assert set(find_packages(str(ROOT / "dev"), include=dev["tool"]["setuptools"]["packages"]["find"]["include"])) \
        >= {"wechat_sandbox", "micromall_dev"}
    assert dev["project"]["entry-points"]["micromall.dev"] == {"tools": "micromall_dev.hooks"}


def test_the_sandbox_without_the_development_tools_says_what_to_install(monkeypatch):
    import app.devtools
    from app import create_app
    from app.config import ConfigError

    monkeypatch.setattr(app.devtools, "_entry_point", lambda: None)
    with pytest.raises(ConfigError) as info:
        create_app({"MICROMALL_ENV": "development", "DATABASE_URL": "sqlite://"})
    assert "pip install -e ./dev" in info.value.problems[0] and "WECHAT_SANDBOX=0" in info.value.problems[0]


def test_the_sandbox_is_mounted_in_process_only_where_the_app_calls_it(instance_dir):
    from app import create_app

    base = {"MICROMALL_ENV": "development", "DATABASE_URL": "sqlite://", "PUBLIC_BASE_URL": "http://127.0.0.1:8000"}
    assert "wechat_sandbox" in create_app(base).extensions
    # The sandbox as its own server (the README's gunicorn recipe): one for every worker, none mounted in each.
    own_server = {**base, "WECHAT_API_BASE_URL": "http://127.0.0.1:5055",
                  "WECHATPAY_API_BASE_URL": "http://127.0.0.1:5055"}
    assert "wechat_sandbox" not in create_app(own_server).extensions


def test_the_readme_gunicorn_recipe_shares_one_sandbox_and_one_secret_key():
    readme = (ROOT / "README.md").read_text("utf-8")
    recipe = readme.split("## Against MariaDB and Redis", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    assert "export SECRET_KEY=" in recipe
    assert "micromall sandbox --port 5055" in recipe and "WECHAT_API_BASE_URL=http://127.0.0.1:5055" in recipe
    assert "WECHATPAY_API_BASE_URL=http://127.0.0.1:5055" in recipe and "gunicorn" in recipe
