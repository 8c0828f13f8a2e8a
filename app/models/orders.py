"""An order at one store: its lines (snapshots of what was bought), and its append-only event log."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.payments import Payment
from app.models.stores import Store
from app.models.types import UTCDateTime, utcnow


class OrderStatus(str, enum.Enum):
    PENDING_PAYMENT = "pending_payment"
    PAID = "paid"
    READY = "ready"
    PICKED_UP = "picked_up"
    CANCELLED = "cancelled"
    REFUNDING = "refunding"
    REFUNDED = "refunded"
    # WeChat refused or closed the refund: the money is still with the shop and a person must act.
    REFUND_FAILED = "refund_failed"

    def __str__(self) -> str:
        return self.value


def _payable_by_default(context) -> int:
    """An order written without payable_fen (no coupon) pays its total."""
    values = context.get_current_parameters()
    return values["total_fen"] - (values.get("discount_fen") or 0)


class Order(db.Model):
    __tablename__ = "orders"
    __table_args__ = (
        # The same Idempotency-Key from the same customer can make one order only.
        UniqueConstraint("customer_id", "idempotency_key"),
        CheckConstraint("total_fen > 0", name="total_positive"),
        Index("ix_orders_status_expires_at", "status", "expires_at"),
        Index("ix_orders_customer_created", "customer_id", "created_at"),
        Index("ix_orders_store_status", "store_id", "status"),
        Index("ix_orders_promise_due", "promise_outcome", "promised_ready_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_no: Mapped[str] = mapped_column(String(32), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    status: Mapped[str] = mapped_column(String(20), default=OrderStatus.PENDING_PAYMENT.value)
    total_fen: Mapped[int] = mapped_column(Integer)
    # What the coupon takes off and what WeChat Pay is asked for (total_fen - discount_fen, at least 1 fen): the
    # prepay, the notification check, refunds and reconciliation all use payable_fen.
    discount_fen: Mapped[int] = mapped_column(Integer, default=0)
    payable_fen: Mapped[int] = mapped_column(Integer, default=_payable_by_default)
    coupon_id: Mapped[int | None] = mapped_column(ForeignKey("coupons.id"), index=True)
    pickup_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the customer's chosen time, if any
    promised_ready_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # set when paid
    promise_outcome: Mapped[str | None] = mapped_column(String(8))  # None until judged: "kept" or "late", once
    remark: Mapped[str] = mapped_column(String(200), default="")
    idempotency_key: Mapped[str | None] = mapped_column(String(64))
    # SHA-256 of the request that made the order: a repeated key with a different request is refused.
    request_hash: Mapped[str] = mapped_column(String(64), default="")
    # Whether this order currently holds stock at its store; every move of stock flips it in the same transaction,
    # so a release can never run twice.
    stock_reserved: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)

    store: Mapped["Store"] = relationship(lazy="joined", innerjoin=True)
    items: Mapped[list["OrderItem"]] = relationship(back_populates="order", order_by="OrderItem.sku_id")
    events: Mapped[list["OrderEvent"]] = relationship(order_by="OrderEvent.id", viewonly=True)
    payment: Mapped["Payment | None"] = relationship(viewonly=True, uselist=False)


class OrderItem(db.Model):
    """A line as it was bought: title, spec and price are copied, so later catalog edits do not rewrite history."""

    __tablename__ = "order_items"
    __table_args__ = (
        UniqueConstraint("order_id", "sku_id"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    title: Mapped[str] = mapped_column(String(120))
    spec: Mapped[str] = mapped_column(String(120))
    unit_price_fen: Mapped[int] = mapped_column(Integer)
    quantity: Mapped[int] = mapped_column(Integer)

    order: Mapped[Order] = relationship(back_populates="items")


class OrderEvent(db.Model):
    """One row per status change (append-only): from, to, why and who."""

    __tablename__ = "order_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(64))  # "customer:12", "system:payment_timeout", "staff:3"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CartItem(db.Model):
    """The server-side cart: one row per customer, store and SKU."""

    __tablename__ = "cart_items"
    __table_args__ = (CheckConstraint("quantity BETWEEN 1 AND 99", name="quantity_range"),)

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), primary_key=True)
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"), primary_key=True)
    quantity: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
