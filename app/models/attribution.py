"""Who brought a customer to a store: the opaque scenes of the mini-program codes (a staff seat's or a store's
counter code), the customer's attribution at each store, the log of every arrival, and the seat an order carries."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, utcnow

ARRIVAL_SOURCES = ("staff_code", "store_code")


class AttributionScene(db.Model):
    """The scene of one mini-program code (getwxacodeunlimit): random, opaque, unique. `seat_id` is empty for a
    store's counter code. Rotating a code gives the owner a new scene and sets `valid_until` on the old one, which
    keeps working until then (printed cards in customers' hands) and is refused after."""

    __tablename__ = "attribution_scenes"
    __table_args__ = (Index("ix_attribution_scenes_owner", "store_id", "seat_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scene: Mapped[str] = mapped_column(String(32), unique=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    seat_id: Mapped[int | None] = mapped_column(ForeignKey("staff_seats.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Empty while this is the owner's current scene.
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CustomerAttribution(db.Model):
    """A customer at one store (one row per pair): which seat owns them, until when, and how they first came.
    A seat takes the customer only when no seat holds them (`seat_id` empty or `seat_until` past), by a guarded
    UPDATE, so of two clerks' codes scanned at the same moment one wins."""

    __tablename__ = "customer_attributions"
    __table_args__ = (UniqueConstraint("customer_id", "store_id"),
                      Index("ix_customer_attributions_seat", "seat_id", "seat_since"))

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    first_source: Mapped[str] = mapped_column(String(16))
    first_arrived_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    seat_id: Mapped[int | None] = mapped_column(ForeignKey("staff_seats.id"))
    seat_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    seat_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AttributionEvent(db.Model):
    """Append-only: every accepted arrival (a scan reported by the mini-program) and what it did — `attributed`
    (the seat took the customer), `kept` (a seat already held them), `store` (a store code). The per-store funnel
    and the seats' "customers attributed" are counted from here, so history survives a takeover after the window."""

    __tablename__ = "attribution_events"
    __table_args__ = (
        CheckConstraint("outcome IN ('attributed', 'kept', 'store')", name="outcome_known"),
        Index("ix_attribution_events_store_at", "store_id", "at"),
        Index("ix_attribution_events_seat_at", "seat_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    scene_id: Mapped[int] = mapped_column(ForeignKey("attribution_scenes.id"))
    seat_id: Mapped[int | None] = mapped_column(ForeignKey("staff_seats.id"))  # the scene's seat
    outcome: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OrderAttribution(db.Model):
    """The seat an order was placed under (the seat holding its customer at its store when it was placed). Its own
    table, so the orders table stays as it is."""

    __tablename__ = "order_attributions"

    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True)
    seat_id: Mapped[int] = mapped_column(ForeignKey("staff_seats.id"), index=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
