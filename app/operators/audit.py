"""The console's audit log: one append-only row per change, with the values before and after."""
from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.models import ConsoleAuditEntry, ConsoleUser, utcnow


def _text(value: Any) -> str:
    return "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def record(user: ConsoleUser | None, action: str, target: str, before: Any, after: Any,
           store_id: int | None = None) -> None:
    """Written in the caller's transaction, so a change and its record commit (or roll back) together."""
    db.session.add(ConsoleAuditEntry(user_id=user.id if user else None, action=action, target=target[:128],
                                     store_id=store_id, before=_text(before), after=_text(after), at=utcnow()))


def recent(store_ids: set[int] | None, limit: int = 100) -> list[ConsoleAuditEntry]:
    query = select(ConsoleAuditEntry).order_by(ConsoleAuditEntry.id.desc()).limit(limit)
    if store_ids is not None:
        query = query.where(ConsoleAuditEntry.store_id.in_(store_ids or [-1]))
    return list(db.session.scalars(query))
