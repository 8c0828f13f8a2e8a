"""Attribution fixtures: the pickup fixtures (a shop, paid orders, bound staff), and scenes, rules and ledger
helpers."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.attribution.scenes import current_scene
from app.commission.ledger import set_rule
from app.extensions import db
from app.models import AttributionEvent, CommissionEntry, CustomerAttribution
from tests.pickup.conftest import paid_order, shop, staff_member  # noqa: F401 (fixtures)

ATTRIBUTION, REDEEM = "/api/v1/me/attribution", "/api/v1/staff/pickups/redeem"


def scene_of(store_id: int, seat_id: int | None = None) -> str:
    db.session.rollback()  # a fresh snapshot (MariaDB: repeatable read)
    scene = current_scene(store_id, seat_id).scene
    db.session.commit()
    return scene


def rule(store_id: int, rate_bp: int = 0, per_handover_fen: int = 0) -> None:
    set_rule(store_id, rate_bp, per_handover_fen)
    db.session.commit()


def entries(**filters) -> list[tuple[int, str, str, int]]:
    """(seat_id, kind, basis, amount_fen) of the ledger lines, oldest first."""
    db.session.rollback()
    return [(e.seat_id, e.kind, e.basis, e.amount_fen)
            for e in db.session.scalars(select(CommissionEntry).filter_by(**filters).order_by(CommissionEntry.id))]


def net(seat_id: int) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.coalesce(func.sum(CommissionEntry.amount_fen), 0))
                             .where(CommissionEntry.seat_id == seat_id))


def attribution_rows() -> tuple[int, int]:
    db.session.rollback()
    return (db.session.scalar(select(func.count()).select_from(CustomerAttribution)),
            db.session.scalar(select(func.count()).select_from(AttributionEvent)))


@pytest.fixture
def arrive(client):
    def post(headers: dict[str, str], scene, expect: int | None = 200):
        response = client.post(ATTRIBUTION, headers=headers, json={"scene": scene})
        if expect is not None:
            assert response.status_code == expect, response.get_json()
        return response

    return post
