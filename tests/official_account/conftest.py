"""The app served over real HTTP, a follower simulator pointed at its callback, and helpers to set the scene."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from app import wechat
from app.extensions import db
from tests import factories
from wechat_sandbox.follower import FollowerSimulator
from wechat_sandbox.server import RunningServer, serve_in_thread

CALLBACK = "/wechat/official-account"


@pytest.fixture
def app_config(app_config):
    """Compatible mode (plaintext and safe mode both taken), so these tests can send either; safe-mode-only, the
    default with an AES key, is tested by setting it back (test_callback.py, tests/security/)."""
    app_config["OFFICIAL_ACCOUNT_REQUIRE_SAFE_MODE"] = False
    return app_config


@pytest.fixture
def served(app) -> Iterator[RunningServer]:
    server = serve_in_thread(app)
    yield server
    server.stop()


def simulator(app, served: RunningServer, sandbox: RunningServer, aes_key: Any = "config") -> FollowerSimulator:
    """A follower as WeChat presents one; safe mode with the configured key unless told otherwise."""
    key = app.config["OFFICIAL_ACCOUNT_AES_KEY"] if aes_key == "config" else aes_key
    return FollowerSimulator(served.base_url + CALLBACK, app.config["OFFICIAL_ACCOUNT_TOKEN"],
                             app.config["OFFICIAL_ACCOUNT_APPID"], key, sandbox_url=sandbox.base_url)


def warm_token() -> None:
    """What the refresher (`app.wechat:refresh_access_tokens`) keeps true in production: the official account's
    access token is at hand, so the callback may call WeChat within its 5 seconds."""
    wechat.api("official_account").tokens.get()


@pytest.fixture
def follower(app_ctx, served, sandbox) -> Iterator[FollowerSimulator]:
    warm_token()
    with simulator(app_ctx, served, sandbox) as sim:
        yield sim


@pytest.fixture
def plain_follower(app_ctx, served, sandbox) -> Iterator[FollowerSimulator]:
    warm_token()
    with simulator(app_ctx, served, sandbox, aes_key=None) as sim:
        yield sim


class SandboxControl:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = requests.post(f"{self.base_url}/sandbox/{path}", json=body, timeout=5)
        response.raise_for_status()
        return response.json()

    def records(self, kind: str) -> list[dict[str, Any]]:
        return requests.get(f"{self.base_url}/sandbox/records", params={"kind": kind}, timeout=5).json()["items"]

    def inbox(self, openid: str) -> list[dict[str, Any]]:
        return requests.get(f"{self.base_url}/sandbox/inbox", params={"openid": openid}, timeout=5).json()["items"]

    def person(self, unionid: str, miniprogram_openid: str, official_account_openid: str) -> None:
        """One person in both apps, known by unionid: the apps share an Open Platform account."""
        self.post("open-platform", {"bound": True})
        self.post("people", {"unionid": unionid, "miniprogram_openid": miniprogram_openid,
                             "official_account_openid": official_account_openid})


@pytest.fixture
def wx(sandbox) -> SandboxControl:
    return SandboxControl(sandbox.base_url)


def fresh(model, **where):
    """A row as the served app wrote it: ending the test's transaction drops its snapshot (MariaDB's repeatable
    read) and its cached rows."""
    db.session.commit()
    return db.session.query(model).filter_by(**where).one_or_none()


def run_jobs(app) -> None:
    """With Redis, jobs wait in RQ: run them now. Without it they already ran after their commit (JOBS_EAGER)."""
    if app.extensions["micromall_redis"] is not None:
        from rq import SimpleWorker

        from app import jobs

        SimpleWorker([jobs.queue(app)], connection=app.extensions["micromall_redis"]).work(burst=True)


def place_order(client, mp_openid: str, store_id: int, sku_id: int, quantity: int = 1) -> str:
    headers = factories.login(client, mp_openid)
    response = client.post("/api/v1/orders", headers=headers,
                           json={"store_id": store_id, "items": [{"sku_id": sku_id, "quantity": quantity}]})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["order_no"]


def accept_subscriptions(client, wx: SandboxControl, mp_openid: str, rounds: int = 2) -> dict[str, Any]:
    """What the mini-program does: ask which templates to request (at most three), show
    wx.requestSubscribeMessage (the sandbox's user taps "allow"), report the result. Returns the last summary."""
    headers = factories.login(client, mp_openid)
    summary = client.get("/api/v1/me/subscriptions", headers=headers).get_json()
    for _ in range(rounds):
        results = wx.post("subscriptions/accept", {"openid": mp_openid, "template_ids": summary["ask"]})
        response = client.post("/api/v1/me/subscriptions", json={"results": results}, headers=headers)
        assert response.status_code == 200, response.get_json()
        summary = response.get_json()
    return summary
