"""Request signing (the `Authorization` header) and the wx.requestPayment signature, both RSA-SHA256 PKCS#1 v1.5
with the merchant's API private key."""
from __future__ import annotations

import base64
import secrets
import string
import time

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

AUTH_SCHEMA = "WECHATPAY2-SHA256-RSA2048"
_NONCE_ALPHABET = string.ascii_uppercase + string.digits


def new_nonce(length: int = 32) -> str:
    return "".join(secrets.choice(_NONCE_ALPHABET) for _ in range(length))


def rsa_sign(private_key: rsa.RSAPrivateKey, message: bytes) -> str:
    return base64.b64encode(private_key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode("ascii")


def request_message(method: str, canonical_url: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    """`METHOD\\nURL\\nTIMESTAMP\\nNONCE\\nBODY\\n`; built from bytes so the signed body is exactly the sent body."""
    head = f"{method.upper()}\n{canonical_url}\n{timestamp}\n{nonce}\n".encode("utf-8")
    return head + body + b"\n"


def build_authorization(
    method: str,
    canonical_url: str,
    body: bytes,
    *,
    mchid: str,
    serial_no: str,
    private_key: rsa.RSAPrivateKey,
    timestamp: str | None = None,
    nonce: str | None = None,
) -> str:
    """The `Authorization` header value for one request.

    `canonical_url` is the absolute path plus `?query` exactly as it goes on the wire; `body` the exact bytes sent
    (b"" for GET).
    """
    timestamp = timestamp or str(int(time.time()))
    nonce = nonce or new_nonce()
    signature = rsa_sign(private_key, request_message(method, canonical_url, timestamp, nonce, body))
    return (
        f'{AUTH_SCHEMA} mchid="{mchid}",nonce_str="{nonce}",signature="{signature}",'
        f'timestamp="{timestamp}",serial_no="{serial_no}"'
    )


def sign_jsapi_payment(
    appid: str,
    prepay_id: str,
    private_key: rsa.RSAPrivateKey,
    *,
    include_appid: bool = False,
    timestamp: str | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """The fields of the mini-program's `wx.requestPayment` (timeStamp, nonceStr, package, signType, paySign).

    paySign covers `appId\\ntimeStamp\\nnonceStr\\npackage\\n`. The mini-program call takes no appId;
    `include_appid` adds it for WeixinJSBridge pages in the official account, which do need it.
    """
    timestamp = timestamp or str(int(time.time()))
    nonce = nonce or new_nonce()
    package = f"prepay_id={prepay_id}"
    message = f"{appid}\n{timestamp}\n{nonce}\n{package}\n".encode("utf-8")
    fields = {
        "timeStamp": timestamp,
        "nonceStr": nonce,
        "package": package,
        "signType": "RSA",
        "paySign": rsa_sign(private_key, message),
    }
    if include_appid:
        fields = {"appId": appid, **fields}
    return fields
