"""WeChat Pay's side of the v3 cryptography: it verifies the merchant's request signature, signs its own answers
and notifications, and encrypts notification resources with the APIv3 key.

The sandbox is a separate protocol peer, so it carries its own few lines of crypto rather than the project's client.
"""
from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
import string
import time
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import load_pem_private_key, load_pem_public_key

from wechat_sandbox.settings import SandboxSettings

AUTH_SCHEMA = "WECHATPAY2-SHA256-RSA2048"
MAX_SKEW_S = 300
CHINA_TZ = timezone(timedelta(hours=8))
_AUTH_PARAM_RE = re.compile(r'(\w+)="([^"]*)"')
_ALNUM = string.ascii_letters + string.digits


class SignError(Exception):
    """The request's Authorization does not prove it comes from the merchant."""


def nonce(length: int = 32) -> str:
    return "".join(secrets.choice(_ALNUM) for _ in range(length))


def china_now() -> str:
    return datetime.now(CHINA_TZ).isoformat(timespec="seconds")


@lru_cache(maxsize=8)
def _private_key(pem: bytes) -> rsa.RSAPrivateKey:
    key = load_pem_private_key(pem, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise TypeError("the WeChat Pay private key must be RSA")
    return key


@lru_cache(maxsize=8)
def _public_key(pem: bytes) -> rsa.RSAPublicKey:
    key = load_pem_public_key(pem)
    if not isinstance(key, rsa.RSAPublicKey):
        raise TypeError("the merchant public key must be RSA")
    return key


def verify_request(
    settings: SandboxSettings, method: str, uri: str, body: bytes, authorization: str, now: float | None = None
) -> None:
    """Check an `Authorization: WECHATPAY2-SHA256-RSA2048 mchid=…,nonce_str=…,signature=…,timestamp=…,serial_no=…`."""
    schema, _, params_text = authorization.partition(" ")
    if schema != AUTH_SCHEMA:
        raise SignError("Authorization 头的认证类型不是 WECHATPAY2-SHA256-RSA2048")
    params = dict(_AUTH_PARAM_RE.findall(params_text))
    missing = [k for k in ("mchid", "nonce_str", "signature", "timestamp", "serial_no") if not params.get(k)]
    if missing:
        raise SignError(f"Authorization 缺少参数 {','.join(missing)}")
    if params["mchid"] != settings.mchid:
        raise SignError("商户号与 Authorization 中的 mchid 不匹配")
    if params["serial_no"] != settings.merchant_serial_no:
        raise SignError("商户证书序列号有误")
    if not params["timestamp"].isdigit():
        raise SignError("timestamp 不是数字")
    now = time.time() if now is None else now
    if abs(now - int(params["timestamp"])) > MAX_SKEW_S:
        raise SignError("请求的时间戳已过期或超前")
    message = f"{method}\n{uri}\n{params['timestamp']}\n{params['nonce_str']}\n".encode("utf-8") + body + b"\n"
    try:
        _public_key(settings.merchant_public_key_pem).verify(
            base64.b64decode(params["signature"], validate=True), message, padding.PKCS1v15(), hashes.SHA256()
        )
    except (InvalidSignature, binascii.Error, ValueError) as exc:
        raise SignError("签名错误，请检查后再试") from exc


def sign(settings: SandboxSettings, timestamp: str, nonce_str: str, body: bytes) -> str:
    message = f"{timestamp}\n{nonce_str}\n".encode("utf-8") + body + b"\n"
    key = _private_key(settings.wechatpay_private_key_pem)
    return base64.b64encode(key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode("ascii")


def signed_headers(settings: SandboxSettings, body: bytes, *, timestamp: int | None = None) -> dict[str, str]:
    """The headers WeChat Pay puts on every answer and notification it signs."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    nonce_str = nonce()
    return {
        "Wechatpay-Serial": settings.wechatpay_public_key_id,
        "Wechatpay-Timestamp": ts,
        "Wechatpay-Nonce": nonce_str,
        "Wechatpay-Signature": sign(settings, ts, nonce_str, body),
        "Wechatpay-Signature-Type": AUTH_SCHEMA,
    }


def encrypt_resource(settings: SandboxSettings, data: dict[str, Any], original_type: str) -> dict[str, str]:
    """AEAD_AES_256_GCM with the APIv3 key; WeChat uses a 12-character nonce and the type as associated data."""
    nonce_str = nonce(12)
    plaintext = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    ciphertext = AESGCM(settings.apiv3_key.encode("utf-8")).encrypt(
        nonce_str.encode("utf-8"), plaintext, original_type.encode("utf-8")
    )
    return {
        "original_type": original_type,
        "algorithm": "AEAD_AES_256_GCM",
        "ciphertext": base64.b64encode(ciphertext).decode("ascii"),
        "associated_data": original_type,
        "nonce": nonce_str,
    }
