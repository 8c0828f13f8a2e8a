"""The scenes of staff and store mini-program codes.

A scene is what WeChat hands the mini-program when someone scans a code made by `wxa/getwxacodeunlimit`: at most 32
visible characters from `0-9A-Za-z!#$&'()*+,/:;=?@-._~` (WeChat's documentation of getUnlimitedQRCode, "scene").
Ours are 20 random letters and digits from `secrets` (about 119 bits): opaque, unguessable, and free of the
punctuation that the mini-program would have to URL-decode. A scene names its owner only through this table.
Rotation gives the owner a new scene; the old one keeps working for ATTRIBUTION_SCENE_GRACE_D days, then stops.
"""
from __future__ import annotations

import re
import secrets
import string
from datetime import timedelta

from flask import current_app
from sqlalchemy import ColumnElement, select, update

from app.errors import ApiError, NotFound, invalid_field
from app.extensions import db
from app.models import AttributionScene, StaffSeat, Store, utcnow

SCENE_ALPHABET = string.ascii_letters + string.digits
SCENE_LENGTH = 20
# Everything WeChat would accept as a scene; anything else cannot have come from a code and is a 400.
WECHAT_SCENE = re.compile(r"^[0-9A-Za-z!#$&'()*+,/:;=?@\-._~]{1,32}$")


class SceneExpired(ApiError):
    status, code = 410, "scene_expired"


def _new_scene() -> str:
    return "".join(secrets.choice(SCENE_ALPHABET) for _ in range(SCENE_LENGTH))


def _current(store_id: int, seat_id: int | None) -> AttributionScene | None:
    owner = AttributionScene.seat_id.is_(None) if seat_id is None else AttributionScene.seat_id == seat_id
    return db.session.scalar(select(AttributionScene).where(
        AttributionScene.store_id == store_id, owner, AttributionScene.valid_until.is_(None))
        .order_by(AttributionScene.id).limit(1))


def current_scene(store_id: int, seat_id: int | None = None) -> AttributionScene:
    """The owner's current scene, made on first use. Flushes; the caller commits. Two first uses at once may both
    make one: both work, and the older is the one handed out from then on."""
    scene = _current(store_id, seat_id)
    if scene is None:
        scene = AttributionScene(scene=_new_scene(), store_id=store_id, seat_id=seat_id, created_at=utcnow())
        db.session.add(scene)
        db.session.flush()
    return scene


def retire(store_id: int | None, seat_id: int | None, until) -> int:
    """Every current scene of the owner (a seat anywhere when store_id is None) works until `until`, then stops."""
    conditions: list[ColumnElement[bool]] = [AttributionScene.valid_until.is_(None)]
    conditions.append(AttributionScene.seat_id.is_(None) if seat_id is None else AttributionScene.seat_id == seat_id)
    if store_id is not None:
        conditions.append(AttributionScene.store_id == store_id)
    result = db.session.execute(update(AttributionScene).where(*conditions).values(valid_until=until)
                                .execution_options(synchronize_session=False))
    return result.rowcount or 0


def rotate(store_id: int, seat_id: int | None = None) -> AttributionScene:
    """A new scene for the owner; the old ones keep working for the grace period. Flushes."""
    grace = timedelta(days=current_app.config["ATTRIBUTION_SCENE_GRACE_D"])
    retire(store_id, seat_id, utcnow() + grace)
    scene = AttributionScene(scene=_new_scene(), store_id=store_id, seat_id=seat_id, created_at=utcnow())
    db.session.add(scene)
    db.session.flush()
    return scene


def resolve(raw: str) -> AttributionScene:
    """The live scene `raw` names: 400 when WeChat could never have sent it, 404 `scene_not_found` when it is not
    ours, 410 `scene_expired` when its grace period is over, its seat disabled or its store closed for good."""
    if not WECHAT_SCENE.match(raw):
        raise invalid_field("scene", "is not a mini-program code scene")
    scene = db.session.scalar(select(AttributionScene).where(AttributionScene.scene == raw))
    # MariaDB's utf8mb4_unicode_ci compares case-insensitively: the exact (and constant-time) check is ours.
    if scene is None or not secrets.compare_digest(scene.scene, raw):
        raise NotFound("This code is not one of ours.", code="scene_not_found")
    now = utcnow()
    if scene.valid_until is not None and scene.valid_until <= now:
        raise SceneExpired("This code has been replaced; ask the store for its current one.")
    store = db.session.get(Store, scene.store_id)
    if store is None or not store.active:
        raise SceneExpired("This code's store no longer takes orders.")
    if scene.seat_id is not None:
        seat = db.session.get(StaffSeat, scene.seat_id)
        if seat is None or not seat.active or seat.store_id != scene.store_id:
            raise SceneExpired("This staff code is no longer in use.")
    return scene
