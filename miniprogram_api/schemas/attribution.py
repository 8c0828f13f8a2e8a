"""The scene the consumer mini-program was opened with (issue 17)."""
from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from app.attribution.scenes import WECHAT_SCENE
from miniprogram_api.schemas.common import Body, Out

# What WeChat can hand the mini-program as a code's scene: at most 32 visible ASCII characters of its set.
Scene = Annotated[str, StringConstraints(strip_whitespace=True, pattern=WECHAT_SCENE.pattern)]


class AttributionBody(Body):
    scene: Scene = Field(description="the `scene` of the launch options (decoded), a staff seat's or a store's code")


class ArrivalStoreOut(Out):
    id: int
    name: str


class ArrivalStaffOut(Out):
    seat_id: int
    name: str


class ArrivalOut(Out):
    outcome: str = Field(json_schema_extra={"enum": ["attributed", "kept", "store"]},
                         description="attributed: this seat owns the customer now; kept: an earlier one still does; "
                                     "store: a store's code")
    store: ArrivalStoreOut
    staff: ArrivalStaffOut | None = Field(description="the seat owning the customer at this store, if any")
    attributed_until: str | None
