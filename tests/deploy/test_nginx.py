"""deploy/nginx.conf passes `nginx -t`, and a real request goes through nginx (TLS, HTTP/2-capable) to gunicorn
workers on loopback, with the security headers, the redirect, the body cap and the request id."""
import os
import shutil
import socket
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests
import urllib3
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def self_signed(tmp: Path) -> tuple[Path, Path]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + timedelta(days=1)).sign(key, hashes.SHA256()))
    (tmp / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                    serialization.NoEncryption()))
    return tmp / "cert.pem", tmp / "key.pem"


@pytest.fixture
def nginx_binary():
    path = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
    if path is None:
        message = "nginx is not installed (Debian package nginx-light; .ci/run installs it)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


def site_config(tmp: Path, http_port: int, https_port: int, upstream_port: int) -> Path:
    cert, key = self_signed(tmp)
    text = (ROOT / "deploy/nginx.conf").read_text()
    text = (text.replace("listen 80;", f"listen 127.0.0.1:{http_port};").replace("listen [::]:80;", "")
            .replace("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;")
            .replace("listen [::]:443 ssl http2;", "")
            .replace("127.0.0.1:8000", f"127.0.0.1:{upstream_port}")
            .replace("/etc/ssl/micromall/fullchain.pem", str(cert)).replace("/etc/ssl/micromall/privkey.pem", str(key)))
    (tmp / "micromall.conf").write_text(text)
    temp = {name: tmp / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
    main = f"""
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {temp['body']}; proxy_temp_path {temp['proxy']}; fastcgi_temp_path {temp['fastcgi']};
    uwsgi_temp_path {temp['uwsgi']}; scgi_temp_path {temp['scgi']};
    include {tmp}/micromall.conf;
}}
"""
    (tmp / "nginx.conf").write_text(main)
    return tmp / "nginx.conf"


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
    config = site_config(tmp_path, http_port, https_port, app_port)
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
