"""Development keys: made once, private keys private, stable across calls and across concurrent first calls."""
from __future__ import annotations

import ast
import dataclasses
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from micromall_dev import dev_keys as dev_keys_module
from micromall_dev.dev_keys import ensure_dev_keys
from payments.wechatpay_v3 import load_private_key, load_public_key


def test_first_call_creates_keys_later_calls_read_them(tmp_path):
    keys = ensure_dev_keys(tmp_path)
    assert keys.directory == tmp_path / "wechatpay-dev"
    assert keys.mchid == "1900000001"
    assert re.fullmatch(r"PUB_KEY_ID_\d+", keys.wechatpay_public_key_id)
    assert re.fullmatch(r"[0-9A-F]{40}", keys.merchant_serial_no)
    assert len(keys.apiv3_key) == 32 and keys.apiv3_key.isascii() and keys.apiv3_key.isalnum()
    for path in (keys.merchant_private_key_path, keys.wechatpay_private_key_path):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    merchant = load_private_key(keys.merchant_private_key_path)
    assert merchant.key_size == 2048
    assert merchant.public_key().public_numbers() == load_public_key(keys.merchant_public_key_path).public_numbers()
    wechatpay = load_private_key(keys.wechatpay_private_key_path)
    assert wechatpay.public_key().public_numbers() == load_public_key(keys.wechatpay_public_key_path).public_numbers()
    assert merchant.private_numbers() != wechatpay.private_numbers()

    assert ensure_dev_keys(tmp_path) == keys
    with pytest.raises(dataclasses.FrozenInstanceError):
        keys.mchid = "1"  # type: ignore[misc]


def test_concurrent_first_calls_agree(tmp_path):
    script = (
        "import sys; from micromall_dev.dev_keys import ensure_dev_keys; "
        "print(ensure_dev_keys(sys.argv[1]).apiv3_key)"
    )
    root = Path(__file__).resolve().parents[2]
    procs = [
        subprocess.Popen([sys.executable, "-c", script, str(tmp_path)], cwd=root, stdout=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    outputs = {proc.communicate(timeout=60)[0].strip() for proc in procs}
    assert all(proc.returncode == 0 for proc in procs)
    assert outputs == {ensure_dev_keys(tmp_path).apiv3_key}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["wechatpay-dev"]  # no staging directory left behind


def test_dev_keys_module_does_not_import_flask():
    # Checked on the source: the `app` package itself may load Flask, the module must not need it.
    tree = ast.parse(Path(dev_keys_module.__file__).read_text("utf-8"))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not any(name.split(".")[0] == "flask" for name in imported)
