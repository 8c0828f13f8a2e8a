"""AEAD_AES_256_GCM with the APIv3 key: how WeChat Pay encrypts notification resources (and platform certificates)."""
from __future__ import annotations

import base64
import binascii
import json
import secrets
import string
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from payments.wechatpay_v3.errors import DecryptError

ALGORITHM = "AEAD_AES_256_GCM"
_NONCE_ALPHABET = string.ascii_letters + string.digits


def apiv3_key_bytes(apiv3_key: str | bytes) -> bytes:
    key = apiv3_key.encode("utf-8") if isinstance(apiv3_key, str) else apiv3_key
    if len(key) != 32:
        raise ValueError("the APIv3 key must be exactly 32 bytes")
    return key


def aes_gcm_decrypt(apiv3_key: str | bytes, nonce: str, ciphertext_b64: str, associated_data: str = "") -> bytes:
    aesgcm = AESGCM(apiv3_key_bytes(apiv3_key))  # a wrong-length key is a configuration error, not bad data
    try:
        data = base64.b64decode(ciphertext_b64, validate=True)
        return aesgcm.decrypt(
            nonce.encode("utf-8"), data, associated_data.encode("utf-8")
        )
    except (InvalidTag, binascii.Error, ValueError) as exc:
        raise DecryptError(f"cannot decrypt resource: {type(exc).__name__}") from exc


def aes_gcm_encrypt(apiv3_key: str | bytes, nonce: str, plaintext: bytes, associated_data: str = "") -> str:
    data = AESGCM(apiv3_key_bytes(apiv3_key)).encrypt(nonce.encode("utf-8"), plaintext, associated_data.encode("utf-8"))
    return base64.b64encode(data).decode("ascii")


def decrypt_resource(resource: Any, apiv3_key: str | bytes) -> dict[str, Any]:
    """Decrypt a notification's `resource` object into the JSON object it carries."""
    if not isinstance(resource, dict):
        raise DecryptError("resource is not an object")
    if resource.get("algorithm") != ALGORITHM:
        raise DecryptError(f"unsupported algorithm {resource.get('algorithm')!r}")
    nonce, ciphertext = resource.get("nonce"), resource.get("ciphertext")
    associated_data = resource.get("associated_data") or ""
    if not (isinstance(nonce, str) and nonce and isinstance(ciphertext, str) and ciphertext):
        raise DecryptError("resource lacks nonce or ciphertext")
    if not isinstance(associated_data, str):
        raise DecryptError("associated_data is not a string")
    plaintext = aes_gcm_decrypt(apiv3_key, nonce, ciphertext, associated_data)
    try:
        data = json.loads(plaintext)
    except ValueError as exc:
        raise DecryptError("decrypted resource is not JSON") from exc
    if not isinstance(data, dict):
        raise DecryptError("decrypted resource is not a JSON object")
    return data


def encrypt_resource(
    data: dict[str, Any], apiv3_key: str | bytes, *, original_type: str, associated_data: str | None = None
) -> dict[str, str]:
    """The counterpart of `decrypt_resource`, as WeChat Pay builds it (12-character nonce, associated_data = type)."""
    nonce = "".join(secrets.choice(_NONCE_ALPHABET) for _ in range(12))
    associated_data = original_type if associated_data is None else associated_data
    plaintext = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return {
        "original_type": original_type,
        "algorithm": ALGORITHM,
        "ciphertext": aes_gcm_encrypt(apiv3_key, nonce, plaintext, associated_data),
        "associated_data": associated_data,
        "nonce": nonce,
    }
