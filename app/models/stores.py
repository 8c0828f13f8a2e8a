"""A shop: where it is, when it is open, whether it sells."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, Double, ForeignKey, Index, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, utcnow


class Store(db.Model):
    __tablename__ = "stores"
    __table_args__ = (
        # The nearest-store search narrows by a bounding box on these two columns before the exact distance.
        Index("ix_stores_location", "active", "latitude", "longitude"),
        CheckConstraint("latitude BETWEEN -90 AND 90", name="latitude_range"),
        CheckConstraint("longitude BETWEEN -180 AND 180", name="longitude_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    address: Mapped[str] = mapped_column(String(255))
    latitude: Mapped[float] = mapped_column(Double)  # DOUBLE: MySQL FLOAT is single precision, metres off
    longitude: Mapped[float] = mapped_column(Double)
    phone: Mapped[str] = mapped_column(String(32), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    hours: Mapped[list["StoreHours"]] = relationship(
        back_populates="store", cascade="all, delete-orphan", order_by="(StoreHours.weekday, StoreHours.open_min)"
    )


class StoreHours(db.Model):
    """One opening interval on one weekday, in the store's local time, as minutes after midnight.

    `close_min` may be 1440 (midnight at the end of the day); a `close_min` <= `open_min` runs past midnight into
    the next day, so a bar open 18:00-02:00 is one row. Open all day is (0, 1440).
    """

    __tablename__ = "store_hours"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        CheckConstraint("open_min BETWEEN 0 AND 1439", name="open_range"),
        CheckConstraint("close_min BETWEEN 1 AND 1440", name="close_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), index=True)
    weekday: Mapped[int] = mapped_column(SmallInteger)  # 0 = Monday, as datetime.weekday()
    open_min: Mapped[int] = mapped_column(Integer)
    close_min: Mapped[int] = mapped_column(Integer)

    store: Mapped[Store] = relationship(back_populates="hours")
