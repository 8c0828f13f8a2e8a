"""Loading the keys a merchant is given: its API private key, WeChat Pay's public key, platform certificates."""
from __future__ import annotations

import os
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key, load_pem_public_key

from payments.wechatpay_v3.verify import WeChatPayVerifier


def load_private_key(path: str | os.PathLike[str]) -> rsa.RSAPrivateKey:
    key = load_pem_private_key(Path(path).read_bytes(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError(f"{path}: not an RSA private key")
    return key


def load_public_key(path: str | os.PathLike[str]) -> rsa.RSAPublicKey:
    key = load_pem_public_key(Path(path).read_bytes())
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError(f"{path}: not an RSA public key")
    return key


def load_platform_certs(directory: str | os.PathLike[str]) -> list[x509.Certificate]:
    """Every x509 PEM certificate (`*.pem`, `*.crt`) in `directory`; a file may hold several."""
    certs: list[x509.Certificate] = []
    for path in sorted(Path(directory).iterdir()):
        if path.is_file() and path.suffix.lower() in (".pem", ".crt"):
            certs.extend(x509.load_pem_x509_certificates(path.read_bytes()))
    return certs


def build_verifier(
    public_key_id: str | None = None,
    public_key_path: str | os.PathLike[str] | None = None,
    platform_cert_dir: str | os.PathLike[str] | None = None,
) -> WeChatPayVerifier:
    """The verifier for WECHATPAY_PUBLIC_KEY_ID/_PATH and, optionally, WECHATPAY_PLATFORM_CERT_DIR."""
    public_key = load_public_key(public_key_path) if public_key_path else None
    certs = load_platform_certs(platform_cert_dir) if platform_cert_dir else []
    return WeChatPayVerifier(public_key_id or None, public_key, certs)
