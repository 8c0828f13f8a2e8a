"""Which store a page is about: one the operator may see, chosen by ?store= or the first of theirs."""
from __future__ import annotations

from flask import g, request

from app.errors import NotFound
from app.models import Store
from app.operators import accounts


def chosen_store(write: bool = False) -> tuple[Store, list[Store]]:
    stores = accounts.visible_stores(g.operator)
    raw = request.values.get("store", "")
    if raw:
        if not raw.isdigit():
            raise NotFound("门店不存在。")
        return accounts.require_store(g.operator, int(raw), write), stores
    if not stores:
        raise NotFound("你还没有可以管理的门店。")
    if write:
        accounts.require_writer(g.operator)
    return stores[0], stores


def store_ids() -> set[int] | None:
    return accounts.store_ids_of(g.operator)


def actor() -> str:
    return f"console:{g.operator.id}"
