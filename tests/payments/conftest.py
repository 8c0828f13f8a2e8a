"""Fixtures for the WeChat Pay v3 tests: development keys, the sandbox served over real HTTP, the real client, and a
tiny notification receiver."""
from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from flask import Flask, request

from micromall_dev.dev_keys import DevPayKeys, ensure_dev_keys
from payments.wechatpay_v3 import (
    WeChatPayClient,
    WeChatPayError,
    WeChatPayVerifier,
    load_private_key,
    load_public_key,
)
from tests.race import wait_for as wait_until
from wechat_sandbox import SandboxSettings, create_sandbox_app
from wechat_sandbox.server import RunningServer, serve_in_thread
from wechat_sandbox.state import SandboxState

APPID = "wxsandboxminiapp01"
FAST_SCHEDULE = (0.05, 0.05, 0.1, 0.1, 0.2)


@pytest.fixture(scope="session")
def dev_keys(tmp_path_factory: pytest.TempPathFactory) -> DevPayKeys:
    # Session-wide: RSA generation is the slow part, and every test may share one merchant.
    return ensure_dev_keys(tmp_path_factory.mktemp("instance"))


@pytest.fixture(scope="session")
def sandbox_settings(dev_keys: DevPayKeys) -> SandboxSettings:
    return SandboxSettings(
        apps={APPID: "sandbox-secret"},
        mchid=dev_keys.mchid,
        merchant_serial_no=dev_keys.merchant_serial_no,
        merchant_public_key_pem=dev_keys.merchant_public_key_path.read_bytes(),
        wechatpay_public_key_id=dev_keys.wechatpay_public_key_id,
        wechatpay_private_key_pem=dev_keys.wechatpay_private_key_path.read_bytes(),
        apiv3_key=dev_keys.apiv3_key,
        notify_schedule_s=FAST_SCHEDULE,
    )


@pytest.fixture(scope="session")
def sandbox_server(sandbox_settings: SandboxSettings) -> Iterator[RunningServer]:
    # One server for the session (stopping one takes half a second); each test starts from a reset state.
    server = serve_in_thread(create_sandbox_app(sandbox_settings))
    yield server
    server.stop()


@pytest.fixture
def sandbox_state(sandbox_server: RunningServer) -> SandboxState:
    st: SandboxState = sandbox_server.server.app.extensions["sandbox_state"]
    st.reset()  # also ends the retries of earlier tests' notifications
    return st


@pytest.fixture
def sandbox(sandbox_server: RunningServer, sandbox_state: SandboxState) -> RunningServer:
    return sandbox_server


@pytest.fixture
def verifier(dev_keys: DevPayKeys) -> WeChatPayVerifier:
    return WeChatPayVerifier(dev_keys.wechatpay_public_key_id, load_public_key(dev_keys.wechatpay_public_key_path))


@pytest.fixture
def make_client(dev_keys: DevPayKeys, verifier: WeChatPayVerifier) -> Iterator[Callable[..., WeChatPayClient]]:
    clients: list[WeChatPayClient] = []

    def make(base_url: str, **overrides: Any) -> WeChatPayClient:
        options: dict[str, Any] = dict(
            mchid=dev_keys.mchid,
            merchant_serial_no=dev_keys.merchant_serial_no,
            merchant_private_key=load_private_key(dev_keys.merchant_private_key_path),
            apiv3_key=dev_keys.apiv3_key,
            verifier=verifier,
        )
        options.update(overrides)
        client = WeChatPayClient(base_url, **options)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close_session()


@pytest.fixture
def client(sandbox: RunningServer, make_client: Callable[..., WeChatPayClient]) -> WeChatPayClient:
    return make_client(sandbox.base_url)


@pytest.fixture
def appid() -> str:
    return APPID


@pytest.fixture
def wechatpay_headers(dev_keys: DevPayKeys) -> Callable[..., dict[str, str]]:
    """Signs a body as WeChat Pay does, with the sandbox's WeChat Pay private key (or another key)."""
    default_key = load_private_key(dev_keys.wechatpay_private_key_path)

    def sign(body: bytes, *, timestamp: int | None = None, nonce: str = "NONCE123", serial: str | None = None,
             key=None) -> dict[str, str]:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        message = f"{ts}\n{nonce}\n".encode() + body + b"\n"
        signature = (key or default_key).sign(message, padding.PKCS1v15(), hashes.SHA256())
        return {
            "Wechatpay-Timestamp": ts,
            "Wechatpay-Nonce": nonce,
            "Wechatpay-Signature": base64.b64encode(signature).decode(),
            "Wechatpay-Serial": serial or dev_keys.wechatpay_public_key_id,
        }

    return sign


@pytest.fixture
def wait_for() -> Callable[..., Any]:
    return lambda predicate, timeout=5.0: wait_until(predicate, timeout)


@dataclass
class Receiver:
    """A merchant notify endpoint: parses each notification with the real client and answers scripted statuses."""

    server: RunningServer
    statuses: list[int]
    received: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"{self.server.base_url}/notify"

    def snapshot(self) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.received)


@pytest.fixture
def make_receiver(client: WeChatPayClient) -> Iterator[Callable[..., Receiver]]:
    servers: list[RunningServer] = []

    def make(statuses: list[int] | None = None) -> Receiver:
        app = Flask("receiver")
        receiver: Receiver

        @app.post("/notify")
        def notify():
            entry: dict[str, Any] = {"headers": dict(request.headers), "body": request.get_data()}
            try:
                entry["notification"] = client.parse_notification(request.headers, request.get_data())
            except WeChatPayError as exc:
                entry["error"] = exc
            with receiver.lock:
                index = len(receiver.received)
                receiver.received.append(entry)
            script = receiver.statuses
            status = script[min(index, len(script) - 1)] if script else 204
            if "error" in entry and status < 400:
                status = 401
            if status == 204:
                return "", 204
            return {"code": "SUCCESS" if status < 300 else "FAIL", "message": "scripted"}, status

        server = serve_in_thread(app)
        servers.append(server)
        receiver = Receiver(server, list(statuses or []))
        return receiver

    yield make
    for server in servers:
        server.stop()
