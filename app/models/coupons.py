"""Coupons: a definition (what it takes off, where, for how long, and the budget that pays for it) and the coupons
issued from it to customers. Alliances of stores that send customers to each other with coupons."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.stores import Store
from app.models.types import UTCDateTime, utcnow

COUPON_KINDS = ("merchant", "alliance", "compensation")
COUPON_STATES = ("available", "locked", "used")  # "expired" is read from expires_at, never written


class CouponDefinition(db.Model):
    """A kind of coupon. The budget (count and fen of coupons issued) is spent by one guarded UPDATE per issue, so
    concurrent claims never take it past its limit; None means no limit (compensation for a late order)."""

    __tablename__ = "coupon_definitions"
    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint("min_spend_fen >= 0", name="min_spend_nonnegative"),
        CheckConstraint("valid_days BETWEEN 1 AND 366", name="valid_days_range"),
        CheckConstraint("budget_count IS NULL OR issued_count <= budget_count", name="count_within_budget"),
        CheckConstraint("budget_fen IS NULL OR issued_fen <= budget_fen", name="fen_within_budget"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # COUPON_KINDS
    title: Mapped[str] = mapped_column(String(60))
    amount_fen: Mapped[int] = mapped_column(Integer)
    min_spend_fen: Mapped[int] = mapped_column(Integer, default=0)
    valid_days: Mapped[int] = mapped_column(Integer)
    per_customer_limit: Mapped[int | None] = mapped_column(Integer)  # None: no limit
    budget_count: Mapped[int | None] = mapped_column(Integer)
    budget_fen: Mapped[int | None] = mapped_column(Integer)
    issued_count: Mapped[int] = mapped_column(Integer, default=0)
    issued_fen: Mapped[int] = mapped_column(Integer, default=0)
    # The store that pays for the discount (None: the merchant); the store where a coupon is redeemed pays for it.
    funded_by_store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    stores: Mapped[list[Store]] = relationship(secondary="coupon_definition_stores", order_by="Store.id")


class CouponDefinitionStore(db.Model):
    """Where coupons of a definition may be used."""

    __tablename__ = "coupon_definition_stores"

    definition_id: Mapped[int] = mapped_column(ForeignKey("coupon_definitions.id", ondelete="CASCADE"),
                                               primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), primary_key=True)


class Coupon(db.Model):
    """One coupon held by one customer. available -> locked (by an unpaid order, orders.coupon_id) -> used (paid);
    locked -> available when that order is cancelled or expires. Every move is a guarded UPDATE on status."""

    __tablename__ = "coupons"
    __table_args__ = (
        # The n-th coupon of a definition for a customer: two concurrent claims over the limit collide here.
        UniqueConstraint("definition_id", "customer_id", "claim_no"),
        # At most one coupon of a definition earned by one order (compensation, alliance reward): jobs may repeat.
        UniqueConstraint("definition_id", "source_order_id"),
        Index("ix_coupons_customer_status", "customer_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("coupon_definitions.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    claim_no: Mapped[int] = mapped_column(Integer)
    amount_fen: Mapped[int] = mapped_column(Integer)
    min_spend_fen: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12), default="available")
    # The order that earned it (late, or a pickup at an alliance member); not a foreign key: orders already point
    # here through orders.coupon_id, and a cycle of keys would make the schema order-dependent.
    source_order_id: Mapped[int | None] = mapped_column(Integer)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    definition: Mapped[CouponDefinition] = relationship(lazy="joined", innerjoin=True)


class Alliance(db.Model):
    __tablename__ = "alliances"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    members: Mapped[list["AllianceMember"]] = relationship(order_by="AllianceMember.store_id",
                                                           cascade="all, delete-orphan")


class AllianceMember(db.Model):
    """A store in an alliance, with the coupon it offers to customers of the other members (funded by itself,
    valid only at itself, within its own budget)."""

    __tablename__ = "alliance_members"

    alliance_id: Mapped[int] = mapped_column(ForeignKey("alliances.id", ondelete="CASCADE"), primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), primary_key=True, index=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("coupon_definitions.id"))
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    definition: Mapped[CouponDefinition] = relationship(lazy="joined", innerjoin=True)
