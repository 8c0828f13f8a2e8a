"""The sandbox served over real HTTP, and wechatpy clients pointed at it."""
from __future__ import annotations

from typing import Callable, Iterator

import pytest
import requests
from sandbox_support import OA_AES_KEY, OA_APPID, OA_TOKEN, SECRETS, RewritingSession, Sandbox
from wechatpy import WeChatClient

from wechat_sandbox import SandboxSettings, create_sandbox_app
from wechat_sandbox.server import serve_in_thread


@pytest.fixture(scope="session")
def sandbox_settings() -> SandboxSettings:
    return SandboxSettings(apps=dict(SECRETS), official_account_appid=OA_APPID, official_account_token=OA_TOKEN,
                           official_account_aes_key=OA_AES_KEY, access_token_ttl_s=7200)


@pytest.fixture(scope="session")
def _served(sandbox_settings: SandboxSettings) -> Iterator[Sandbox]:
    app = create_sandbox_app(sandbox_settings)
    server = serve_in_thread(app)
    with requests.Session() as http:
        yield Sandbox(server.base_url, app, http)
    server.stop()


@pytest.fixture
def sandbox(_served: Sandbox) -> Sandbox:
    _served.control("reset")
    return _served


@pytest.fixture
def wechat_client(sandbox: Sandbox) -> Iterator[Callable[[str], WeChatClient]]:
    sessions: list[requests.Session] = []

    def make(appid: str) -> WeChatClient:
        client = WeChatClient(appid, SECRETS[appid])
        client._http.close()
        client._http = RewritingSession(sandbox.base_url)
        sessions.append(client._http)
        return client

    yield make
    for session in sessions:
        session.close()
