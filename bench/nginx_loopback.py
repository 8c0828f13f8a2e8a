"""deploy/nginx.conf as it stands (TLS, headers, limits), rewritten only for loopback ports and a throwaway
certificate, inside a wrapper main config. Used by the deploy test and by the benchmark, so both exercise the file
an operator installs."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

ROOT = Path(__file__).resolve().parent.parent


def self_signed(folder: Path) -> tuple[Path, Path]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + timedelta(days=1)).sign(key, hashes.SHA256()))
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))
    return folder / "cert.pem", folder / "key.pem"


def write_config(folder: Path, http_port: int, https_port: int, upstream_port: int) -> Path:
    """Write micromall.conf and a wrapper nginx.conf into `folder`; returns the wrapper's path."""
    folder.mkdir(parents=True, exist_ok=True)
    cert, key = self_signed(folder)
    text = (ROOT / "deploy/nginx.conf").read_text()
    text = (text.replace("listen 80;", f"listen 127.0.0.1:{http_port};").replace("listen [::]:80;", "")
            .replace("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;")
            .replace("listen [::]:443 ssl http2;", "").replace("127.0.0.1:8000", f"127.0.0.1:{upstream_port}")
            .replace("/etc/ssl/micromall/fullchain.pem", str(cert)).replace("/etc/ssl/micromall/privkey.pem", str(key))
            .replace("/var/log/nginx/access.log", str(folder / "access.log")))
    (folder / "micromall.conf").write_text(text)
    temps = " ".join(f"{n}_temp_path {folder / n};" for n in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    (folder / "nginx.conf").write_text(f"""
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log;
events {{ worker_connections 1024; }}
http {{ access_log off; {temps} include {folder}/micromall.conf; }}
""")
    return folder / "nginx.conf"
