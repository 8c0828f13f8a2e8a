"""Commission: each store's rules and the append-only ledger of what seats earned, lost and were adjusted."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, event
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, utcnow

ENTRY_KINDS = ("earned", "reversed", "adjusted")


class CommissionRule(db.Model):
    """A store's rule: basis points of the amount paid go to the seat the order carries, and/or a fixed amount per
    handover goes to the seat that redeems the pickup code. No row: no commission."""

    __tablename__ = "commission_rules"
    __table_args__ = (CheckConstraint("rate_bp BETWEEN 0 AND 10000", name="rate_range"),
                      CheckConstraint("per_handover_fen >= 0", name="per_handover_non_negative"))

    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True)
    rate_bp: Mapped[int] = mapped_column(Integer, default=0)
    per_handover_fen: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class CommissionEntry(db.Model):
    """One line of the ledger, never changed or deleted: corrections are new lines. `entry_key` is unique and says
    what the line is for (`earn:attribution:<order>`, `earn:handover:<order>`, `reverse:<entry>`, `adjust:<uuid>`),
    so no pickup, refund or retry can write the same line twice, whatever runs at the same time."""

    __tablename__ = "commission_entries"
    __table_args__ = (
        CheckConstraint("kind IN ('earned', 'reversed', 'adjusted')", name="kind_known"),
        Index("ix_commission_entries_seat_at", "seat_id", "created_at"),
        Index("ix_commission_entries_store_at", "store_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_key: Mapped[str] = mapped_column(String(64), unique=True)
    seat_id: Mapped[int] = mapped_column(ForeignKey("staff_seats.id"))
    # The store the seat earned it at (a seat moved to another store keeps its history where it was made).
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    basis: Mapped[str] = mapped_column(String(16))  # attribution, handover, manual
    amount_fen: Mapped[int] = mapped_column(Integer)  # signed: reversals are negative
    reason: Mapped[str] = mapped_column(String(200), default="")
    actor: Mapped[str] = mapped_column(String(64))  # "staff:3", "system:refund", "cli"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


@event.listens_for(CommissionEntry, "before_update")
@event.listens_for(CommissionEntry, "before_delete")
def _append_only(mapper, connection, target) -> None:
    raise RuntimeError("the commission ledger is append-only: add a correcting entry instead")
