"""The promises part of `micromall demo` (issue 18): a late order earns its compensation coupon, that coupon pays
part of the next order (WeChat Pay is asked for the payable amount), a pickup at one alliance member earns a coupon
for another, and the customer rates the order. Time is moved with an explicit clock, not by sleeping."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any


def run_promises(j, app, s: dict[str, Any]) -> None:
    from app.coupons.alliances import create_alliance, join
    from micromall_dev.demo import expect
    from app.extensions import db
    from app.promises.lateness import judge_due_orders
    from app.promises.terms import set_terms

    store_id = s["store"]["id"]

    def buy(coupon_id: int | None = None) -> dict:
        products = j.call("GET", f"/stores/{store_id}/products")["items"]
        sku = next(k for p in products for k in p["skus"] if k["stock"] >= 2)
        body = {"store_id": store_id, "items": [{"sku_id": sku["id"], "quantity": 2}]}
        if coupon_id:
            body["coupon_id"] = coupon_id
        return j.call("POST", "/orders", s["token"], expect_status=201, json=body)

    def pay(order_no: str) -> dict:
        j.call("POST", f"/orders/{order_no}/pay", s["token"])
        j.http.post(f"{j.sandbox}/sandbox/pay/transactions/{order_no}/pay", json={"notify": True}, timeout=10)
        return j.wait(lambda: (o := j.call("GET", f"/orders/{order_no}", s["token"]))["status"] == "paid" and o,
                      "the payment")

    def late_order():
        set_terms(store_id, prep_minutes=10, grace_minutes=5, compensation_fen=500)
        db.session.commit()
        order = pay(buy()["order_no"])
        s["late_order"] = order["order_no"]
        promised = datetime.fromisoformat(order["promised_ready_at"])
        clock = promised + timedelta(minutes=6)
        db.session.rollback()
        late = judge_due_orders(now=clock)
        shown = j.call("GET", f"/orders/{order['order_no']}", s["token"])
        expect(late == 1 and shown["late"] is True, f"the order judged late: {shown}")
        return [f"{s['store']['name']} promises 10 minutes (grace 5); order {order['order_no']} is promised ready "
                f"by {order['promised_ready_at']}",
                f"the clock is moved to {clock.isoformat()} and the promise check runs: the order is late"]

    def compensation():
        coupons = j.call("GET", "/me/coupons?state=available", s["token"])["items"]
        coupon = next((c for c in coupons if c["kind"] == "compensation"), None)
        expect(coupon, f"a compensation coupon: {coupons}")
        s["coupon"] = coupon
        return [f"the customer's coupons: {coupon['title']} ¥{coupon['amount_fen'] / 100:.2f} off, valid at "
                f"store {coupon['store_ids']} (paid by the late store) until {coupon['expires_at']}"]

    def next_order():
        placed = buy(s["coupon"]["id"])
        expect(placed["payable_fen"] == placed["total_fen"] - s["coupon"]["amount_fen"], f"the discount: {placed}")
        pay(placed["order_no"])
        asked = j.http.get(f"{j.sandbox}/sandbox/pay/transactions/{placed['order_no']}", timeout=5).json()
        total = asked["transaction"]["amount"]["total"]
        expect(total == placed["payable_fen"], f"WeChat Pay asked for {total}, payable {placed['payable_fen']}")
        s["next_order"] = placed["order_no"]
        return [f"order {placed['order_no']}: total ¥{placed['total_fen'] / 100:.2f} − coupon "
                f"¥{placed['discount_fen'] / 100:.2f} = payable ¥{placed['payable_fen'] / 100:.2f}",
                f"WeChat Pay was asked for {total} fen and its notification carried the same: paid"]

    def alliance():
        stores = j.call("GET", "/stores")["items"]
        ally = next(x for x in stores if x["id"] != store_id)
        group = create_alliance("静安街坊联盟")
        join(group.id, store_id, amount_fen=300, min_spend_fen=0, valid_days=14, budget_count=100, budget_fen=None)
        join(group.id, ally["id"], amount_fen=800, min_spend_fen=2000, valid_days=14, budget_count=100,
             budget_fen=50_000)
        db.session.commit()
        code = j.call("GET", f"/orders/{s['next_order']}/pickup", s["token"])["code"]
        body = j.call("POST", "/staff/pickups/redeem", s["staff"], json={"code": code})
        expect(body["status"] == "picked_up", "picked up")
        coupon = j.wait(lambda: next((c for c in j.call("GET", "/me/coupons", s["token"])["items"]
                                      if c["kind"] == "alliance"), None), "the alliance coupon")
        expect(coupon["store_ids"] == [ally["id"]], f"an alliance coupon for {ally['name']}: {coupon}")
        return [f"{s['store']['name']} and {ally['name']} form an alliance; each funds its own coupon and budget",
                f"the pickup of {s['next_order']} at {s['store']['name']} earns: {coupon['title']} "
                f"¥{coupon['amount_fen'] / 100:.2f} off (from ¥{coupon['min_spend_fen'] / 100:.2f}), "
                f"valid at {ally['name']} only"]

    def rate():
        j.call("POST", f"/orders/{s['next_order']}/rating", s["token"], expect_status=201,
               json={"stars": 5, "tags": ["准时"], "comment": "很快"})
        service = j.call("GET", f"/stores/{store_id}")["service"]
        return [f"the customer rates {s['next_order']} ★★★★★; {s['store']['name']} over 30 days: rating "
                f"{service['rating']} ({service['ratings']}), on time {service['on_time_rate']} of "
                f"{service['judged_orders']} judged"]

    for title, run in (("A store's promise is missed: the order is late", late_order),
                       ("The late store's compensation coupon", compensation),
                       ("The coupon pays part of the next order", next_order),
                       ("A pickup at one alliance member earns a coupon for another", alliance),
                       ("The customer rates the order", rate)):
        j.step(title, run)
