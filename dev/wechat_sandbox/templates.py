"""The subscribe and template-message templates the sandbox's merchant "picked" in the WeChat consoles, with their
keywords; `POST /sandbox/templates` adds more. Their ids and keywords match the app's default sandbox mapping
(app/wechat/templates.py), so a mapping that does not fit its template gets 47003 here as on WeChat."""
from __future__ import annotations

SANDBOX_TEMPLATES: dict[str, list[str]] = {
    "sandbox-subscribe-order-paid": ["character_string1", "thing2", "amount3", "time4", "character_string5"],
    "sandbox-subscribe-order-ready": ["character_string1", "thing2", "phrase3", "thing4"],
    "sandbox-subscribe-order-picked-up": ["character_string1", "thing2", "time3"],
    "sandbox-subscribe-order-refunded": ["character_string1", "amount2", "phrase3"],
    "sandbox-oa-order-status": ["character_string1", "thing2", "phrase3", "amount4"],
}
