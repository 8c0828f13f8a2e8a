"""The verifier: public-key mode, platform-certificate mode, both at once, and every way a message can fail."""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from payments.wechatpay_v3 import (
    BadSignatureError,
    MissingHeadersError,
    SignTestProbe,
    TimestampError,
    UnknownSerialError,
    VerificationError,
    WeChatPayError,
    WeChatPayVerifier,
    build_verifier,
    certificate_serial,
    load_platform_certs,
    load_public_key,
)

BODY = b'{"code":"SUCCESS"}'


def _self_signed(key: rsa.RSAPrivateKey, *, valid_from: datetime, valid_to: datetime) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Tenpay.com Root CA sandbox")])
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(valid_from)
        .not_valid_after(valid_to)
        .sign(key, hashes.SHA256())
    )


@pytest.fixture(scope="module")
def platform_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def platform_cert(platform_key) -> x509.Certificate:
    now = datetime.now(timezone.utc)
    return _self_signed(platform_key, valid_from=now - timedelta(days=1), valid_to=now + timedelta(days=365))


def test_valid_signature_passes(verifier, wechatpay_headers):
    verifier.verify(wechatpay_headers(BODY), BODY)


def test_header_names_are_case_insensitive(verifier, wechatpay_headers):
    verifier.verify({k.lower(): v for k, v in wechatpay_headers(BODY).items()}, BODY)


def test_a_changed_body_is_a_bad_signature(verifier, wechatpay_headers):
    with pytest.raises(BadSignatureError):
        verifier.verify(wechatpay_headers(BODY), BODY.replace(b"SUCCESS", b"FAIL"))


def test_a_signature_by_another_key_is_bad(verifier, wechatpay_headers, platform_key):
    with pytest.raises(BadSignatureError):
        verifier.verify(wechatpay_headers(BODY, key=platform_key), BODY)


def test_garbage_signature_is_bad(verifier, wechatpay_headers):
    with pytest.raises(BadSignatureError):
        verifier.verify({**wechatpay_headers(BODY), "Wechatpay-Signature": "!!not base64!!"}, BODY)


def test_unknown_serial(verifier, wechatpay_headers):
    for serial in ("PUB_KEY_ID_0000000000000000000000000000", "7132D72A03E93CDDF8C03BBD1F37EEDF204A0CA6", "zz"):
        with pytest.raises(UnknownSerialError):
            verifier.verify(wechatpay_headers(BODY, serial=serial), BODY)


@pytest.mark.parametrize("offset_s", [-360, 360])
def test_timestamp_six_minutes_off_either_way_is_refused(verifier, wechatpay_headers, offset_s):
    headers = wechatpay_headers(BODY, timestamp=int(time.time()) + offset_s)
    with pytest.raises(TimestampError):
        verifier.verify(headers, BODY)


def test_timestamp_window_uses_the_given_clock(verifier, wechatpay_headers):
    headers = wechatpay_headers(BODY, timestamp=1_700_000_000)
    verifier.verify(headers, BODY, now=1_700_000_000 + 299)
    with pytest.raises(TimestampError):
        verifier.verify(headers, BODY, now=1_700_000_000 + 301)
    with pytest.raises(TimestampError):
        verifier.verify({**headers, "Wechatpay-Timestamp": "soon"}, BODY)


def test_signtest_probe_is_its_own_error(verifier, wechatpay_headers):
    headers = {**wechatpay_headers(BODY), "Wechatpay-Signature": "WECHATPAY/SIGNTEST/ZGVmYXVsdA=="}
    with pytest.raises(SignTestProbe) as exc:
        verifier.verify(headers, BODY)
    assert isinstance(exc.value, VerificationError) and isinstance(exc.value, WeChatPayError)


@pytest.mark.parametrize("missing", ["Wechatpay-Timestamp", "Wechatpay-Nonce", "Wechatpay-Signature",
                                     "Wechatpay-Serial"])
def test_missing_headers(verifier, wechatpay_headers, missing):
    headers = wechatpay_headers(BODY)
    del headers[missing]
    with pytest.raises(MissingHeadersError):
        verifier.verify(headers, BODY)
    with pytest.raises(MissingHeadersError):
        verifier.verify({**wechatpay_headers(BODY), missing: ""}, BODY)


def test_the_failures_are_distinct_types():
    kinds = {MissingHeadersError, UnknownSerialError, TimestampError, BadSignatureError, SignTestProbe}
    assert all(issubclass(k, VerificationError) for k in kinds)
    assert not any(issubclass(a, b) for a in kinds for b in kinds if a is not b)


def test_platform_certificate_mode(platform_key, platform_cert, wechatpay_headers):
    verifier = WeChatPayVerifier(platform_certificates=[platform_cert])
    serial = certificate_serial(platform_cert)
    assert serial == serial.upper() and verifier.serials == [serial]
    verifier.verify(wechatpay_headers(BODY, serial=serial, key=platform_key), BODY)
    verifier.verify(wechatpay_headers(BODY, serial=serial.lower(), key=platform_key), BODY)
    with pytest.raises(BadSignatureError):
        verifier.verify(wechatpay_headers(BODY, serial=serial), BODY)  # signed by the public-key pair instead


def test_expired_platform_certificate_is_not_used(platform_key, wechatpay_headers):
    long_ago = datetime.now(timezone.utc) - timedelta(days=30)
    cert = _self_signed(platform_key, valid_from=long_ago - timedelta(days=365), valid_to=long_ago)
    verifier = WeChatPayVerifier(platform_certificates=[cert])
    with pytest.raises(UnknownSerialError):
        verifier.verify(wechatpay_headers(BODY, serial=certificate_serial(cert), key=platform_key), BODY)


def test_migration_verifier_accepts_both_keys(dev_keys, tmp_path, platform_key, platform_cert, wechatpay_headers):
    cert_dir = tmp_path / "platform-certs"
    cert_dir.mkdir()
    serial = certificate_serial(platform_cert)
    (cert_dir / f"wechatpay_{serial}.pem").write_bytes(platform_cert.public_bytes(serialization.Encoding.PEM))
    (cert_dir / "README.txt").write_text("ignored")
    assert [c.serial_number for c in load_platform_certs(cert_dir)] == [platform_cert.serial_number]

    verifier = build_verifier(dev_keys.wechatpay_public_key_id, dev_keys.wechatpay_public_key_path, cert_dir)
    assert set(verifier.serials) == {dev_keys.wechatpay_public_key_id, serial}
    verifier.verify(wechatpay_headers(BODY), BODY)
    verifier.verify(wechatpay_headers(BODY, serial=serial, key=platform_key), BODY)


def test_verifier_needs_a_key(dev_keys):
    with pytest.raises(ValueError):
        WeChatPayVerifier()
    with pytest.raises(ValueError):
        WeChatPayVerifier("SERIAL123", load_public_key(dev_keys.wechatpay_public_key_path))
    with pytest.raises(ValueError):
        build_verifier(None, dev_keys.wechatpay_public_key_path)
