"""`python -m wechat_sandbox [--host 127.0.0.1] [--port 5055]`: the sandbox as its own server.

Settings come from the environment (defaults in parentheses):
  SANDBOX_APPS                        appid:secret,appid:secret (three sandbox apps: consumer, staff, official account)
  SANDBOX_OFFICIAL_ACCOUNT_APPID      (the third default app; none with SANDBOX_APPS)
  SANDBOX_OFFICIAL_ACCOUNT_TOKEN      (sandbox-oa-token)
  SANDBOX_OFFICIAL_ACCOUNT_AES_KEY    (unset: plaintext mode only)
  SANDBOX_ACCESS_TOKEN_TTL_S          (7200)
  SANDBOX_MCHID, SANDBOX_MERCHANT_SERIAL_NO, SANDBOX_MERCHANT_PUBLIC_KEY_PATH, SANDBOX_WECHATPAY_PUBLIC_KEY_ID,
  SANDBOX_WECHATPAY_PRIVATE_KEY_PATH, SANDBOX_APIV3_KEY   WeChat Pay (unset: the pay endpoints cannot verify)
`micromall sandbox` builds SandboxSettings from the project's own configuration and calls `run` instead.
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path

from werkzeug.serving import make_server

from wechat_sandbox.app import create_sandbox_app
from wechat_sandbox.settings import SandboxSettings

DEFAULT_APPS = {
    "wx5a0d00c0a0000001": "sandbox-consumer-secret",
    "wx5a0d00c0a0000002": "sandbox-staff-secret",
    "wx5a0d00c0a0000003": "sandbox-official-account-secret",
}


def _apps(spec: str) -> dict[str, str]:
    apps = {}
    for pair in filter(None, (p.strip() for p in spec.split(","))):
        appid, sep, secret = pair.partition(":")
        if not sep or not appid or not secret:
            raise SystemExit(f"SANDBOX_APPS: expected appid:secret, got {pair!r}")
        apps[appid] = secret
    return apps


def _read(env: dict[str, str], name: str) -> bytes:
    path = env.get(name)
    return Path(path).read_bytes() if path else b""


def settings_from_env(env: dict[str, str] | None = None) -> SandboxSettings:
    env = dict(os.environ) if env is None else env
    apps = _apps(env["SANDBOX_APPS"]) if env.get("SANDBOX_APPS") else dict(DEFAULT_APPS)
    # Without it the sandbox cannot tell official-account APIs from mini-program ones and lets any app call both.
    default_oa = "" if env.get("SANDBOX_APPS") else list(DEFAULT_APPS)[-1]
    return SandboxSettings(
        apps=apps,
        official_account_appid=env.get("SANDBOX_OFFICIAL_ACCOUNT_APPID", default_oa),
        official_account_token=env.get("SANDBOX_OFFICIAL_ACCOUNT_TOKEN", "sandbox-oa-token"),
        official_account_aes_key=env.get("SANDBOX_OFFICIAL_ACCOUNT_AES_KEY") or None,
        mchid=env.get("SANDBOX_MCHID", ""),
        merchant_serial_no=env.get("SANDBOX_MERCHANT_SERIAL_NO", ""),
        merchant_public_key_pem=_read(env, "SANDBOX_MERCHANT_PUBLIC_KEY_PATH"),
        wechatpay_public_key_id=env.get("SANDBOX_WECHATPAY_PUBLIC_KEY_ID", ""),
        wechatpay_private_key_pem=_read(env, "SANDBOX_WECHATPAY_PRIVATE_KEY_PATH"),
        apiv3_key=env.get("SANDBOX_APIV3_KEY", ""),
        access_token_ttl_s=int(env.get("SANDBOX_ACCESS_TOKEN_TTL_S", "7200")),
    )


def run(settings: SandboxSettings, host: str = "127.0.0.1", port: int = 5055) -> None:
    """Serves the sandbox in the foreground until interrupted."""
    server = make_server(host, port, create_sandbox_app(settings), threaded=True)
    print(f"WeChat sandbox on http://{host}:{server.server_port} (apps: {', '.join(sorted(settings.apps))})",
          flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m wechat_sandbox", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5055)
    args = parser.parse_args(argv)
    run(settings_from_env(), args.host, args.port)


if __name__ == "__main__":
    main()
