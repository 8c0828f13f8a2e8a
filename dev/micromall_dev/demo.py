"""`micromall demo`: the whole journey on the embedded default, against the sandbox, printed as a person would
follow it. Everything goes over real HTTP to a server on a loopback port, with the sandbox mounted in-process, in a
throw-away instance folder unless one is given. Any step that does not come out as expected stops the demo with a
non-zero exit."""
from __future__ import annotations

import logging
import os
import re
import socket
import tempfile
import time
from typing import Any, Callable

import click
import requests

from wechat_sandbox.follower import FollowerSimulator
from wechat_sandbox.server import serve_in_thread

CUSTOMER, FOLLOWER, STAFF = "demo-alice", "oa-demo-alice", "demo-clerk"
LINK_PATH = re.compile(r'data-miniprogram-path="pages/account/link\?token=([^"&]+)"')
HERE = (31.2304, 121.4737)  # People's Square, Shanghai


class DemoFailed(Exception):
    pass


def expect(condition: Any, what: str) -> None:
    if not condition:
        raise DemoFailed(what)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Journey:
    def __init__(self, base: str, config) -> None:
        self.base, self.api, self.sandbox = base, f"{base}/api/v1", f"{base}/__sandbox__"
        self.http = requests.Session()
        self.follower = FollowerSimulator(f"{base}/wechat/official-account", config["OFFICIAL_ACCOUNT_TOKEN"],
                                          config["OFFICIAL_ACCOUNT_APPID"], config["OFFICIAL_ACCOUNT_AES_KEY"],
                                          sandbox_url=self.sandbox)
        self.step_no = 0

    def step(self, title: str, run: Callable[[], list[str]]) -> None:
        self.step_no += 1
        click.echo(f"\n{self.step_no}. {title}")
        for line in run():
            click.echo(f"   {line}")

    def call(self, method: str, path: str, token: str | None = None, expect_status: int = 200, **kwargs) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = self.http.request(method, f"{self.api}{path}", headers=headers, timeout=15, **kwargs)
        expect(response.status_code == expect_status,
               f"{method} {path} answered {response.status_code}, expected {expect_status}: {response.text[:300]}")
        return response.json() if response.content else None

    def inbox(self, openid: str) -> list[dict]:
        return self.http.get(f"{self.sandbox}/sandbox/inbox", params={"openid": openid}, timeout=5).json()["items"]

    def wait(self, predicate: Callable[[], Any], what: str, timeout: float = 15) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.1)
        raise DemoFailed(f"timed out waiting for {what}")


def run_journey(app, base: str) -> None:
    from app.extensions import db
    from app.staff.service import create_invite, create_seat

    j = Journey(base, app.config)
    s: dict[str, Any] = {}
    # The sandbox is as strict as WeChat: the two apps share no Open Platform account (so no unionid links the
    # follower to the customer: the 绑定 link does), and a payment reaches WeChat's shipping service only after a
    # while. The demo's minutes are seconds: that delay is set to zero.
    j.http.post(f"{j.sandbox}/sandbox/shipping/ready", json={"after_s": 0}, timeout=5)

    def scan_store_qr():
        result = j.follower.subscribe(FOLLOWER, scene="store_1")
        expect(result.status == 200 and result.reply, "the welcome reply")
        content = str(result.reply.get("Content", ""))
        expect("静安寺店" in content, "the store card in the welcome")
        return [f"follower {FOLLOWER} scans 静安寺店's QR code at the counter and follows the account",
                "the account answers:", *[f"  | {line}" for line in content.splitlines()[:6]]]

    def log_in():
        body = j.call("POST", "/auth/login", json={"code": f"sandbox-{CUSTOMER}.1"})
        s["token"] = body["token"]
        return [f"wx.login() code -> token (expires in {body['expires_in']} s); customer #{body['customer']['id']}"]

    def link_account():
        reply = j.follower.send_text(FOLLOWER, "绑定")
        content = str((reply.reply or {}).get("Content", ""))
        match = LINK_PATH.search(content)
        expect(match, f"a one-time link in the 绑定 reply: {content!r}")
        body = j.call("POST", "/me/official-account/link", s["token"], json={"token": match.group(1)})
        expect(body.get("linked"), "the follower linked")
        return ["no unionid (the apps share no Open Platform account): the follower sends 绑定,",
                "the account answers with a one-time mini-program link (10 minutes, single use);",
                "the mini-program opens it and posts the token: follower and customer are linked"]

    def subscribe():
        asked = j.call("GET", "/me/subscriptions", s["token"])["ask"]
        # wx.requestSubscribeMessage(asked): the customer taps "allow" for each (the sandbox plays the user).
        results = j.http.post(f"{j.sandbox}/sandbox/subscriptions/accept",
                              json={"openid": CUSTOMER, "template_ids": asked}, timeout=5).json()
        grants = j.call("POST", "/me/subscriptions", s["token"], json={"results": results})["grants"]
        return [f"wx.requestSubscribeMessage asks for {len(asked)} templates (at most 3): the customer accepts",
                "grants held: " + ", ".join(f"{tid} × {n}" for tid, n in grants.items())]

    def find_store():
        stores = j.call("GET", f"/stores?lat={HERE[0]}&lng={HERE[1]}&radius_km=5")["items"]
        open_stores = [x for x in stores if x["open_now"]]
        expect(open_stores, "an open store nearby")
        s["store"] = open_stores[0]
        return [f"{x['name']}  {x['distance_m']} m  {'open' if x['open_now'] else 'closed'}" for x in stores[:4]] + [
            f"-> {s['store']['name']}"]

    def order():
        products = j.call("GET", f"/stores/{s['store']['id']}/products")["items"]
        sku = next(k for p in products for k in p["skus"] if k["stock"] >= 2)
        title = next(p["title"] for p in products if sku in p["skus"])
        body = j.call("POST", "/orders", s["token"], expect_status=201,
                      json={"store_id": s["store"]["id"], "items": [{"sku_id": sku["id"], "quantity": 2}]})
        s["order_no"] = body["order_no"]
        return [f"2 × {title} ({sku['spec']}) at ¥{sku['price_fen'] / 100:.2f}",
                f"order {body['order_no']}: {body['status']}, ¥{body['total_fen'] / 100:.2f}, "
                f"pay before {body['expires_at']}"]

    def pay():
        fields = j.call("POST", f"/orders/{s['order_no']}/pay", s["token"])
        expect(fields["signType"] == "RSA" and fields["paySign"], "wx.requestPayment fields")
        j.http.post(f"{j.sandbox}/sandbox/pay/transactions/{s['order_no']}/pay", json={"notify": True}, timeout=10)
        j.wait(lambda: j.call("GET", f"/orders/{s['order_no']}", s["token"])["status"] == "paid", "the payment")
        return [f"wx.requestPayment({fields['package']}, signType RSA) -> the customer confirms in WeChat",
                "WeChat Pay notifies the server (signed, encrypted); the order is now: paid"]

    def notified():
        messages = j.wait(lambda: j.inbox(CUSTOMER), "the customer's message")
        pickup = j.call("GET", f"/orders/{s['order_no']}/pickup", s["token"])
        s["code"] = pickup["code"]
        return [f"{m['channel']} message to the customer: "
                + " · ".join(str(v.get("value")) for v in (m["payload"].get("data") or {}).values())[:100]
                for m in messages] + [
            f"pickup code {pickup['code']} at {pickup['store']['name']}, until {pickup['pickup_deadline']}"]

    def staff_ready():
        seat = create_seat(s["store"]["id"], "clerk", "小王")
        invite, _ = create_invite(seat, "demo")
        db.session.commit()
        body = j.http.post(f"{j.api}/staff/auth/bind", json={"code": f"sandbox-{STAFF}.1", "invite_code": invite},
                           timeout=10).json()
        expect("token" in body, f"staff bind: {body}")
        s["staff"] = body["token"]
        ready = j.call("POST", f"/staff/orders/{s['order_no']}/ready", s["staff"])
        expect(ready["status"] == "ready", "ready")
        return [f"clerk 小王 binds the staff app with invite {invite} and marks the order prepared: {ready['status']}"]

    def redeem():
        body = j.call("POST", "/staff/pickups/redeem", s["staff"], json={"code": s["code"]})
        expect(body["status"] == "picked_up", "picked_up")
        goods = ", ".join(f"{item['quantity']} × {item['title']}" for item in body["items"])
        return [f"the customer shows {s['code']}; {body['redeemed_by']['name']} hands over {goods}: {body['status']}"]

    def redeem_again():
        body = j.call("POST", "/staff/pickups/redeem", s["staff"], json={"code": s["code"]}, expect_status=409)
        expect(body["error"]["code"] == "already_redeemed", "already_redeemed")
        return [f"a second scan of the same code is refused: {body['error']['code']} — {body['error']['message']}"]

    def ask_orders():
        result = j.follower.send_text(FOLLOWER, "订单")
        content = str((result.reply or {}).get("Content", ""))
        expect(s["order_no"] in content and "已取货" in content, f"the order picked up in the reply: {content!r}")
        return ["the follower sends 订单 to the account; it answers:", *[f"  | {l}" for l in content.splitlines()[:4]]]

    for title, run in (("A follower scans a store's QR code and is welcomed", scan_store_qr),
                       ("The consumer opens the mini-program and logs in", log_in),
                       ("The follower links the account to the mini-program", link_account),
                       ("Finds the nearest open store", find_store), ("Orders from that store's stock", order),
                       ("Allows the order's notifications (one grant per message)", subscribe),
                       ("Pays with WeChat Pay", pay), ("The notification arrives, with the pickup code", notified),
                       ("The store prepares the order", staff_ready), ("Staff redeem the pickup code", redeem),
                       ("A second redeem is refused", redeem_again),
                       ("The follower asks 订单 and sees it picked up", ask_orders)):
        j.step(title, run)
    from micromall_dev.demo_promises import run_promises  # issue 18: promises and coupons
    from micromall_dev.demo_staff import run_staff_loop  # issue 17: a clerk's code, attribution, commission, reversal

    run_promises(j, app, s)

    run_staff_loop(app, j)


@click.command("demo")
@click.option("--instance", type=click.Path(file_okay=False), help="Instance folder (default: a temporary one).")
def demo(instance: str | None) -> None:
    """The whole journey against the sandbox, step by step; exits non-zero if any step fails."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    # A throw-away folder holds generated private keys: it goes when the demo ends, however it ends.
    scratch = None if instance else tempfile.TemporaryDirectory(prefix="micromall-demo-")
    try:
        _run_demo(instance or scratch.name, port, base)  # type: ignore[union-attr]
    finally:
        if scratch is not None:
            scratch.cleanup()


def _run_demo(folder: str, port: int, base: str) -> None:
    from flask_migrate import upgrade

    from app import create_app
    from app.seed import seed_demo

    os.environ["MICROMALL_INSTANCE_PATH"] = folder
    app = create_app({"MICROMALL_ENV": "development", "PUBLIC_BASE_URL": base, "JOBS_EAGER": True,
                      "DATABASE_URL": f"sqlite:///{os.path.join(folder, 'demo.sqlite3')}", "REDIS_URL": None})
    with app.app_context():
        upgrade()
        seed_demo()
        from app.extensions import db

        db.session.commit()
        server = serve_in_thread(app, port=port)
        # The journey is the output: request and server logs would drown it.
        for name in ("", "werkzeug", "micromall.request"):
            logging.getLogger(name).setLevel(logging.WARNING)
        try:
            click.echo(f"micromall demo on {base} (instance {folder}); WeChat is the built-in sandbox")
            run_journey(app, server.base_url)
        except (DemoFailed, requests.RequestException) as exc:
            click.echo(f"\nDEMO FAILED: {exc}", err=True)
            raise SystemExit(1) from None
        finally:
            server.stop()
            db.session.remove()
            db.engine.dispose()
    click.echo("\nThe journey is complete.")
