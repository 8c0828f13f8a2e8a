"""Development WeChat Pay keys: a merchant key pair, a sandbox "WeChat Pay" key pair and an APIv3 key, made once
per instance folder so the project and the sandbox agree on them without anyone holding a merchant account.

They are created in a private temporary directory and renamed into place in one step: two processes starting at
once both generate, exactly one rename wins, and the other reads the winner's keys. Never used in production.
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import string
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

DIR_NAME = "wechatpay-dev"
DEV_MCHID = "1900000001"
_META = "meta.json"
_FILES = {
    "merchant_private_key_path": "merchant_private_key.pem",
    "merchant_public_key_path": "merchant_public_key.pem",
    "wechatpay_private_key_path": "wechatpay_private_key.pem",
    "wechatpay_public_key_path": "wechatpay_public_key.pem",
}


@dataclass(frozen=True)
class DevPayKeys:
    directory: Path
    mchid: str
    merchant_serial_no: str
    merchant_private_key_path: Path
    merchant_public_key_path: Path
    wechatpay_public_key_id: str
    wechatpay_private_key_path: Path
    wechatpay_public_key_path: Path
    apiv3_key: str


def ensure_dev_keys(instance_path: str | os.PathLike[str]) -> DevPayKeys:
    target = Path(instance_path) / DIR_NAME
    if not (target / _META).exists():
        _create(target)
    return _read(target)


def _create(target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{DIR_NAME}-", dir=target.parent))  # mode 0700
    try:
        merchant_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        wechatpay_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        _write(staging / _FILES["merchant_private_key_path"], _private_pem(merchant_key), private=True)
        _write(staging / _FILES["merchant_public_key_path"], _public_pem(merchant_key), private=False)
        _write(staging / _FILES["wechatpay_private_key_path"], _private_pem(wechatpay_key), private=True)
        _write(staging / _FILES["wechatpay_public_key_path"], _public_pem(wechatpay_key), private=False)
        alphabet = string.ascii_letters + string.digits
        meta = {
            "mchid": DEV_MCHID,
            # A merchant API certificate serial is 40 hex digits; a WeChat Pay public key id is PUB_KEY_ID_ + digits.
            "merchant_serial_no": secrets.token_hex(20).upper(),
            "wechatpay_public_key_id": "PUB_KEY_ID_" + "".join(secrets.choice(string.digits) for _ in range(28)),
            "apiv3_key": "".join(secrets.choice(alphabet) for _ in range(32)),
        }
        _write(staging / _META, json.dumps(meta, indent=2).encode("utf-8"), private=True)
        try:
            # Atomic: fails when another process already put a complete set in place.
            os.rename(staging, target)
        except OSError:
            if not (target / _META).exists():
                raise
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def _read(target: Path) -> DevPayKeys:
    meta = json.loads((target / _META).read_text("utf-8"))
    paths = {field: target / name for field, name in _FILES.items()}
    missing = [str(p) for p in paths.values() if not p.exists()]
    if missing:
        raise RuntimeError(f"incomplete development keys in {target}: missing {', '.join(missing)}")
    return DevPayKeys(
        directory=target,
        mchid=meta["mchid"],
        merchant_serial_no=meta["merchant_serial_no"],
        wechatpay_public_key_id=meta["wechatpay_public_key_id"],
        apiv3_key=meta["apiv3_key"],
        **paths,
    )


def _private_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _public_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _write(path: Path, data: bytes, *, private: bool) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if private else 0o644)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
