"""The staff loop of `micromall demo` (issue 17): a clerk's personal code is scanned, the customer orders, pays and
picks up, the clerk's stats show the order and the commission, and an after-sale refund reverses it. Over real HTTP
against the sandbox, like the rest of the demo."""
from __future__ import annotations

from typing import Any

CUSTOMER, CLERK, MANAGER = "demo-bob", "demo-clerk-li", "demo-manager"


def run_staff_loop(app, j) -> None:
    """`j` is the demo's Journey (step, call, wait, http, sandbox)."""
    from app.commission.ledger import set_rule
    from micromall_dev.demo import expect
    from app.extensions import db
    from app.staff.service import create_invite, create_seat

    s: dict[str, Any] = {}

    def bind(store_id: int, role: str, name: str, openid: str) -> str:
        seat = create_seat(store_id, role, name)
        invite, _ = create_invite(seat, "demo")
        db.session.commit()
        body = j.http.post(f"{j.api}/staff/auth/bind", json={"code": f"sandbox-{openid}.1", "invite_code": invite},
                           timeout=10).json()
        expect("token" in body, f"staff bind: {body}")
        return body["token"]

    def clerk_code():
        stores = j.call("GET", "/stores?lat=31.2304&lng=121.4737")["items"]
        s["store"] = next(x for x in stores if x["open_now"])
        set_rule(s["store"]["id"], rate_bp=500, per_handover_fen=100)
        db.session.commit()
        s["clerk"] = bind(s["store"]["id"], "clerk", "小李", CLERK)
        s["manager"] = bind(s["store"]["id"], "manager", "店长", MANAGER)
        image = j.http.get(f"{j.api}/staff/me/code", headers={"Authorization": f"Bearer {s['clerk']}"}, timeout=10)
        expect(image.status_code == 200 and image.headers["Content-Type"].startswith("image/"), "the clerk's code")
        asked = j.http.get(f"{j.sandbox}/sandbox/records", params={"kind": "wxa/getwxacodeunlimit"},
                           timeout=5).json()["items"][-1]["payload"]
        s["scene"] = asked["scene"]
        return [f"{s['store']['name']} pays 5 % of the amount paid to the clerk who brought the customer, ¥1.00 a "
                "handover to the clerk who hands over",
                f"clerk 小李 opens 我的推广码: a {image.headers['Content-Type']} of {len(image.content)} bytes, "
                f"page {asked['page']}, scene {s['scene']} ({len(s['scene'])} characters, opaque)"]

    def scan():
        s["token"] = j.call("POST", "/auth/login", json={"code": f"sandbox-{CUSTOMER}.1"})["token"]
        body = j.call("POST", "/me/attribution", s["token"], json={"scene": s["scene"]})
        expect(body["outcome"] == "attributed" and body["staff"]["name"] == "小李", f"attributed: {body}")
        again = j.call("POST", "/me/attribution", s["token"], json={"scene": "NotOneOfOurScenes000"},
                       expect_status=404)
        return [f"customer {CUSTOMER} scans it; the mini-program reports the scene: {body['outcome']} to "
                f"{body['staff']['name']} at {body['store']['name']} until {body['attributed_until']}",
                f"a made-up scene is refused: {again['error']['code']}"]

    def order_and_pay():
        products = j.call("GET", f"/stores/{s['store']['id']}/products")["items"]
        sku = next(k for p in products for k in p["skus"] if k["stock"] >= 1)
        body = j.call("POST", "/orders", s["token"], expect_status=201,
                      json={"store_id": s["store"]["id"], "items": [{"sku_id": sku["id"], "quantity": 1}]})
        s["order_no"], s["total"] = body["order_no"], body["total_fen"]
        j.call("POST", f"/orders/{s['order_no']}/pay", s["token"])
        j.http.post(f"{j.sandbox}/sandbox/pay/transactions/{s['order_no']}/pay", json={"notify": True}, timeout=10)
        j.wait(lambda: j.call("GET", f"/orders/{s['order_no']}", s["token"])["status"] == "paid", "the payment")
        s["code"] = j.call("GET", f"/orders/{s['order_no']}/pickup", s["token"])["code"]
        return [f"order {s['order_no']} of ¥{s['total'] / 100:.2f}, paid; it carries 小李's seat"]

    def pick_up():
        body = j.call("POST", "/staff/pickups/redeem", s["clerk"], json={"code": s["code"]})
        expect(body["status"] == "picked_up", "picked_up")
        stats = j.call("GET", "/staff/me/stats", s["clerk"])
        expected = s["total"] * 500 // 10_000 + 100
        expect(stats["orders"] == 1 and stats["commission"]["net_fen"] == expected, f"the clerk's stats: {stats}")
        board = j.call("GET", "/staff/leaderboard", s["manager"])["items"]
        return [f"小李 hands it over: {body['status']}",
                f"小李's stats: {stats['customers_attributed']} customer attributed, {stats['orders']} order, "
                f"¥{stats['amount_paid_fen'] / 100:.2f} paid, {stats['handovers']} handover, commission earned "
                f"¥{stats['commission']['earned_fen'] / 100:.2f}, net ¥{stats['commission']['net_fen'] / 100:.2f}",
                "the manager's leaderboard: " + ", ".join(
                    f"#{r['rank']} {r['name']} ¥{r['commission']['net_fen'] / 100:.2f}" for r in board)]

    def refund():
        body = j.call("POST", f"/staff/orders/{s['order_no']}/refund", s["manager"])
        expect(body["status"] == "refunding", "refunding")
        out_refund_no = f"R{s['order_no']}"
        j.wait(lambda: _complete(j, out_refund_no), "WeChat Pay to take the refund")
        j.wait(lambda: j.call("GET", f"/orders/{s['order_no']}", s["token"])["status"] == "refunded", "the refund")
        stats = j.call("GET", "/staff/me/stats", s["clerk"])
        expect(stats["commission"]["net_fen"] == 0 and stats["commission"]["reversed_fen"] < 0,
               f"the reversal: {stats}")
        return [f"the goods come back; the manager refunds order {s['order_no']}: refunding, then refunded",
                f"小李's commission: earned ¥{stats['commission']['earned_fen'] / 100:.2f}, reversed "
                f"¥{stats['commission']['reversed_fen'] / 100:.2f}, net ¥{stats['commission']['net_fen'] / 100:.2f}"]

    for title, run in (("A clerk shows their personal mini-program code", clerk_code),
                       ("A customer scans it and is attributed to the clerk", scan),
                       ("The customer orders and pays", order_and_pay),
                       ("The clerk hands it over and sees the order and the commission", pick_up),
                       ("A refund after the handover reverses the commission", refund)):
        j.step(title, run)


def _complete(j, out_refund_no: str) -> bool:
    """The sandbox's WeChat Pay finishes the refund and notifies, once it has the refund request."""
    response = j.http.post(f"{j.sandbox}/sandbox/pay/refunds/{out_refund_no}/complete",
                           json={"status": "SUCCESS", "notify": True}, timeout=10)
    return response.status_code < 300
