"""WeChat Pay API v3, merchant side: request signing, response and notification verification, AES-GCM resources,
and a small client for JSAPI payments and refunds. No Flask and nothing of the project: `cryptography` and
`requests` only."""
from payments.wechatpay_v3.client import CHINA_TZ, Notification, WeChatPayClient, format_time
from payments.wechatpay_v3.config import build_verifier, load_platform_certs, load_private_key, load_public_key
from payments.wechatpay_v3.crypto import aes_gcm_decrypt, aes_gcm_encrypt, decrypt_resource, encrypt_resource
from payments.wechatpay_v3.errors import (
    BadSignatureError,
    DecryptError,
    MalformedMessageError,
    MissingHeadersError,
    SignTestProbe,
    TimestampError,
    UnknownSerialError,
    VerificationError,
    WeChatPayAPIError,
    WeChatPayError,
    WeChatPayTransportError,
)
from payments.wechatpay_v3.signing import build_authorization, new_nonce, rsa_sign, sign_jsapi_payment
from payments.wechatpay_v3.verify import WeChatPayVerifier, certificate_serial

__all__ = [
    "CHINA_TZ",
    "BadSignatureError",
    "DecryptError",
    "MalformedMessageError",
    "MissingHeadersError",
    "Notification",
    "SignTestProbe",
    "TimestampError",
    "UnknownSerialError",
    "VerificationError",
    "WeChatPayAPIError",
    "WeChatPayClient",
    "WeChatPayError",
    "WeChatPayTransportError",
    "WeChatPayVerifier",
    "aes_gcm_decrypt",
    "aes_gcm_encrypt",
    "build_authorization",
    "build_verifier",
    "certificate_serial",
    "decrypt_resource",
    "encrypt_resource",
    "format_time",
    "load_platform_certs",
    "load_private_key",
    "load_public_key",
    "new_nonce",
    "rsa_sign",
    "sign_jsapi_payment",
]
