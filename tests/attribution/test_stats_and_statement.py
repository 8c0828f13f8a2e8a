"""What staff see (their stats, the store's leaderboard), a seat moved to another store, the monthly statement,
and the codes."""
import csv
import io
import json
from datetime import timedelta

import pytest
from sqlalchemy import update

from app.extensions import db
from app.models import CommissionEntry, OrderEvent, utcnow
from tests import factories
from tests.attribution.conftest import ATTRIBUTION, REDEEM, rule, scene_of
from tests.pickup.conftest import sandbox_records

STATS, BOARD = "/api/v1/staff/me/stats", "/api/v1/staff/leaderboard"


def arrive_and_order(client, shop, paid_order, seat_id, openid, quantity=1):
    client.post(ATTRIBUTION, headers=factories.login(client, openid), json={"scene": scene_of(shop.store_id, seat_id)})
    return paid_order(shop, openid, quantity)


def test_a_clerk_sees_customers_orders_handovers_and_commission(client, shop, paid_order, staff_member, app_ctx):
    rule(shop.store_id, rate_bp=1000, per_handover_fen=100)
    clerk = staff_member(shop.store_id)
    first = arrive_and_order(client, shop, paid_order, clerk.seat_id, "alice", 2)  # 5600
    arrive_and_order(client, shop, paid_order, clerk.seat_id, "bob")  # 2800, not picked up
    assert client.post(f"/api/v1/staff/orders/{first.order_no}/ready", headers=clerk.headers).status_code == 200
    # Ready 12 minutes before the handover.
    db.session.execute(update(OrderEvent).where(OrderEvent.order_id == first.order_id, OrderEvent.to_status == "ready")
                       .values(created_at=utcnow() - timedelta(minutes=12)))
    db.session.commit()
    assert client.post(REDEEM, headers=clerk.headers, json={"code": first.code}).status_code == 200
    body = client.get(STATS, headers=clerk.headers).get_json()
    assert body["customers_attributed"] == 2 and body["orders"] == 2 and body["amount_paid_fen"] == 8400
    assert body["handovers"] == 1 and 11.9 <= body["median_ready_to_handover_min"] <= 12.1
    assert body["commission"] == {"earned_fen": 660, "reversed_fen": 0, "adjusted_fen": 0, "net_fen": 660}
    # A period before any of it.
    empty = client.get(f"{STATS}?from=2020-01-01&to=2020-01-31", headers=clerk.headers).get_json()
    assert empty["orders"] == 0 and empty["commission"]["net_fen"] == 0
    assert empty["period"]["from"].startswith("2019-12-31T16:00:00")  # local midnight, Asia/Shanghai


@pytest.mark.parametrize("query", ["from=yesterday", "from=2026-13-01", "to=2026-01-01T00:00:00",
                                   "from=2026-02-01&to=2026-01-01", "from=2020-01-01&to=2026-01-01",
                                   "from=0001-01-01T00:00:00%2B08:00", "to=9999-12-31", "from=２０２６-０１-０１"])
def test_bad_periods_are_400(client, shop, staff_member, query, app_ctx):
    response = client.get(f"{STATS}?{query}", headers=staff_member(shop.store_id).headers)
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "invalid_request", query


@pytest.mark.parametrize("bound", ["2026-11-01T00:00:00%2B08:00", "2026-11-01T00:00:00%2B0800",
                                   "2026-11-01%2000:00:00%2B08:00", "2026-11-01T00:00%2B08:00"])
def test_iso_8601_times_with_an_offset_are_taken_as_before(client, shop, staff_member, bound, app_ctx):
    # docs/api.md: `from`/`to` are YYYY-MM-DD or ISO 8601 with offset, read by datetime.fromisoformat (as before the
    # schema): an offset without its colon (dayjs' ZZ) and a space between date and time are valid too.
    response = client.get(f"{STATS}?from={bound}&to=2026-11-30", headers=staff_member(shop.store_id).headers)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["period"]["from"].startswith("2026-10-31T16:00:00")


def test_the_leaderboard_shows_managers_amounts_and_clerks_ranks(client, shop, paid_order, staff_member, app_ctx):
    rule(shop.store_id, per_handover_fen=100)
    star, other = staff_member(shop.store_id, name="小王"), staff_member(shop.store_id, name="小李")
    manager = staff_member(shop.store_id, "manager", name="店长")
    for openid in ("a", "b"):
        client.post(REDEEM, headers=star.headers, json={"code": paid_order(shop, openid).code})
    client.post(REDEEM, headers=other.headers, json={"code": paid_order(shop, "c").code})
    board = client.get(BOARD, headers=manager.headers).get_json()
    assert [(r["name"], r["rank"], r["commission"]["net_fen"]) for r in board["items"]] == [
        ("小王", 1, 200), ("小李", 2, 100), ("店长", 3, 0)]
    assert board["funnel"]["paying_customers"] == 3 and board["funnel"]["paid_orders"] == 3
    seen_by_clerk = client.get(f"{BOARD}?store_id={shop.store_id}&period=week", headers=other.headers).get_json()
    rows = {r["name"]: r for r in seen_by_clerk["items"]}
    assert "commission" not in rows["小王"] and rows["小王"]["rank"] == 1 and "funnel" not in seen_by_clerk
    assert rows["小李"]["commission"]["net_fen"] == 100 and rows["小李"]["handovers"] == 1
    assert client.get(f"{BOARD}?store_id={factories.store()}", headers=other.headers).status_code == 403
    assert client.get(f"{BOARD}?period=year", headers=other.headers).status_code == 400
    assert client.get(BOARD).status_code == 401


def test_a_seat_moved_to_another_store_keeps_its_history(app, client, shop, paid_order, staff_member, app_ctx):
    rule(shop.store_id, per_handover_fen=100)
    clerk = staff_member(shop.store_id)
    old_scene = scene_of(shop.store_id, clerk.seat_id)
    client.post(REDEEM, headers=clerk.headers, json={"code": paid_order(shop).code})
    new_store = factories.store()
    result = app.test_cli_runner().invoke(args=["staff", "move", "--seat", str(clerk.seat_id),
                                                "--store", str(new_store)])
    assert result.exit_code == 0, result.output
    assert client.get(STATS, headers=clerk.headers).get_json()["commission"]["net_fen"] == 100
    old_board = client.get(BOARD, headers=staff_member(shop.store_id, "manager").headers).get_json()
    assert {r["seat_id"]: r["commission"]["net_fen"] for r in old_board["items"]}[clerk.seat_id] == 100
    new_board = client.get(BOARD, headers=staff_member(new_store, "manager").headers).get_json()
    assert {r["seat_id"]: r["commission"]["net_fen"] for r in new_board["items"]}[clerk.seat_id] == 0
    # Its old code stopped; its new one attributes at the new store.
    assert client.post(ATTRIBUTION, headers=factories.login(client, "x"), json={"scene": old_scene}).status_code == 410
    body = client.post(ATTRIBUTION, headers=factories.login(client, "x"),
                       json={"scene": scene_of(new_store, clerk.seat_id)}).get_json()
    assert body["store"]["id"] == new_store and body["outcome"] == "attributed"


def test_the_monthly_statement(app, client, shop, paid_order, staff_member, tmp_path, app_ctx):
    rule(shop.store_id, per_handover_fen=100)
    clerk, manager = staff_member(shop.store_id, name="小王"), staff_member(shop.store_id, "manager")
    client.post(REDEEM, headers=clerk.headers, json={"code": paid_order(shop).code})
    client.post("/api/v1/staff/commission/adjustments", headers=manager.headers,
                json={"seat_id": clerk.seat_id, "amount_fen": -30, "reason": "correction"})
    # An entry of last month stays out of this month's statement.
    db.session.add(CommissionEntry(entry_key="adjust:old", seat_id=clerk.seat_id, store_id=shop.store_id,
                                   kind="adjusted", basis="manual", amount_fen=999, reason="old", actor="test",
                                   created_at=utcnow() - timedelta(days=40)))
    db.session.commit()
    month = utcnow().astimezone(__import__("zoneinfo").ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")
    out = tmp_path / "s.csv"
    result = app.test_cli_runner().invoke(args=["staff", "statement", "--month", month, "--store",
                                                str(shop.store_id), "--out", str(out)])
    assert result.exit_code == 0 and result.output.strip().endswith("s.csv"), result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text("utf-8"))))
    assert rows == [{"seat_id": str(clerk.seat_id), "name": "小王", "role": "clerk", "store_id": str(shop.store_id),
                     "entries": "2", "earned_fen": "100", "reversed_fen": "0", "adjusted_fen": "-30",
                     "net_fen": "70"}]
    bad = app.test_cli_runner().invoke(args=["staff", "statement", "--month", "2026-13"])
    assert bad.exit_code == 2 and "YYYY-MM" in bad.output


def test_a_seat_gets_its_own_code_from_getwxacodeunlimit(app, client, shop, staff_member, sandbox, app_ctx):
    clerk = staff_member(shop.store_id)
    response = client.get("/api/v1/staff/me/code", headers=clerk.headers)
    assert response.status_code == 200 and response.content_type.startswith("image/")
    scene = scene_of(shop.store_id, clerk.seat_id)
    asked = sandbox_records(sandbox, "wxa/getwxacodeunlimit")[-1]["payload"]
    assert asked["scene"] == scene and asked["page"] == app.config["ATTRIBUTION_CODE_PAGE"]
    assert client.get("/api/v1/staff/me/code", headers=clerk.headers).data == response.data  # same scene
    assert len(scene) == 20 and scene.isalnum()
    assert client.get("/api/v1/staff/me/code").status_code == 401


def test_the_store_counter_code_command(app, shop, sandbox, tmp_path, app_ctx):
    out = tmp_path / "counter.img"
    result = app.test_cli_runner().invoke(args=["store", "code", str(shop.store_id), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:4] in (b"\x89PNG", b"\xff\xd8\xff\xe0", b"\xff\xd8\xff\xe1", b"\xff\xd8\xff\xdb")
    first = scene_of(shop.store_id)
    result = app.test_cli_runner().invoke(args=["store", "code", str(shop.store_id), "--out", str(out), "--rotate"])
    assert result.exit_code == 0 and scene_of(shop.store_id) != first
    assert app.test_cli_runner().invoke(args=["store", "code", "999999"]).exit_code == 2


def test_wechat_refusing_the_code_is_a_503(app, client, shop, staff_member, sandbox, app_ctx):
    from tests.pickup.conftest import inject_failure

    clerk = staff_member(shop.store_id)
    inject_failure(sandbox, "wxa/getwxacodeunlimit", 45009)
    response = client.get("/api/v1/staff/me/code", headers=clerk.headers)
    assert response.status_code == 503 and response.get_json()["error"]["code"] == "upstream_unavailable"
    assert json.dumps(response.get_json()).find("access_token") == -1


def test_the_funnel_counts_official_account_follows_and_code_scans(client, shop, staff_member, app_ctx):
    from app.commission.periods import named
    from app.attribution.funnel import store_funnel
    from app.followers.service import subscribe

    clerk = staff_member(shop.store_id)
    subscribe("oa-follower-1", shop.store_id)  # the official account's store QR code
    db.session.commit()
    client.post(ATTRIBUTION, headers=factories.login(client, "a"), json={"scene": scene_of(shop.store_id)})
    for openid in ("a", "b"):
        client.post(ATTRIBUTION, headers=factories.login(client, openid),
                    json={"scene": scene_of(shop.store_id, clerk.seat_id)})
    db.session.rollback()
    funnel = store_funnel(shop.store_id, named("day"))
    assert (funnel["official_account_follows"], funnel["store_code_arrivals"], funnel["staff_code_arrivals"],
            funnel["customers_attributed_to_staff"], funnel["paying_customers"]) == (1, 1, 2, 2, 0)
