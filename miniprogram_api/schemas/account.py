"""Login, the customer, the phone number, subscribe-message grants, the official-account link."""
from __future__ import annotations

from typing import Annotated

from pydantic import Field

from miniprogram_api.schemas.common import Body, Out, text

WxCode = Annotated[text(128), Field(description="the code wx.login() or getPhoneNumber gave the mini-program")]


class CodeBody(Body):
    code: WxCode  # type: ignore[valid-type]


class CustomerOut(Out):
    id: int
    phone: str | None = Field(description="masked, as on a receipt")
    has_phone: bool
    created_at: str | None


class LoginOut(Out):
    token: str = Field(description="send as Authorization: Bearer <token>")
    expires_in: int = Field(ge=0, description="seconds")
    customer: CustomerOut


class SubscriptionResultsBody(Body):
    # Checked against the configured template ids by the service; the size bound keeps a hostile body small.
    results: dict[Annotated[str, Field(max_length=128)], Annotated[str, Field(max_length=32)]] = Field(
        min_length=1, max_length=32, description="{template_id: accept|reject|ban|filter} (and WeChat's errMsg)")


class SubscriptionsOut(Out):
    ask: list[str] = Field(max_length=3, description="templates to request next, most useful first")
    grants: dict[str, int] = Field(description="{template_id: sends remaining}")


class LinkBody(Body):
    token: text(64)  # type: ignore[valid-type]


class LinkOut(Out):
    linked: bool
    following: bool
