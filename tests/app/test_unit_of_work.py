"""One unit of work per request and per job (app/uow.py): services flush; the request (one wrapper around every
view), the job or the CLI command that owns the unit commits, and the few early commits and rollbacks have a name
in app/uow.py.

The guards read the source (ast): every function of the domain that calls `.commit()` or `.rollback()` without
being an entry point, and every `.commit()` in the adapters' views (the request commits; a view that must commit
earlier says why by a helper's name). The behaviour tests run a service inside a unit begun by the test and roll it
back, and run views of their own as request units."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest
from flask import Blueprint, jsonify
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from app import uow
from app.errors import ApiError, Conflict
from app.extensions import db
from app.models import Order, OutboxJob, PaymentNotification, PickupAttempt, PickupCode, StaffSeat, Store, utcnow
from app.payments.gateway import Transaction
from app.payments.notifications import handle_transaction_notification
from app.pickup import handover
from tests import factories
from tests.pickup.conftest import paid_order, shop, staff_member  # noqa: F401 (fixtures)

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = ROOT / "app"
ENDS = {"commit", "rollback"}
# Modules whose functions are entry points or infrastructure of the unit itself.
OWNERS = {
    "app/uow.py": "the named helpers",
    "app/jobs.py": "the outbox: marks rows running and done in transactions of its own",
    "app/jobs_relay.py": "the relay, run by `micromall cron` and each worker: its own unit",
}
# module:function -> why it may end a transaction.
ENTRY_POINTS = {
    "app/errors.py:_rollback": "the request's rollback when it answers with an error",
    "app/checks.py:_database": "a startup check (`micromall check`), before any request",
    "app/checks.py:_notification_templates": "a startup check (`micromall check`), before any request",
    "app/sweeps.py:run_all_once": "`micromall reconcile`: every sweep once, each its own unit",
}


def _is_cli(rel: str) -> bool:
    return Path(rel).name == "cli.py" or Path(rel).name.startswith("cli_")


def _decorator_name(node: ast.expr) -> str:
    node = node.func if isinstance(node, ast.Call) else node
    return ast.unparse(node)


VIEW_DECORATORS = (".route", ".get", ".post", ".put", ".patch", ".delete")


def _owns_its_unit(func: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """A job (`@jobs.job`), a CLI command (`@<group>.command(...)`) or a view (`@bp.get(...)`)."""
    names = [_decorator_name(d) for d in func.decorator_list]
    return any(n in ("jobs.job", "job") or n.endswith(".command") or n.endswith(VIEW_DECORATORS) for n in names)


def _ends(func: ast.AST) -> list[int]:
    return [node.lineno for node in ast.walk(func)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ENDS
            and not node.args and not node.keywords]


def offenders(root: Path = DOMAIN) -> list[str]:
    found = []
    for path in sorted(p for p in root.rglob("*.py") if "migrations" not in p.parts):
        rel = path.relative_to(ROOT).as_posix()
        if rel in OWNERS or _is_cli(rel):
            continue
        tree = ast.parse(path.read_text("utf-8"), rel)
        # Top-level functions and methods; a nested function belongs to the function it is defined in.
        units = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
        units += [m for c in tree.body if isinstance(c, ast.ClassDef) for m in c.body
                  if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef))]
        for func in units:
            lines = _ends(func)
            if lines and not _owns_its_unit(func) and f"{rel}:{func.name}" not in ENTRY_POINTS:
                found += [f"{rel}:{line} {func.name}() ends the caller's transaction: flush, and let the view or "
                          "job commit (or use a helper of app/uow.py)" for line in lines]
    return found


def test_services_flush_and_only_entry_points_commit_or_roll_back():
    assert offenders() == []


def test_the_guard_finds_a_service_that_commits(tmp_path):
    package = tmp_path / "app"
    package.mkdir()
    (package / "service.py").write_text(
        "from app import jobs\n\n"
        "def place():\n    db.session.add(x)\n    db.session.commit()\n\n"
        "@jobs.job\ndef sweep():\n    db.session.commit()\n\n"
        "def undo():\n    def inner():\n        session.rollback()\n    inner()\n")
    global ROOT
    saved, ROOT = ROOT, tmp_path
    try:
        found = offenders(package)
    finally:
        ROOT = saved
    assert [f.split(" ", 2)[:2] for f in found] == [["app/service.py:5", "place()"], ["app/service.py:13", "undo()"]]


# The adapters whose views the request's unit commits for: no bare `.commit()` in them, CLI modules aside.
ADAPTERS = ("miniprogram_api", "official_account", "payments", "console")


def bare_commits(packages: tuple[str, ...] = ADAPTERS) -> list[str]:
    found = []
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if _is_cli(rel):
                continue
            tree = ast.parse(path.read_text("utf-8"), rel)
            found += [f"{rel}:{node.lineno} commits: the request commits when the view answers below 400; an "
                      "earlier commit goes through a helper of app/uow.py that says why"
                      for node in ast.walk(tree)
                      if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                      and node.func.attr == "commit" and not node.args and not node.keywords]
    return found


def test_views_leave_the_commit_to_the_request():
    assert bare_commits() == []


def test_the_view_guard_finds_a_view_that_commits(tmp_path):
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "views.py").write_text(
        "@bp.post('/x')\ndef x():\n    change()\n    db.session.commit()\n    return ''\n\n"
        "@bp.post('/y')\ndef y():\n    keep_despite_refusal()\n    db.session.rollback()\n    return '', 400\n")
    (tmp_path / "shop" / "cli.py").write_text("def command():\n    db.session.commit()\n")
    global ROOT
    saved, ROOT = ROOT, tmp_path
    try:
        found = bare_commits(("shop",))
    finally:
        ROOT = saved
    assert [f.split(" ", 1)[0] for f in found] == ["shop/views.py:4"]


def test_the_allow_list_names_functions_that_exist():
    for entry in ENTRY_POINTS:
        rel, name = entry.split(":")
        tree = ast.parse((ROOT / rel).read_text("utf-8"))
        assert name in {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}, entry


# --- Behaviour: a service run inside a unit begun by someone else commits nothing of it. ---------------------------

def _rename_store(store_id: int, name: str) -> None:
    """The caller's own change, pending in its unit."""
    db.session.get(Store, store_id).name = name


def _store_name(store_id: int) -> str:
    return db.session.scalar(select(Store.name).where(Store.id == store_id))


def test_a_handover_inside_another_unit_commits_none_of_it(client, shop, paid_order, staff_member,  # noqa: F811
                                                            app_ctx):
    order, staff = paid_order(shop), staff_member(shop.store_id)
    name = _store_name(shop.store_id)
    seat = db.session.get(StaffSeat, staff.seat_id)
    jobs_before = len(db.session.scalars(select(OutboxJob.id)).all())
    _rename_store(shop.store_id, "the caller's change")
    assert handover.redeem(seat, order.code, None).order.status == "picked_up"
    db.session.rollback()  # the caller gives its unit up: the handover goes with it
    assert _store_name(shop.store_id) == name
    assert db.session.get(Order, order.order_id).status == "paid"
    assert db.session.get(PickupCode, db.session.scalar(
        select(PickupCode.id).where(PickupCode.order_id == order.order_id))).redeemed_at is None
    assert db.session.scalars(select(PickupAttempt)).all() == []
    assert len(db.session.scalars(select(OutboxJob.id)).all()) == jobs_before  # nor any of its jobs


def test_a_failed_handover_keeps_its_attempt_and_nothing_of_the_caller(client, shop, staff_member,  # noqa: F811
                                                                        app_ctx):
    staff = staff_member(shop.store_id)
    name = _store_name(shop.store_id)
    seat = db.session.get(StaffSeat, staff.seat_id)
    _rename_store(shop.store_id, "the caller's change")
    with pytest.raises(ApiError) as raised:
        handover.redeem(seat, "000000000000", None)
    assert raised.value.code == "pickup_not_found"
    db.session.rollback()  # what the error answer does
    assert _store_name(shop.store_id) == name  # never committed by the record of the failure
    assert [(a.action, a.outcome) for a in db.session.scalars(select(PickupAttempt))] == [
        ("redeem", "pickup_not_found")]


def _unpaid_order(app, client, shop, openid: str = "alice") -> Order:
    headers = factories.login(client, openid)
    response = client.post("/api/v1/orders", headers=headers,
                           json={"store_id": shop.store_id, "items": [{"sku_id": shop.sku_id, "quantity": 1}]})
    assert response.status_code == 201, response.get_json()
    db.session.commit()  # a fresh snapshot (MariaDB: repeatable read) that sees the order
    return db.session.scalar(select(Order).where(Order.order_no == response.get_json()["order_no"]))


def test_a_payment_notification_inside_another_unit_commits_none_of_it(app, client, shop, app_ctx):  # noqa: F811
    order = _unpaid_order(app, client, shop)
    order_id, name = order.id, _store_name(shop.store_id)
    transaction = Transaction(out_trade_no=order.order_no, trade_state="SUCCESS", transaction_id=f"4200{order.order_no}",
                              total_fen=order.payable_fen, payer_openid="alice", appid=app.config["MINIPROGRAM_APPID"],
                              mchid=app.config["WECHATPAY_MCHID"], success_time=utcnow())
    _rename_store(shop.store_id, "the caller's change")
    assert handle_transaction_notification("n-1", "TRANSACTION.SUCCESS", transaction).outcome == "applied"
    db.session.rollback()
    assert _store_name(shop.store_id) == name
    assert db.session.get(Order, order_id).status == "pending_payment"
    assert db.session.scalars(select(PaymentNotification)).all() == []
    # Its own unit, committed by its owner (the endpoint): applied once, and a copy is a repeat.
    assert handle_transaction_notification("n-1", "TRANSACTION.SUCCESS", transaction).outcome == "applied"
    db.session.commit()
    assert handle_transaction_notification("n-1", "TRANSACTION.SUCCESS", transaction).outcome == "repeat"
    db.session.commit()
    assert db.session.get(Order, order_id).status == "paid"


# --- Behaviour: the request is the unit; the view does not commit. --------------------------------------------------

@pytest.fixture
def unit_app(app):
    """The app with views of the test's own, made request units as the factory makes its own."""
    bp = Blueprint("unit_of_work_test", __name__)

    @bp.post("/test/unit/<int:store_id>/<outcome>")
    def change_then(store_id: int, outcome: str):
        _rename_store(store_id, f"renamed, then {outcome}")
        db.session.flush()  # sent: only the commit or the rollback decides
        if outcome == "raises":
            raise Conflict("The view refuses by raising.")
        if outcome == "returns_409":
            return jsonify(refused=True), 409
        if outcome == "returns_500":
            return jsonify(failed=True), 500
        if outcome == "keeps_despite_refusal":
            uow.keep_despite_refusal()
            return jsonify(refused=True), 403
        return jsonify(ok=True)  # no commit here: the request's unit commits

    app.register_blueprint(bp)
    uow.install(app)
    with app.app_context():
        store_id = factories.store("unit")
    app.config["UNIT_TEST_STORE"] = store_id
    return app


def _name_in_a_fresh_session(app, store_id: int) -> str:
    with app.app_context():
        return _store_name(store_id)


@pytest.mark.parametrize("outcome, status, kept", [
    ("answers_200", 200, True), ("raises", 409, False), ("returns_409", 409, False), ("returns_500", 500, False),
    ("keeps_despite_refusal", 403, True)])
def test_the_request_commits_its_view_only_when_it_answers_below_400(unit_app, outcome, status, kept):
    store_id = unit_app.config["UNIT_TEST_STORE"]
    response = unit_app.test_client().post(f"/test/unit/{store_id}/{outcome}")
    assert response.status_code == status, response.get_json()
    assert _name_in_a_fresh_session(unit_app, store_id) == (f"renamed, then {outcome}" if kept else "unit")


def test_a_commit_that_fails_answers_503_with_retry_after(unit_app, monkeypatch):
    store_id = unit_app.config["UNIT_TEST_STORE"]

    def database_gone():
        raise OperationalError("COMMIT", {}, Exception("Lost connection to MySQL server during query"))

    monkeypatch.setattr(db.session, "commit", database_gone)
    response = unit_app.test_client().post(f"/test/unit/{store_id}/answers_200")
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert response.get_json()["error"]["code"] == "service_unavailable"
    monkeypatch.undo()
    assert _name_in_a_fresh_session(unit_app, store_id) == "unit"


def test_every_view_of_the_app_is_a_request_unit(app):
    assert all(getattr(view, uow._UNIT, False) for view in app.view_functions.values())


def test_healthz_opens_no_session(app):
    opened = []

    @app.teardown_request
    def _seen(_exc) -> None:
        opened.append(db.session.registry.has())

    assert app.test_client().get("/healthz").status_code == 200
    assert opened == [False]
