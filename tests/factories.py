"""Factory helpers: rows made through the same domain functions the app uses, committed, ids returned."""
from __future__ import annotations

import itertools
from dataclasses import dataclass

from app.catalog.stock import set_quantity
from app.extensions import db
from app.models import Category, Product, Sku
from app.stores.admin import create_store

_counter = itertools.count(1)


def store(name: str | None = None, lat: float = 31.2243, lng: float = 121.4458,
          hours: str = "daily 00:00-24:00") -> int:
    s = create_store(name or f"测试店{next(_counter)}", "上海市测试路1号", lat, lng, "021-00000000", hours)
    db.session.commit()
    return s.id


@dataclass
class MadeProduct:
    product_id: int
    sku_ids: list[int]
    category_id: int


def product(title: str | None = None, specs: tuple[tuple[str, int], ...] = (("标准", 1000),),
            category_id: int | None = None, stock: dict[int, int] | None = None) -> MadeProduct:
    """A product with SKUs; `stock` maps store_id -> quantity for every SKU."""
    if category_id is None:
        category = Category(name=f"分类{next(_counter)}")
        db.session.add(category)
        db.session.flush()
        category_id = category.id
    p = Product(category_id=category_id, title=title or f"商品{next(_counter)}")
    p.skus = [Sku(spec=spec, price_fen=price) for spec, price in specs]
    db.session.add(p)
    db.session.flush()
    for store_id, quantity in (stock or {}).items():
        for sku in p.skus:
            set_quantity(store_id, sku.id, quantity)
    db.session.commit()
    return MadeProduct(p.id, [s.id for s in p.skus], category_id)


def login(client, openid: str = "alice") -> dict[str, str]:
    """Log in through the sandbox's code2session (a fresh one-time code `sandbox-<openid>.<n>` each time, as
    wx.login gives); returns the auth header."""
    response = client.post("/api/v1/auth/login", json={"code": f"sandbox-{openid}.{next(_counter)}"})
    assert response.status_code == 200, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


def staff_seat(client, store_id: int, role: str = "clerk") -> tuple[int, dict[str, str]]:
    """A staff seat of the store, bound through the API with a one-time invite (its openid is `staff<seat id>`);
    returns the seat id and its auth header."""
    from app.staff.service import create_invite, create_seat

    seat = create_seat(store_id, role, f"{role}{next(_counter)}")
    invite_code, _ = create_invite(seat, "test")
    db.session.commit()
    response = client.post("/api/v1/staff/auth/bind", json={"code": f"sandbox-staff{seat.id}.{next(_counter)}",
                                                            "invite_code": invite_code})
    assert response.status_code == 200, response.get_json()
    return seat.id, {"Authorization": f"Bearer {response.get_json()['token']}"}


def staff_login(client, seat_id: int) -> dict[str, str]:
    """A fresh token of a bound seat, from the staff app's login; returns the auth header."""
    response = client.post("/api/v1/staff/auth/login", json={"code": f"sandbox-staff{seat_id}.{next(_counter)}"})
    assert response.status_code == 200, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['token']}"}
