"""NOTIFICATION_TEMPLATES: which template each message uses and how its keywords are filled, and the fitting of
values to WeChat's rules per keyword type.

The merchant picks templates in the WeChat consoles; each template has its own keywords (`thing2`,
`character_string1`, …) whose type is the name without its number. WeChat answers 47003 when a value breaks the
type's rule, so values are fitted here instead of being sent as they are. Rules (subscribe-message documentation,
"订阅消息参数值内容限制说明", developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/mp-message-management/
subscribe-message/sendMessage.html): thing ≤ 20 characters; number ≤ 32 digits; letter ≤ 32 letters;
symbol ≤ 5; character_string ≤ 32 digits/letters/symbols; time and date "2019年10月1日 15:01"-like; amount one
currency sign and ≤ 10 digits with decimals; phone_number ≤ 17 digits/symbols; car_number ≤ 8; name ≤ 10 Chinese
characters or 20 letters; phrase ≤ 5 Chinese characters. Empty values are refused (47003 "value is empty").
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

SUBSCRIBE_MESSAGES = ("order_paid", "order_ready", "order_picked_up", "order_refunded")
OA_MESSAGE = "oa_order_status"
MESSAGES = SUBSCRIBE_MESSAGES + (OA_MESSAGE,)
VALUES = ("order_no", "store_name", "store_address", "items", "payable", "total", "status", "paid_at", "ready_at",
          "picked_up_at", "promised_ready_at", "pickup_code", "pickup_deadline", "refund_amount")
KEYWORD_TYPES = ("thing", "number", "letter", "symbol", "character_string", "time", "date", "amount",
                 "phone_number", "car_number", "name", "phrase", "enum")
KEYWORD_RE = re.compile(r"^([a-z_]+?)(\d+)$")
# Official-account template messages may still use the old keys (first, keyword1, remark): taken as text.
OA_FREE_KEY_RE = re.compile(r"^(first|remark|keyword\d+)$")
TEMPLATE_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
BEIJING = timezone(timedelta(hours=8))

# With WECHAT_SANDBOX=1 and no file: the templates the sandbox registers (wechat_sandbox/templates.py).
SANDBOX_NOTIFICATION_TEMPLATES = {
    "order_paid": {"template_id": "sandbox-subscribe-order-paid", "fields": {
        "character_string1": "order_no", "thing2": "store_name", "amount3": "payable", "time4": "paid_at",
        "character_string5": "pickup_code"}},
    "order_ready": {"template_id": "sandbox-subscribe-order-ready", "fields": {
        "character_string1": "order_no", "thing2": "store_name", "phrase3": "status", "thing4": "store_address"}},
    "order_picked_up": {"template_id": "sandbox-subscribe-order-picked-up", "fields": {
        "character_string1": "order_no", "thing2": "store_name", "time3": "picked_up_at"}},
    "order_refunded": {"template_id": "sandbox-subscribe-order-refunded", "fields": {
        "character_string1": "order_no", "amount2": "refund_amount", "phrase3": "status"}},
    "oa_order_status": {"template_id": "sandbox-oa-order-status", "fields": {
        "character_string1": "order_no", "thing2": "store_name", "phrase3": "status", "amount4": "total"}},
}


@dataclass(frozen=True)
class Template:
    message: str
    template_id: str
    fields: dict[str, str]  # keyword -> value name


def parse_templates(raw: object) -> tuple[dict[str, Template], list[str]]:
    """(templates by message, problems); any problem refuses to start."""
    problems: list[str] = []
    templates: dict[str, Template] = {}
    if not isinstance(raw, dict):
        return {}, ["NOTIFICATION_TEMPLATES: the file must hold a JSON object keyed by message"]
    for message, entry in raw.items():
        where = f"NOTIFICATION_TEMPLATES {message!r}"
        if message not in MESSAGES:
            problems.append(f"{where}: unknown message; one of {', '.join(MESSAGES)}")
            continue
        if not isinstance(entry, dict) or not isinstance(entry.get("template_id"), str) \
                or not TEMPLATE_ID_RE.match(entry["template_id"]):
            problems.append(f"{where}: needs a template_id (the id the WeChat console shows)")
            continue
        fields = entry.get("fields")
        if not isinstance(fields, dict) or not fields:
            problems.append(f"{where}: needs fields {{keyword: value}}")
            continue
        for keyword, value in fields.items():
            kind = keyword_type(keyword)
            if kind is None and not (message == OA_MESSAGE and OA_FREE_KEY_RE.match(str(keyword))):
                problems.append(f"{where}: keyword {keyword!r} is not <type><number> with a type of "
                                f"{', '.join(KEYWORD_TYPES)}")
            if value not in VALUES:
                problems.append(f"{where}: {keyword} names unknown value {value!r}; one of {', '.join(VALUES)}")
        templates[message] = Template(message, entry["template_id"], dict(fields))
    ids = [t.template_id for t in templates.values() if t.message in SUBSCRIBE_MESSAGES]
    if len(set(ids)) != len(ids):
        # Grants are per template: two messages on one template would spend each other's grants.
        problems.append("NOTIFICATION_TEMPLATES: each subscribe message needs its own template_id")
    return templates, problems


def load_templates(path: str | None, sandbox: bool) -> tuple[dict[str, Template], list[str]]:
    if not path:
        return parse_templates(SANDBOX_NOTIFICATION_TEMPLATES) if sandbox else ({}, [])
    try:
        with open(path, encoding="utf-8") as handle:
            raw = json.load(handle)
    except (OSError, ValueError) as exc:
        return {}, [f"NOTIFICATION_TEMPLATES={path!r} cannot be read as JSON: {exc}"]
    return parse_templates(raw)


def keyword_type(keyword: str) -> str | None:
    match = KEYWORD_RE.match(keyword)
    return match.group(1) if match and match.group(1) in KEYWORD_TYPES else None


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _format_time(value: datetime) -> str:
    return value.astimezone(BEIJING).strftime("%Y年%m月%d日 %H:%M")


def fit(keyword: str, value: object, now: datetime) -> str:
    """The value as WeChat accepts it for this keyword's type; never empty."""
    kind = keyword_type(keyword)
    if kind in ("time", "date"):
        when = value if isinstance(value, datetime) else now
        text = _format_time(when)
        return text if kind == "time" else text.split(" ")[0]
    if kind == "amount":
        fen = value if isinstance(value, int) else 0
        return f"¥{fen // 100}.{fen % 100:02d}"
    text = "" if value is None else str(value)
    if kind == "thing":
        return _cut(text, 20) or "-"
    if kind == "phrase":
        chinese = "".join(ch for ch in text if "\u4e00" <= ch <= "\u9fff")
        return chinese[:5] or "无"
    if kind == "character_string":
        ascii_text = "".join(ch for ch in text if 33 <= ord(ch) < 127)
        return ascii_text[:32] or "-"
    if kind == "number":
        return "".join(ch for ch in text if ch.isdigit() or ch == ".")[:32] or "0"
    if kind == "letter":
        return "".join(ch for ch in text if ch.isascii() and ch.isalpha())[:32] or "x"
    if kind == "symbol":
        return text[:5] or "-"
    if kind == "phone_number":
        return "".join(ch for ch in text if ch.isdigit() or ch in "+-")[:17] or "-"
    if kind == "name":
        return text[:10] or "-"
    if kind == "car_number":
        return text[:8] or "-"
    return _cut(text, 20) or "-"  # old official-account keys (first, keywordN, remark), enum
