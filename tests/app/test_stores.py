"""Nearest stores, distances, opening hours and open_now in the store's local time."""
from datetime import datetime, timezone
from types import SimpleNamespace

import pytest

from app.extensions import db
from app.models import Store
from app.stores.hours import is_open, parse_interval
from app.stores.service import distance_m, get_store
from tests import factories

# People's Square, Shanghai; stores placed at known distances north along the meridian (1e-3 deg lat ~ 111.2 m).
HERE = (31.2304, 121.4737)


def test_nearest_first_with_distance_and_radius(client, app_ctx):
    far = factories.store("远店", HERE[0] + 0.0450, HERE[1])      # ~5.0 km
    near = factories.store("近店", HERE[0] + 0.0090, HERE[1])     # ~1.0 km
    middle = factories.store("中店", HERE[0], HERE[1] + 0.0250)   # ~2.4 km east
    beyond = factories.store("外地店", 39.9042, 116.4074)          # Beijing
    body = client.get(f"/api/v1/stores?lat={HERE[0]}&lng={HERE[1]}&radius_km=10").get_json()
    assert [s["id"] for s in body["items"]] == [near, middle, far]
    assert body["total"] == 3
    expected = {s: distance_m(*HERE, db.session.get(Store, s).latitude, db.session.get(Store, s).longitude)
                for s in (near, middle, far)}
    for item in body["items"]:
        assert item["distance_m"] == round(expected[item["id"]])
    assert 990 <= body["items"][0]["distance_m"] <= 1010
    assert {"id", "name", "address", "latitude", "longitude", "phone", "open_now", "distance_m"} <= set(body["items"][0])
    small = client.get(f"/api/v1/stores?lat={HERE[0]}&lng={HERE[1]}&radius_km=2").get_json()
    assert [s["id"] for s in small["items"]] == [near]
    everyone = client.get("/api/v1/stores").get_json()
    assert [s["id"] for s in everyone["items"]] == sorted([far, near, middle, beyond])
    assert all("distance_m" not in s for s in everyone["items"])


def test_paging_and_inactive_stores(client, app_ctx):
    ids = [factories.store(lat=HERE[0] + i * 0.001, lng=HERE[1]) for i in range(5)]
    db.session.get(Store, ids[0]).active = False
    db.session.commit()
    page = client.get(f"/api/v1/stores?lat={HERE[0]}&lng={HERE[1]}&per_page=2&page=2").get_json()
    assert [s["id"] for s in page["items"]] == ids[3:5]
    assert (page["page"], page["per_page"], page["total"]) == (2, 2, 4)
    assert client.get(f"/api/v1/stores/{ids[0]}").status_code == 404


def test_distance_is_the_great_circle():
    assert distance_m(31.2304, 121.4737, 39.9042, 116.4074) == pytest.approx(1_067_000, rel=0.01)  # Shanghai-Beijing
    assert distance_m(0, 0, 0, 1) == pytest.approx(111_195, rel=0.001)


@pytest.mark.parametrize("query, field", [
    ("lat=91&lng=121", "lat"), ("lat=31&lng=181", "lng"), ("lat=abc&lng=121", "lat"), ("lat=31", "lng"),
    ("lng=121", "lat"), ("lat=31&lng=121&radius_km=0", "radius_km"), ("lat=31&lng=121&radius_km=500", "radius_km"),
    ("lat=nan&lng=121", "lat"), ("lat=inf&lng=121", "lat"), ("page=0", "page"), ("per_page=1000", "per_page"),
])
def test_bad_store_queries_name_the_field(client, query, field):
    response = client.get(f"/api/v1/stores?{query}")
    assert response.status_code == 400
    assert field in response.get_json()["error"]["details"]["fields"]


def hours(*rows):
    return [SimpleNamespace(weekday=w, open_min=o, close_min=c) for w, o, c in rows]


def at(day: int, hh: int, mm: int) -> datetime:  # 2026-11-23 is a Monday
    return datetime(2026, 11, 23 + day, hh, mm)


def test_open_now_around_closing_time():
    monday_9_to_21 = hours((0, *parse_interval("09:00-21:00")))
    assert not is_open(monday_9_to_21, at(0, 8, 59))
    assert is_open(monday_9_to_21, at(0, 9, 0))
    assert is_open(monday_9_to_21, at(0, 20, 59))
    assert not is_open(monday_9_to_21, at(0, 21, 0))
    assert not is_open(monday_9_to_21, at(1, 10, 0))  # Tuesday: no hours


def test_hours_past_midnight_and_all_day():
    friday_night = hours((4, *parse_interval("18:00-02:00")))
    assert is_open(friday_night, at(4, 23, 30))
    assert is_open(friday_night, at(5, 1, 59))   # Saturday early morning still counts as Friday night
    assert not is_open(friday_night, at(5, 2, 0))
    all_day = hours(*((d, *parse_interval("00:00-24:00")) for d in range(7)))
    assert all(is_open(all_day, at(d, h, 0)) for d in range(7) for h in (0, 12, 23))


def test_open_now_is_in_the_stores_local_time(app_ctx):
    store_id = factories.store(hours="daily 09:00-21:00")
    # 12:59 and 13:00 UTC are 20:59 and 21:00 in Shanghai (UTC+8)
    assert get_store(store_id, now=datetime(2026, 11, 23, 12, 59, tzinfo=timezone.utc)).open_now is True
    assert get_store(store_id, now=datetime(2026, 11, 23, 13, 0, tzinfo=timezone.utc)).open_now is False
    assert get_store(store_id, now=datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc)).open_now is True


def test_store_detail_has_opening_hours(client, app_ctx):
    store_id = factories.store(hours="mon-fri 08:00-22:00; sat,sun 10:00-23:30")
    body = client.get(f"/api/v1/stores/{store_id}").get_json()
    assert body["opening_hours"][0] == {"weekday": 0, "open": "08:00", "close": "22:00"}
    assert body["opening_hours"][-1] == {"weekday": 6, "open": "10:00", "close": "23:30"}
    assert isinstance(body["open_now"], bool)
