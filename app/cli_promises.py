"""Commands for issue 18: a store's promise terms, judging promises (with an explicit clock for demos), coupon
definitions and alliances."""
from __future__ import annotations

from datetime import datetime

import click
from flask.cli import with_appcontext

from app.extensions import db


def _fail(exc: Exception) -> None:
    db.session.rollback()
    raise click.ClickException(str(exc)) from None


@click.group("promises")
def promises_cli() -> None:
    """Ready-by promises: preparation times, grace, compensation; judging late orders."""


@promises_cli.command("set")
@click.option("--store", "store_id", type=int, required=True)
@click.option("--prep", "prep_minutes", type=int, help="preparation minutes outside busy windows")
@click.option("--busy", "busy_windows", help='busy windows, e.g. "11:30-13:30=20,17:30-19:00=15" ("" clears)')
@click.option("--grace", "grace_minutes", type=int, help="minutes after the promise before an order is late")
@click.option("--compensation-fen", type=int, help="the coupon a late order earns (0: none)")
@with_appcontext
def promises_set(store_id: int, prep_minutes, busy_windows, grace_minutes, compensation_fen) -> None:
    """Set a store's promise terms (options not given stay as they are)."""
    from app.promises.terms import set_terms

    try:
        row = set_terms(store_id, prep_minutes, busy_windows, grace_minutes, compensation_fen)
    except ValueError as exc:
        _fail(exc)
    db.session.commit()
    click.echo(f"store {store_id}: prep {row.prep_minutes} min, busy {row.busy_windows or '-'}, "
               f"grace {row.grace_minutes} min, compensation {row.compensation_fen} fen")


@promises_cli.command("judge")
@click.option("--now", "now_text", help="judge as if it were this time (ISO 8601 with offset); default: now")
@with_appcontext
def promises_judge(now_text: str | None) -> None:
    """Judge every order past its promise plus grace (the periodic job, run once)."""
    from app.promises.lateness import judge_due_orders

    now = None
    if now_text:
        try:
            now = datetime.fromisoformat(now_text)
        except ValueError as exc:
            _fail(exc)
        if now.tzinfo is None:
            _fail(ValueError("--now needs an offset, like +08:00"))
    click.echo(f"late orders: {judge_due_orders(now)}")


@promises_cli.command("show")
@click.option("--store", "store_id", type=int, required=True)
@with_appcontext
def promises_show(store_id: int) -> None:
    """A store's 30-day rating and on-time rate, and whether it may issue subsidised coupons."""
    from app.promises.figures import figures

    f = figures(store_id)
    click.echo(f"rating {f.rating} ({f.ratings}), on time {f.on_time_rate} of {f.judged_orders} judged, "
               f"subsidies {'allowed' if f.subsidy_allowed else 'paused: ' + '; '.join(f.reasons)}")


@click.group("coupons")
def coupons_cli() -> None:
    """Coupon definitions."""


@coupons_cli.command("create")
@click.option("--title", required=True)
@click.option("--amount-fen", type=int, required=True)
@click.option("--min-spend-fen", type=int, default=0, show_default=True)
@click.option("--valid-days", type=int, default=14, show_default=True)
@click.option("--store", "store_ids", type=int, multiple=True, required=True, help="where it is valid (repeat)")
@click.option("--per-customer", type=int, default=1, show_default=True)
@click.option("--budget-count", type=int, help="at most this many issued")
@click.option("--budget-fen", type=int, help="at most this many fen issued")
@click.option("--funded-by-store", type=int, help="the store that pays for it (default: the merchant)")
@with_appcontext
def coupons_create(title, amount_fen, min_spend_fen, valid_days, store_ids, per_customer, budget_count, budget_fen,
                   funded_by_store) -> None:
    """A merchant coupon customers claim (POST /api/v1/me/coupons); prints its definition id as the last line."""
    from app.coupons.issuing import define

    try:
        definition = define("merchant", title, amount_fen, valid_days, list(store_ids), min_spend_fen=min_spend_fen,
                            per_customer_limit=per_customer, budget_count=budget_count, budget_fen=budget_fen,
                            funded_by_store_id=funded_by_store)
    except ValueError as exc:
        _fail(exc)
    db.session.commit()
    click.echo(definition.id)


@click.group("alliance")
def alliance_cli() -> None:
    """Store alliances: a pickup at one member earns a coupon for another."""


@alliance_cli.command("create")
@click.option("--name", required=True)
@with_appcontext
def alliance_create(name: str) -> None:
    """A new alliance; prints its id as the last line."""
    from app.coupons.alliances import create_alliance

    try:
        alliance = create_alliance(name)
    except ValueError as exc:
        _fail(exc)
    db.session.commit()
    click.echo(alliance.id)


@alliance_cli.command("join")
@click.option("--alliance", "alliance_id", type=int, required=True)
@click.option("--store", "store_id", type=int, required=True)
@click.option("--amount-fen", type=int, required=True, help="what the store's coupon takes off")
@click.option("--min-spend-fen", type=int, default=0, show_default=True)
@click.option("--valid-days", type=int, default=14, show_default=True)
@click.option("--budget-count", type=int, help="at most this many coupons from this store")
@click.option("--budget-fen", type=int, help="at most this many fen of coupons from this store")
@with_appcontext
def alliance_join(alliance_id, store_id, amount_fen, min_spend_fen, valid_days, budget_count, budget_fen) -> None:
    """The store joins (or changes its offer): the coupon it gives the other members' customers, at its cost."""
    from app.coupons.alliances import join

    try:
        join(alliance_id, store_id, amount_fen=amount_fen, min_spend_fen=min_spend_fen, valid_days=valid_days,
             budget_count=budget_count, budget_fen=budget_fen)
    except ValueError as exc:
        _fail(exc)
    db.session.commit()
    click.echo(f"store {store_id} is in alliance {alliance_id}")


COMMANDS = (promises_cli, coupons_cli, alliance_cli)
