"""The staff mini-program's accounts: login with the staff app, binding with an invite, a manager's invites."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, Field

from app.models import STAFF_ROLES
from miniprogram_api.schemas.common import Body, Id, Out, text

StaffWxCode = Annotated[text(128), Field(description="the code wx.login() gave the staff mini-program")]


class StaffCodeBody(Body):
    code: StaffWxCode  # type: ignore[valid-type]


class BindBody(Body):
    code: StaffWxCode  # type: ignore[valid-type]
    invite_code: text(64) = Field(  # type: ignore[valid-type]
        description="the one-time code a manager or the CLI gave; case, spaces and dashes do not matter")


def _trimmed(value: object) -> object:
    # params.body_str stripped the role before checking the choice; a non-string is left for the strict check.
    return value.strip() if isinstance(value, str) else value


Role = Annotated[Literal[STAFF_ROLES], BeforeValidator(_trimmed)]  # type: ignore[valid-type]


class InviteBody(Body):
    """`seat_id` names an existing seat of the manager's store (a new phone); without it a new seat is made with
    `role` and `name`."""
    seat_id: Id | None = None
    role: Role | None = Field(None, description="for a new seat; clerk when absent")
    name: text(64, min_length=0) | None = Field(None, description="for a new seat")  # type: ignore[valid-type]


class SeatOut(Out):
    id: int
    store_id: int
    role: str = Field(json_schema_extra={"enum": list(STAFF_ROLES)})
    name: str


class StaffSessionOut(Out):
    token: str = Field(description="send as Authorization: Bearer <token> to the /api/v1/staff operations")
    expires_in: int = Field(ge=0, description="seconds")
    staff: SeatOut


class InviteOut(Out):
    seat: SeatOut
    invite_code: str = Field(description="shown once; only its hash is stored")
    expires_at: str
