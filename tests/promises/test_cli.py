"""The issue-18 commands: promise terms, coupon definitions, alliances; bad values are refused with nothing written."""
from sqlalchemy import func, select

from app.extensions import db
from app.models import AllianceMember, CouponDefinition, StorePromise
from tests import factories


def invoke(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def test_promise_terms_coupons_and_alliances_from_the_command_line(app_ctx):
    store_id, other_id = factories.store(), factories.store()
    done = invoke(app_ctx, "promises", "set", "--store", str(store_id), "--prep", "12", "--busy",
                  "11:30-13:30=20", "--grace", "3", "--compensation-fen", "500")
    assert done.exit_code == 0, done.output
    terms = db.session.get(StorePromise, store_id)
    assert (terms.prep_minutes, terms.busy_windows, terms.grace_minutes, terms.compensation_fen) == (
        12, "11:30-13:30=20", 3, 500)
    for bad in (["--busy", "11:30-13:30"], ["--prep", "0"], ["--grace", "-1"]):
        refused = invoke(app_ctx, "promises", "set", "--store", str(store_id), *bad)
        assert refused.exit_code != 0
    assert invoke(app_ctx, "promises", "set", "--store", "999", "--prep", "5").exit_code != 0

    made = invoke(app_ctx, "coupons", "create", "--title", "开业券", "--amount-fen", "500", "--store", str(store_id),
                  "--store", str(other_id), "--budget-count", "100", "--budget-fen", "50000")
    assert made.exit_code == 0, made.output
    definition = db.session.get(CouponDefinition, int(made.output.strip().splitlines()[-1]))
    assert [s.id for s in definition.stores] == [store_id, other_id] and definition.kind == "merchant"
    assert invoke(app_ctx, "coupons", "create", "--title", "x", "--amount-fen", "0", "--store",
                  str(store_id)).exit_code != 0

    alliance = invoke(app_ctx, "alliance", "create", "--name", "街坊")
    alliance_id = alliance.output.strip().splitlines()[-1]
    for sid in (store_id, other_id):
        joined = invoke(app_ctx, "alliance", "join", "--alliance", alliance_id, "--store", str(sid), "--amount-fen",
                        "300", "--budget-count", "10")
        assert joined.exit_code == 0, joined.output
    assert db.session.scalar(select(func.count()).select_from(AllianceMember)) == 2
    assert invoke(app_ctx, "alliance", "create", "--name", "街坊").exit_code != 0

    judged = invoke(app_ctx, "promises", "judge", "--now", "2026-12-01T12:00:00+08:00")
    assert judged.exit_code == 0 and "late orders: 0" in judged.output
    assert invoke(app_ctx, "promises", "judge", "--now", "2026-12-01T12:00:00").exit_code != 0
    shown = invoke(app_ctx, "promises", "show", "--store", str(store_id))
    assert "subsidies allowed" in shown.output
