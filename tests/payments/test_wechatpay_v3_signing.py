"""Request signing and the AES-GCM resources, checked against the protocol's byte-level definitions."""
from __future__ import annotations

import base64
import re

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from payments.wechatpay_v3 import (
    DecryptError,
    build_authorization,
    decrypt_resource,
    encrypt_resource,
    load_private_key,
    load_public_key,
    sign_jsapi_payment,
)

AUTH_RE = re.compile(
    r'^WECHATPAY2-SHA256-RSA2048 mchid="(?P<mchid>\d+)",nonce_str="(?P<nonce>[A-Z0-9]{32})",'
    r'signature="(?P<signature>[A-Za-z0-9+/=]+)",timestamp="(?P<timestamp>\d+)",serial_no="(?P<serial>[0-9A-F]{40})"$'
)


def test_authorization_header_signs_method_url_timestamp_nonce_and_exact_body(dev_keys):
    body = '{"description":"拿铁"}'.encode()
    header = build_authorization(
        "POST", "/v3/pay/transactions/jsapi", body, mchid=dev_keys.mchid, serial_no=dev_keys.merchant_serial_no,
        private_key=load_private_key(dev_keys.merchant_private_key_path),
    )
    match = AUTH_RE.match(header)
    assert match, header
    assert match["mchid"] == dev_keys.mchid and match["serial"] == dev_keys.merchant_serial_no
    message = f"POST\n/v3/pay/transactions/jsapi\n{match['timestamp']}\n{match['nonce']}\n".encode() + body + b"\n"
    load_public_key(dev_keys.merchant_public_key_path).verify(
        base64.b64decode(match["signature"]), message, padding.PKCS1v15(), hashes.SHA256()
    )


def test_get_request_signs_the_query_and_an_empty_body(dev_keys):
    header = build_authorization(
        "GET", "/v3/pay/transactions/out-trade-no/A1?mchid=1900000001", b"", mchid="1900000001",
        serial_no=dev_keys.merchant_serial_no, private_key=load_private_key(dev_keys.merchant_private_key_path),
        timestamp="1700000000", nonce="N" * 32,
    )
    signature = AUTH_RE.match(header)["signature"]
    message = b"GET\n/v3/pay/transactions/out-trade-no/A1?mchid=1900000001\n1700000000\n" + b"N" * 32 + b"\n\n"
    load_public_key(dev_keys.merchant_public_key_path).verify(
        base64.b64decode(signature), message, padding.PKCS1v15(), hashes.SHA256()
    )


def test_jsapi_payment_fields(dev_keys):
    fields = sign_jsapi_payment("wxapp", "wx2024", load_private_key(dev_keys.merchant_private_key_path),
                                include_appid=True, timestamp="1700000000", nonce="abc")
    assert fields["appId"] == "wxapp" and fields["package"] == "prepay_id=wx2024"
    load_public_key(dev_keys.merchant_public_key_path).verify(
        base64.b64decode(fields["paySign"]), b"wxapp\n1700000000\nabc\nprepay_id=wx2024\n",
        padding.PKCS1v15(), hashes.SHA256(),
    )


def test_resource_round_trip_and_failures(dev_keys):
    data = {"out_trade_no": "MM1", "amount": {"total": 1}, "summary": "支付成功"}
    resource = encrypt_resource(data, dev_keys.apiv3_key, original_type="transaction")
    assert resource["algorithm"] == "AEAD_AES_256_GCM" and len(resource["nonce"]) == 12
    assert resource["associated_data"] == "transaction"
    assert decrypt_resource(resource, dev_keys.apiv3_key) == data

    with pytest.raises(DecryptError):
        decrypt_resource(resource, "x" * 32)  # another key
    with pytest.raises(DecryptError):
        decrypt_resource({**resource, "associated_data": "refund"}, dev_keys.apiv3_key)
    with pytest.raises(DecryptError):
        decrypt_resource({**resource, "algorithm": "AEAD_AES_128_GCM"}, dev_keys.apiv3_key)
    with pytest.raises(DecryptError):
        decrypt_resource({**resource, "ciphertext": "not base64!"}, dev_keys.apiv3_key)
    flipped = base64.b64decode(resource["ciphertext"])
    flipped = bytes([flipped[0] ^ 1]) + flipped[1:]
    with pytest.raises(DecryptError):
        decrypt_resource({**resource, "ciphertext": base64.b64encode(flipped).decode()}, dev_keys.apiv3_key)
    with pytest.raises(DecryptError):
        decrypt_resource("resource", dev_keys.apiv3_key)
    with pytest.raises(ValueError):
        decrypt_resource(resource, "too short")
