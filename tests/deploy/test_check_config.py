"""`micromall check-config` names each problem of a production environment and what to do."""
from datetime import datetime, timedelta, timezone

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from app import create_app
from app.checks import run_checks
from app.extensions import db


def checks_for(app_config, **changes):
    app = create_app({**app_config, **changes})
    with app.app_context():
        db.create_all()
        return {c.name: c for c in run_checks(app)}


def merchant_cert(key, serial: int):
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "1900000001")])
    now = datetime.now(timezone.utc)
    return (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(serial).not_valid_before(now).not_valid_after(now + timedelta(days=30))
            .sign(key, hashes.SHA256()))


def test_what_a_development_setup_lacks_for_production(app_config, backend):
    checks = checks_for(app_config)
    assert not checks["PUBLIC_BASE_URL"].ok and "https" in checks["PUBLIC_BASE_URL"].detail
    assert not checks["WECHAT_API_BASE_URL"].ok
    assert checks["merchant key"].ok and checks["WeChat Pay public key"].ok and checks["APIv3 key"].ok
    assert checks["official account keys"].ok
    # create_all is not a migration: the check wants `micromall db upgrade`
    assert not checks["database"].ok and "micromall db upgrade" in checks["database"].detail
    assert checks["Redis"].ok == (backend == "mariadb")


def test_https_urls_pass_and_broken_keys_fail(app_config, tmp_path):
    bad_key = tmp_path / "bad.pem"
    bad_key.write_text("not a key")
    checks = checks_for(app_config, PUBLIC_BASE_URL="https://shop.example.com",
                        WECHAT_API_BASE_URL="https://api.weixin.qq.com",
                        WECHATPAY_API_BASE_URL="https://api.mch.weixin.qq.com",
                        WECHATPAY_PRIVATE_KEY_PATH=str(bad_key), WECHATPAY_APIV3_KEY="short",
                        OFFICIAL_ACCOUNT_AES_KEY="tooshort", SECRET_KEY="x" * 10)
    assert checks["PUBLIC_BASE_URL"].ok and checks["WECHAT_API_BASE_URL"].ok
    for name in ("merchant key", "APIv3 key", "official account keys", "SECRET_KEY"):
        assert not checks[name].ok, name


def test_the_merchant_certificate_must_match_key_and_serial(app_config, tmp_path):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_path, cert_path = tmp_path / "apiclient_key.pem", tmp_path / "apiclient_cert.pem"
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    cert_path.write_bytes(merchant_cert(key, 0x1A2B3C).public_bytes(serialization.Encoding.PEM))
    good = checks_for(app_config, WECHATPAY_PRIVATE_KEY_PATH=str(key_path), WECHATPAY_MERCHANT_CERT_PATH=str(cert_path),
                      WECHATPAY_MERCHANT_SERIAL_NO="1a2b3c")
    assert good["merchant key"].ok
    wrong_serial = checks_for(app_config, WECHATPAY_PRIVATE_KEY_PATH=str(key_path),
                              WECHATPAY_MERCHANT_CERT_PATH=str(cert_path), WECHATPAY_MERCHANT_SERIAL_NO="ABCDEF")
    assert not wrong_serial["merchant key"].ok and "1A2B3C" in wrong_serial["merchant key"].detail
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert_path.write_bytes(merchant_cert(other, 0x1A2B3C).public_bytes(serialization.Encoding.PEM))
    mismatch = checks_for(app_config, WECHATPAY_PRIVATE_KEY_PATH=str(key_path),
                          WECHATPAY_MERCHANT_CERT_PATH=str(cert_path), WECHATPAY_MERCHANT_SERIAL_NO="1A2B3C")
    assert not mismatch["merchant key"].ok and "not the certificate" in mismatch["merchant key"].detail


def test_the_command_exits_non_zero_and_prints_each_line(app):
    result = app.test_cli_runner().invoke(args=["check-config"])
    assert result.exit_code == 1
    assert "FAIL  PUBLIC_BASE_URL" in result.output and "ok    APIv3 key" in result.output


def test_a_47003_is_named_with_its_template(app, client):
    from app.models import NotificationLog, Order
    from tests import factories

    with app.app_context():
        assert "order_paid=sandbox-subscribe-order-paid" in {c.name: c for c in run_checks(app)}[
            "notification templates"].detail
        headers = factories.login(client, "kit")
        store_id = factories.store()
        sku_id = factories.product(stock={store_id: 1}).sku_ids[0]
        order_no = client.post("/api/v1/orders", headers=headers, json={
            "store_id": store_id, "items": [{"sku_id": sku_id, "quantity": 1}]}).get_json()["order_no"]
        order_id = db.session.query(Order).filter_by(order_no=order_no).one().id
        db.session.add(NotificationLog(order_id=order_id, kind="ready", channel="subscribe", recipient="kit",
                                       status="error", errcode=47003))
        db.session.commit()
        check = {c.name: c for c in run_checks(app)}["notification templates"]
        assert not check.ok and "order_ready (template sandbox-subscribe-order-ready)" in check.detail
