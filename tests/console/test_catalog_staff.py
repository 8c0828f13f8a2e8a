"""Catalog (inline stock, prices, CSV import in UTF-8, UTF-8 with BOM and GBK with every bad line named, export),
stores and staff invites."""
from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Product, Sku, StaffSeat, Store, StoreStock
from tests.console.conftest import csrf_token, post, run_jobs

CSV = "category,title,spec,price_fen,store_id,stock\n饮品/果汁,橙汁,大杯,1500,{a},20\n饮品/果汁,橙汁,小杯,1200,{a},8\n"


def _upload(client, data: bytes):
    return client.post("/console/catalog/import", data={
        "file": (io.BytesIO(data), "catalog.csv"), "csrf_token": csrf_token(client, "/console/catalog/import")},
        content_type="multipart/form-data")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_import_preview_then_import(owner, shops, app, encoding):
    preview = _upload(owner, CSV.format(a=shops.store_a).encode(encoding))
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "橙汁" in page and "饮品/果汁" in page
    run = re.search(r"/console/catalog/imports/(\d+)/run", page).group(1)
    with app.app_context():
        assert db.session.scalar(select(Product).where(Product.title == "橙汁")) is None  # nothing yet
    done = post(owner, f"/console/catalog/imports/{run}/run")
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/console/catalog/imports/{run}")
    run_jobs(app)  # with Redis the job waits in RQ; without it, it ran after the commit
    progress = owner.get(f"/console/catalog/imports/{run}.json").get_json()
    assert progress == {"status": "done", "done": 2, "total": 2, "message": ""}
    assert "<progress" in owner.get(f"/console/catalog/imports/{run}").get_data(as_text=True)
    with app.app_context():
        skus = db.session.scalars(select(Sku).join(Product).where(Product.title == "橙汁")).all()
        assert sorted(s.price_fen for s in skus) == [1200, 1500]
        assert db.session.get(StoreStock, (shops.store_a, skus[0].id)).quantity in (20, 8)
    assert post(owner, f"/console/catalog/imports/{run}/run").status_code == 409  # imported once


def test_import_names_every_bad_line_and_imports_nothing(owner, shops, app):
    data = (CSV.format(a=shops.store_a) + "饮品,可乐,罐,abc,,\n饮品,雪碧,罐,300,99999,1\n").encode()
    response = _upload(owner, data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "line 4" in page and "price_fen" in page and "line 5" in page and "store 99999" in page
    assert "confirm-import" not in page
    with app.app_context():
        assert db.session.scalar(select(Product).where(Product.title == "橙汁")) is None


def test_import_refuses_an_unreadable_file(owner, shops):
    assert _upload(owner, b"\xff\xfe\x00garbage\x81").status_code in (400, 422)


def test_export_imports_back(owner, shops):
    response = owner.get("/console/catalog/export.csv")
    text = response.get_data().decode("utf-8-sig")
    assert response.mimetype == "text/csv" and text.splitlines()[0] == "category,title,spec,price_fen,store_id,stock"
    assert f"拿铁,中杯,2800,{shops.store_a},10" in text


def test_inline_stock_edit_answers_json(owner, shops, app):
    token = csrf_token(owner, "/console/catalog")
    response = owner.post("/console/catalog/stock", data={"store_id": shops.store_a, "sku_id": shops.sku_id,
                                                          "quantity": 7},
                          headers={"Accept": "application/json", "X-CSRFToken": token})
    assert response.status_code == 200 and response.get_json()["quantity"] == 7
    bad = owner.post("/console/catalog/stock", data={"store_id": shops.store_a, "sku_id": shops.sku_id,
                                                     "quantity": -1},
                     headers={"Accept": "application/json", "X-CSRFToken": token})
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "invalid_request"
    with app.app_context():
        assert db.session.get(StoreStock, (shops.store_a, shops.sku_id)).quantity == 7


def test_price_change_is_seen_by_the_mini_program(owner, shops, client):
    assert post(owner, "/console/catalog/price", {"sku_id": shops.sku_id, "price_yuan": "29.90"}).status_code == 302
    products = client.get(f"/api/v1/stores/{shops.store_a}/products").get_json()["items"]
    assert products[0]["skus"][0]["price_fen"] == 2990
    assert post(owner, "/console/catalog/price", {"sku_id": shops.sku_id, "price_yuan": "1.234"}).status_code == 400


def test_store_edit(owner, shops, app):
    response = post(owner, f"/console/stores/{shops.store_a}", {
        "name": "甲店（新）", "address": "上海市新路1号", "latitude": "31.2", "longitude": "121.4", "phone": "021",
        "hours": "mon-fri 08:00-22:00; sat,sun 10:00-23:00", "active": "y"})
    assert response.status_code == 302
    bad = post(owner, f"/console/stores/{shops.store_a}", {
        "name": "甲店", "address": "x", "latitude": "31.2", "longitude": "121.4", "hours": "someday 8-9"})
    assert bad.status_code == 400
    with app.app_context():
        store = db.session.get(Store, shops.store_a)
        assert store.name == "甲店（新）" and len(store.hours) == 7
    assert "mon 08:00-22:00" in owner.get(f"/console/stores/{shops.store_a}").get_data(as_text=True)


def test_invite_shows_the_code_once_with_a_qr_and_it_binds(owner, shops, client, app):
    response = post(owner, f"/console/staff/invite?store={shops.store_a}", {"name": "小王", "role": "clerk"})
    page = response.get_data(as_text=True)
    code = re.search(r'id="invite-code">([A-Z0-9-]+)<', page).group(1)
    assert "<svg" in page
    bound = client.post("/api/v1/staff/auth/bind", json={"code": "sandbox-clerk1.1", "invite_code": code})
    assert bound.status_code == 200, bound.get_json()
    with app.app_context():
        seat = db.session.scalar(select(StaffSeat))
        assert seat.name == "小王" and seat.openid
    assert post(owner, f"/console/staff/{seat.id}/disable").status_code == 302
    with app.app_context():
        assert not db.session.get(StaffSeat, seat.id).active


def test_owner_changes_a_seat_role_and_a_manager_cannot(owner, shops, app):
    from app.staff.service import create_seat

    seat = create_seat(shops.store_a, "clerk", "小李")
    db.session.commit()
    assert post(owner, f"/console/staff/{seat.id}/role", {"role": "manager"}).status_code == 302
    assert post(owner, f"/console/staff/{seat.id}/role", {"role": "boss"}).status_code == 400
    db.session.commit()
    assert db.session.get(StaffSeat, seat.id).role == "manager"


def test_owner_creates_and_disables_a_console_user(owner, shops, app):
    page = post(owner, "/console/users", {"username": "newmgr", "role": "manager", "stores": shops.store_a})
    password = re.search(r'<p class="code">([^<]+)</p>', page.get_data(as_text=True)).group(1)
    other = app.test_client()
    from tests.console.conftest import sign_in
    assert sign_in(other, "newmgr", password).status_code == 302
    from app.models import ConsoleUser
    db.session.commit()
    user_id = db.session.scalar(select(ConsoleUser.id).where(ConsoleUser.username == "newmgr"))
    assert post(owner, f"/console/users/{user_id}/disable").status_code == 302
    assert other.get("/console/password").status_code == 302  # signed out at once
    assert sign_in(other, "newmgr", password).status_code == 401


def test_a_large_catalog_upload_passes_the_api_body_cap(owner, shops, app):
    lines = "".join(f"零食,饼干{n},一盒,{100 + n},,\n" for n in range(3000))
    data = ("category,title,spec,price_fen,store_id,stock\n" + lines).encode()
    assert len(data) > app.config["MAX_REQUEST_BYTES"]
    response = _upload(owner, data)
    assert response.status_code == 200 and "3000" in response.get_data(as_text=True)
