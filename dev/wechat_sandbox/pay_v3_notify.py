"""Payment and refund notifications, as WeChat Pay sends them: a signed JSON envelope around an AES-256-GCM
encrypted resource, POSTed to the notify_url from the background, retried on `notify_schedule_s` until the
merchant answers 200 or 204. A notification keeps its id across retries and re-sends, so receivers can dedupe."""
from __future__ import annotations

import json
import threading
import time
import uuid
from typing import Any

import requests

from wechat_sandbox import pay_v3_crypto as crypto
from wechat_sandbox.pay_v3_common import pay_area
from wechat_sandbox.settings import SandboxSettings
from wechat_sandbox.state import SandboxState

TAMPER_MODES = ("signature", "amount", "mchid", "appid", "timestamp_old")
SUMMARIES = {
    "TRANSACTION.SUCCESS": "支付成功",
    "REFUND.SUCCESS": "退款成功",
    "REFUND.ABNORMAL": "退款异常",
    "REFUND.CLOSED": "退款关闭",
}
DELIVERED_STATUSES = (200, 204)
_TIMEOUT_S = (3.05, 5)


def tamper_resource(resource: dict[str, Any], tamper: str | None) -> dict[str, Any]:
    """A resource that is correctly signed and encrypted but says something other than the truth."""
    resource = json.loads(json.dumps(resource))
    if tamper == "amount":
        resource["amount"]["total"] += 1
        resource["amount"]["payer_total"] = resource["amount"].get("payer_total", 0) + 1
    elif tamper == "mchid":
        resource["mchid"] = "1900000000" if resource["mchid"] != "1900000000" else "1900000099"
    elif tamper == "appid":
        resource["appid"] = "wx0000000000tampered"
    return resource


def create(
    st: SandboxState,
    settings: SandboxSettings,
    *,
    subject: tuple[str, str],
    event_type: str,
    resource: dict[str, Any],
    notify_url: str | None,
    tamper: str | None = None,
) -> dict[str, Any]:
    """Build and remember a notification for `subject` (("transaction", out_trade_no) or ("refund", no))."""
    original_type = subject[0]
    envelope = {
        "id": str(uuid.uuid4()),
        "create_time": crypto.china_now(),
        "resource_type": "encrypt-resource",
        "event_type": event_type,
        "summary": SUMMARIES[event_type],
        "resource": crypto.encrypt_resource(settings, tamper_resource(resource, tamper), original_type),
    }
    note = {
        "id": envelope["id"],
        "event_type": event_type,
        "subject": list(subject),
        "notify_url": notify_url,
        "tamper": tamper,
        # Serialized once: every attempt sends (and signs) exactly these bytes.
        "body": json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode("utf-8"),
        "attempts": 0,
        "delivered": False,
    }
    with st.lock:
        area = pay_area(st)
        area["notifications"][note["id"]] = note
        area["last_notification"][subject] = note["id"]
    return note


def last_for(st: SandboxState, subject: tuple[str, str]) -> dict[str, Any] | None:
    with st.lock:
        area = pay_area(st)
        nid = area["last_notification"].get(subject)
        return area["notifications"].get(nid) if nid else None


def dispatch(st: SandboxState, settings: SandboxSettings, note: dict[str, Any], *, times: int = 1,
             concurrent: bool = False) -> None:
    """Deliver `note` `times` times from background threads, never inside the request that caused it."""
    if not note["notify_url"]:
        st.record("notify", {"id": note["id"], "event_type": note["event_type"], "skipped": "no notify_url"})
        return
    if concurrent:
        for _ in range(times):
            _start(st, settings, note, 1)
    else:
        _start(st, settings, note, times)


def record_lost(st: SandboxState, note: dict[str, Any]) -> None:
    st.record("notify", {"id": note["id"], "event_type": note["event_type"], "url": note["notify_url"], "lost": True})


def _start(st: SandboxState, settings: SandboxSettings, note: dict[str, Any], times: int) -> None:
    thread = threading.Thread(
        target=_deliver_times, args=(st, settings, note, times), name=f"pay-notify:{note['id']}", daemon=True
    )
    thread.start()


def _deliver_times(st: SandboxState, settings: SandboxSettings, note: dict[str, Any], times: int) -> None:
    for _ in range(times):
        _deliver(st, settings, note)


def _deliver(st: SandboxState, settings: SandboxSettings, note: dict[str, Any]) -> None:
    waits = (0.0, *settings.notify_schedule_s)
    for retry, wait in enumerate(waits):
        if wait:
            time.sleep(wait)
        if not _still_known(st, note):
            return  # the sandbox was reset: this notification no longer exists
        status, error = _attempt(settings, note)
        ok = status in DELIVERED_STATUSES
        with st.lock:
            note["attempts"] += 1
            note["delivered"] = note["delivered"] or ok
        st.record("notify", {
            "id": note["id"],
            "event_type": note["event_type"],
            "url": note["notify_url"],
            "retry": retry,
            "status": status,
            "error": error,
            "delivered": ok,
            "tamper": note["tamper"],
        })
        if ok:
            return


def _still_known(st: SandboxState, note: dict[str, Any]) -> bool:
    with st.lock:
        return pay_area(st)["notifications"].get(note["id"]) is note


def _attempt(settings: SandboxSettings, note: dict[str, Any]) -> tuple[int | None, str | None]:
    body: bytes = note["body"]
    tamper = note["tamper"]
    # An old timestamp is still correctly signed: only the receiver's freshness check can catch it.
    timestamp = int(time.time()) - 600 if tamper == "timestamp_old" else None
    headers = crypto.signed_headers(settings, body, timestamp=timestamp)
    if tamper == "signature":
        headers["Wechatpay-Signature"] = crypto.sign(
            settings, headers["Wechatpay-Timestamp"], headers["Wechatpay-Nonce"], body + b" "
        )
    headers.update({
        "Content-Type": "application/json",
        "Request-ID": crypto.nonce(32).upper(),
        "User-Agent": "Mozilla/4.0",
    })
    try:
        response = requests.post(note["notify_url"], data=body, headers=headers, timeout=_TIMEOUT_S)
    except requests.RequestException as exc:
        return None, f"{type(exc).__name__}: {exc}"
    with response:
        return response.status_code, None
