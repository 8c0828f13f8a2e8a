"""The monthly commission statement: one row per seat and store where it earned, with its entries and sums. The
merchant console shows the same rows (`statement_rows`)."""
from __future__ import annotations

import csv
import io

from sqlalchemy import func, select

from app.commission.periods import Period
from app.extensions import db
from app.models import CommissionEntry, StaffSeat

COLUMNS = ("seat_id", "name", "role", "store_id", "entries", "earned_fen", "reversed_fen", "adjusted_fen",
           "net_fen")


def statement_rows(period: Period, store_id: int | None = None) -> list[dict]:
    query = (select(CommissionEntry.seat_id, CommissionEntry.store_id, CommissionEntry.kind,
                    func.count(CommissionEntry.id), func.sum(CommissionEntry.amount_fen))
             .where(CommissionEntry.created_at >= period.start, CommissionEntry.created_at < period.end)
             .group_by(CommissionEntry.seat_id, CommissionEntry.store_id, CommissionEntry.kind))
    if store_id is not None:
        query = query.where(CommissionEntry.store_id == store_id)
    rows: dict[tuple[int, int], dict] = {}
    for seat_id, entry_store, kind, count, total in db.session.execute(query):
        row = rows.get((seat_id, entry_store))
        if row is None:
            seat = db.session.get(StaffSeat, seat_id)
            row = rows[(seat_id, entry_store)] = {
                "seat_id": seat_id, "name": seat.name, "role": seat.role, "store_id": entry_store, "entries": 0,
                "earned_fen": 0, "reversed_fen": 0, "adjusted_fen": 0, "net_fen": 0}
        row["entries"] += int(count)
        row[f"{kind}_fen"] += int(total or 0)
        row["net_fen"] += int(total or 0)
    return [rows[key] for key in sorted(rows, key=lambda k: (k[1], k[0]))]


def statement_csv(period: Period, store_id: int | None = None) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in statement_rows(period, store_id):
        writer.writerow(row)
    return out.getvalue()
