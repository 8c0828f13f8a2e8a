"""The merchant's side of WeChat Pay API v3 for JSAPI (mini-program) payments: prepay, query, close, refund and
notification parsing. Every request is signed; every answer is verified before anything in it is believed."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import requests
from cryptography.hazmat.primitives.asymmetric import rsa

from payments.wechatpay_v3.crypto import apiv3_key_bytes, decrypt_resource
from payments.wechatpay_v3.errors import MalformedMessageError, WeChatPayAPIError, WeChatPayTransportError
from payments.wechatpay_v3.signing import build_authorization, sign_jsapi_payment
from payments.wechatpay_v3.verify import HEADER_SIGNATURE, WeChatPayVerifier

# WeChat Pay states times as RFC 3339 in China Standard Time.
CHINA_TZ = timezone(timedelta(hours=8), "CST")
USER_AGENT = "micromall-wechatpay-v3/1.0"


def format_time(moment: datetime) -> str:
    """`2024-05-01T12:30:00+08:00`, the form `time_expire` takes."""
    if moment.tzinfo is None:
        raise ValueError("WeChat Pay times must be timezone-aware")
    return moment.astimezone(CHINA_TZ).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Notification:
    id: str
    create_time: str
    event_type: str
    resource_type: str
    summary: str
    resource: dict[str, Any]  # the decrypted transaction or refund


def _encode_json(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _decode_json_object(body: bytes, what: str) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise MalformedMessageError(f"{what} is not JSON") from exc
    if not isinstance(data, dict):
        raise MalformedMessageError(f"{what} is not a JSON object")
    return data


class WeChatPayClient:
    def __init__(
        self,
        base_url: str,
        mchid: str,
        merchant_serial_no: str,
        merchant_private_key: rsa.RSAPrivateKey,
        apiv3_key: str | bytes,
        verifier: WeChatPayVerifier,
        session: requests.Session | None = None,
        timeout: float | tuple[float, float] = (3.05, 10),
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.mchid = mchid
        self.merchant_serial_no = merchant_serial_no
        self._private_key = merchant_private_key
        self._apiv3_key = apiv3_key_bytes(apiv3_key)
        self.verifier = verifier
        self._owns_session = session is None
        self._session = session or requests.Session()
        self.timeout = timeout

    def close_session(self) -> None:
        if self._owns_session:
            self._session.close()

    def __enter__(self) -> WeChatPayClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close_session()

    # -- payments -------------------------------------------------------------------------------------------------

    def jsapi_prepay(
        self,
        appid: str,
        description: str,
        out_trade_no: str,
        notify_url: str,
        total_fen: int,
        payer_openid: str,
        time_expire: datetime,
        attach: str | None = None,
    ) -> str:
        """Create (or, with identical parameters, re-fetch) the prepay order; returns its prepay_id."""
        payload: dict[str, Any] = {
            "appid": appid,
            "mchid": self.mchid,
            "description": description,
            "out_trade_no": out_trade_no,
            "time_expire": format_time(time_expire),
            "notify_url": notify_url,
            "amount": {"total": total_fen, "currency": "CNY"},
            "payer": {"openid": payer_openid},
        }
        if attach is not None:
            payload["attach"] = attach
        data = self._call_json("POST", "/v3/pay/transactions/jsapi", payload=payload)
        prepay_id = data.get("prepay_id")
        if not isinstance(prepay_id, str) or not prepay_id:
            raise MalformedMessageError("prepay answer without prepay_id")
        return prepay_id

    def jsapi_payment_params(self, appid: str, prepay_id: str) -> dict[str, str]:
        """The signed `wx.requestPayment` fields for a prepay_id."""
        return sign_jsapi_payment(appid, prepay_id, self._private_key)

    def query_by_out_trade_no(self, out_trade_no: str) -> dict[str, Any]:
        return self._call_json(
            "GET", f"/v3/pay/transactions/out-trade-no/{quote(out_trade_no, safe='')}", query={"mchid": self.mchid}
        )

    def close(self, out_trade_no: str) -> None:
        """Close an unpaid order (WeChat answers 204); closing an already closed order is harmless."""
        self._call(
            "POST",
            f"/v3/pay/transactions/out-trade-no/{quote(out_trade_no, safe='')}/close",
            payload={"mchid": self.mchid},
        )

    # -- refunds --------------------------------------------------------------------------------------------------

    def refund(
        self,
        out_trade_no: str,
        out_refund_no: str,
        refund_fen: int,
        total_fen: int,
        reason: str | None,
        notify_url: str | None,
    ) -> dict[str, Any]:
        """Ask for a refund; the same out_refund_no repeated refunds once. The answer's `status` is usually
        PROCESSING: the outcome arrives by notification (or `query_refund`)."""
        payload: dict[str, Any] = {
            "out_trade_no": out_trade_no,
            "out_refund_no": out_refund_no,
            "amount": {"refund": refund_fen, "total": total_fen, "currency": "CNY"},
        }
        if reason:
            payload["reason"] = reason
        if notify_url:
            payload["notify_url"] = notify_url
        return self._call_json("POST", "/v3/refund/domestic/refunds", payload=payload)

    def query_refund(self, out_refund_no: str) -> dict[str, Any]:
        return self._call_json("GET", f"/v3/refund/domestic/refunds/{quote(out_refund_no, safe='')}")

    # -- notifications --------------------------------------------------------------------------------------------

    def parse_notification(self, headers: Any, body: bytes) -> Notification:
        """Verify, then parse, then decrypt a payment or refund notification; raises a `WeChatPayError` subclass."""
        self.verifier.verify(headers, body)
        data = _decode_json_object(body, "notification")
        if data.get("resource_type") != "encrypt-resource":
            raise MalformedMessageError(f"unexpected resource_type {data.get('resource_type')!r}")
        for name in ("id", "event_type"):
            if not isinstance(data.get(name), str) or not data[name]:
                raise MalformedMessageError(f"notification without {name}")
        return Notification(
            id=data["id"],
            create_time=str(data.get("create_time", "")),
            event_type=data["event_type"],
            resource_type=data["resource_type"],
            summary=str(data.get("summary", "")),
            resource=decrypt_resource(data.get("resource"), self._apiv3_key),
        )

    # -- transport ------------------------------------------------------------------------------------------------

    def _call_json(self, method: str, path: str, *, query=None, payload=None) -> dict[str, Any]:
        return _decode_json_object(self._call(method, path, query=query, payload=payload), "response")

    def _call(
        self, method: str, path: str, *, query: dict[str, str] | None = None, payload: dict[str, Any] | None = None
    ) -> bytes:
        url = self.base_url + path + (f"?{urlencode(query)}" if query else "")
        body = _encode_json(payload) if payload is not None else b""
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        if payload is not None:
            headers["Content-Type"] = "application/json"
        prepared = self._session.prepare_request(requests.Request(method, url, headers=headers, data=body or None))
        # Sign the URL as requests will put it on the wire (after its own quoting), so both sides agree.
        sent = urlsplit(prepared.url)
        canonical_url = sent.path + (f"?{sent.query}" if sent.query else "")
        prepared.headers["Authorization"] = build_authorization(
            method, canonical_url, body, mchid=self.mchid, serial_no=self.merchant_serial_no,
            private_key=self._private_key,
        )
        settings = self._session.merge_environment_settings(prepared.url, {}, None, None, None)
        try:
            response = self._session.send(prepared, timeout=self.timeout, allow_redirects=False, **settings)
        except requests.RequestException as exc:
            raise WeChatPayTransportError(f"{method} {path}: {type(exc).__name__}: {exc}") from exc
        content = response.content
        if 200 <= response.status_code < 300:
            self.verifier.verify(response.headers, content)
            return content
        raise self._api_error(response.status_code, response.headers, content)

    def _api_error(self, status: int, headers: Any, content: bytes) -> WeChatPayAPIError:
        # WeChat Pay does not sign every error (a request it could not authenticate gets an unsigned 401); a signed
        # error must verify, an unsigned one is reported as unverified and only means "the call failed".
        verified = False
        if headers.get(HEADER_SIGNATURE):
            self.verifier.verify(headers, content)
            verified = True
        try:
            data = json.loads(content) if content else {}
        except ValueError:
            data = {}
        if not isinstance(data, dict):
            data = {}
        return WeChatPayAPIError(
            status, str(data.get("code") or "HTTP_ERROR"), str(data.get("message") or ""), verified=verified
        )
