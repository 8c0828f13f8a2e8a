"""Verification of WeChat Pay's signature on responses and notifications.

WeChat Pay signs with either its public-key pair (`Wechatpay-Serial: PUB_KEY_ID_…`) or, in the older mode, a
platform certificate (serial = the certificate's serial number in hex). A verifier may hold both at once, which is
how a merchant migrates from certificates to the public key without downtime.
"""
from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from payments.wechatpay_v3.errors import (
    BadSignatureError,
    MissingHeadersError,
    SignTestProbe,
    TimestampError,
    UnknownSerialError,
)

PUBLIC_KEY_ID_PREFIX = "PUB_KEY_ID_"
SIGNTEST_PREFIX = "WECHATPAY/SIGNTEST/"
# WeChat Pay's guidance: refuse messages whose timestamp is more than 5 minutes from our clock, either way.
MAX_SKEW_S = 300

HEADER_TIMESTAMP = "Wechatpay-Timestamp"
HEADER_NONCE = "Wechatpay-Nonce"
HEADER_SIGNATURE = "Wechatpay-Signature"
HEADER_SERIAL = "Wechatpay-Serial"


def message_to_verify(timestamp: str, nonce: str, body: bytes) -> bytes:
    return f"{timestamp}\n{nonce}\n".encode("utf-8") + body + b"\n"


def certificate_serial(cert: x509.Certificate) -> str:
    return format(cert.serial_number, "X")


class WeChatPayVerifier:
    def __init__(
        self,
        public_key_id: str | None = None,
        public_key: rsa.RSAPublicKey | None = None,
        platform_certificates: Iterable[x509.Certificate] = (),
    ) -> None:
        if (public_key_id is None) != (public_key is None):
            raise ValueError("public_key_id and public_key go together")
        if public_key_id is not None and not public_key_id.startswith(PUBLIC_KEY_ID_PREFIX):
            raise ValueError(f"a WeChat Pay public key id starts with {PUBLIC_KEY_ID_PREFIX}")
        self._public_keys: dict[str, rsa.RSAPublicKey] = {}
        if public_key_id is not None and public_key is not None:
            self._public_keys[public_key_id] = public_key
        # Keyed by the serial as an integer, so a header with or without leading zeros finds the same certificate.
        self._certificates: dict[int, x509.Certificate] = {c.serial_number: c for c in platform_certificates}
        if not self._public_keys and not self._certificates:
            raise ValueError("a verifier needs the WeChat Pay public key or at least one platform certificate")

    @property
    def serials(self) -> list[str]:
        return [*self._public_keys, *(certificate_serial(c) for c in self._certificates.values())]

    def verify(self, headers: Mapping[str, str], body: bytes, now: float | None = None) -> None:
        """Raise a `VerificationError` subclass unless `body` carries WeChat Pay's valid, fresh signature."""
        lowered = {str(k).lower(): v for k, v in headers.items()}
        values = {}
        for name in (HEADER_TIMESTAMP, HEADER_NONCE, HEADER_SIGNATURE, HEADER_SERIAL):
            value = lowered.get(name.lower())
            if not value:
                raise MissingHeadersError(f"missing header {name}")
            values[name] = value
        signature = values[HEADER_SIGNATURE]
        if signature.startswith(SIGNTEST_PREFIX):
            raise SignTestProbe("WeChat Pay signature probe")
        timestamp = values[HEADER_TIMESTAMP]
        # ASCII digits only: str.isdigit() also passes "²" and other Unicode digits that int() refuses (a 500).
        if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
            raise TimestampError("Wechatpay-Timestamp is not a number")
        now = time.time() if now is None else now
        if abs(now - int(timestamp)) > MAX_SKEW_S:
            raise TimestampError("Wechatpay-Timestamp is outside the 5-minute window")
        key = self._key_for(values[HEADER_SERIAL], now)
        try:
            raw_signature = base64.b64decode(signature, validate=True)
            key.verify(
                raw_signature,
                message_to_verify(timestamp, values[HEADER_NONCE], body),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
        except (InvalidSignature, binascii.Error, ValueError) as exc:
            raise BadSignatureError("signature does not verify") from exc

    def _key_for(self, serial: str, now: float) -> rsa.RSAPublicKey:
        if serial.startswith(PUBLIC_KEY_ID_PREFIX):
            key = self._public_keys.get(serial)
            if key is None:
                raise UnknownSerialError(f"unknown WeChat Pay public key {serial}")
            return key
        try:
            cert = self._certificates.get(int(serial, 16))
        except ValueError:
            cert = None
        if cert is None:
            raise UnknownSerialError(f"unknown serial {serial}")
        moment = datetime.fromtimestamp(now, timezone.utc)
        if not cert.not_valid_before_utc <= moment <= cert.not_valid_after_utc:
            raise UnknownSerialError(f"platform certificate {serial} is not valid now")
        key = cert.public_key()
        if not isinstance(key, rsa.RSAPublicKey):
            raise UnknownSerialError(f"platform certificate {serial} does not hold an RSA key")
        return key
