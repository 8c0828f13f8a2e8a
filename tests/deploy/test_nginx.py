"""deploy/nginx.conf passes `nginx -t`, and a real request goes through nginx (TLS, HTTP/2-capable) to gunicorn
workers on loopback, with the security headers, the redirect, the body cap and the request id."""
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
import urllib3

from bench.nginx_loopback import write_config

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def nginx_binary():
    path = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
    if path is None:
        message = "nginx is not installed (Debian package nginx-light; .ci/run installs it)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


def wait_http(url: str, **kwargs) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=2, **kwargs)
            return
        except requests.RequestException:  # not listening yet, or a worker still starting
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer")


def test_nginx_config_and_a_request_through_nginx_to_gunicorn(nginx_binary, tmp_path):
    http_port, https_port, app_port = free_port(), free_port(), free_port()
    config = write_config(tmp_path, http_port, https_port, app_port)
    check = subprocess.run([nginx_binary, "-t", "-c", str(config), "-p", str(tmp_path)], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MICROMALL_", "DATABASE_", "REDIS_", "WECHAT"))}
    env.update(MICROMALL_INSTANCE_PATH=str(tmp_path / "instance"), GUNICORN_BIND=f"127.0.0.1:{app_port}",
               GUNICORN_WORKERS="2", PROXY_HOPS="1")
    cli = [sys.executable, "-c", "from app.cli import main; main()"]
    subprocess.run([*cli, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    gunicorn = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", str(ROOT / "deploy/gunicorn.conf.py"),
                                 "app:create_app()"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
    nginx = subprocess.Popen([nginx_binary, "-c", str(config), "-p", str(tmp_path), "-g", "daemon off;"],
                             stderr=subprocess.DEVNULL)
    urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
    try:
        wait_http(f"http://127.0.0.1:{app_port}/healthz")
        wait_http(f"https://127.0.0.1:{https_port}/healthz", verify=False)
        response = requests.get(f"https://127.0.0.1:{https_port}/healthz", verify=False, timeout=5)
        assert response.status_code == 200 and response.json() == {"status": "ok"}
        assert response.headers["Strict-Transport-Security"].startswith("max-age=")
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert len(response.headers["X-Request-Id"]) == 32  # nginx's $request_id, carried through the app
        assert "nginx/" not in response.headers.get("Server", "")
        stores = requests.get(f"https://127.0.0.1:{https_port}/api/v1/stores", verify=False, timeout=5,
                              headers={"Accept-Encoding": "gzip"})
        assert stores.status_code == 200 and "items" in stores.json()
        redirect = requests.get(f"http://127.0.0.1:{http_port}/api/v1/stores", allow_redirects=False, timeout=5)
        assert redirect.status_code == 301 and redirect.headers["Location"].startswith("https://")
        too_big = requests.post(f"https://127.0.0.1:{https_port}/api/v1/auth/login", data=b"x" * 70_000,
                                verify=False, timeout=5)
        assert too_big.status_code == 413
        assert requests.get(f"https://127.0.0.1:{https_port}/__sandbox__/sandbox/records", verify=False,
                            timeout=5).status_code == 404
    finally:
        nginx.terminate()
        gunicorn.terminate()
        nginx.wait(timeout=10)
        gunicorn.wait(timeout=20)
