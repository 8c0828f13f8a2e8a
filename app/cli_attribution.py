"""Commands of staff attribution and commission (issue 17): store counter codes, staff code rotation, commission
rules, moving a seat, and the monthly statement."""
from __future__ import annotations

from pathlib import Path

import click
from flask import Flask
from flask.cli import with_appcontext

from app.errors import ApiError
from app.extensions import db
from app.models import StaffSeat, Store


def _fail(exc: ApiError) -> click.ClickException:
    db.session.rollback()
    return click.ClickException(exc.message)


@click.command("code")
@click.argument("store_id", type=int)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Image file to write (default: store_<id>_code.jpg, or .png when WeChat answers PNG).")
@click.option("--rotate", is_flag=True, help="Give the store a new scene first; the old code keeps working for "
                                             "ATTRIBUTION_SCENE_GRACE_D days.")
@with_appcontext
def store_code(store_id: int, out: Path | None, rotate: bool) -> None:
    """The store's counter mini-program code (getwxacodeunlimit); prints the file as the last line."""
    from app.attribution import scenes
    from app.wechat.wxacode import code_page, unlimited_code

    store = db.session.get(Store, store_id)
    if store is None or not store.active:
        raise click.BadParameter(f"store {store_id} does not exist or is not active", param_hint="STORE_ID")
    scene = scenes.rotate(store_id) if rotate else scenes.current_scene(store_id)
    db.session.commit()
    try:
        image, content_type = unlimited_code(scene.scene, code_page())
    except ApiError as exc:
        raise _fail(exc) from None
    out = out or Path(f"store_{store_id}_code.{'png' if content_type == 'image/png' else 'jpg'}")
    out.write_bytes(image)
    click.echo(str(out))


@click.command("rotate-code")
@click.option("--seat", "seat_id", type=int, required=True)
@with_appcontext
def rotate_code(seat_id: int) -> None:
    """A new personal code for the seat; the old one keeps working for ATTRIBUTION_SCENE_GRACE_D days."""
    from app.attribution.scenes import rotate

    seat = db.session.get(StaffSeat, seat_id)
    if seat is None:
        raise click.BadParameter(f"staff seat {seat_id} does not exist", param_hint="--seat")
    rotate(seat.store_id, seat.id)
    db.session.commit()
    click.echo(f"staff seat {seat_id} has a new code")


@click.command("move")
@click.option("--seat", "seat_id", type=int, required=True)
@click.option("--store", "store_id", type=int, required=True)
@with_appcontext
def move_seat(seat_id: int, store_id: int) -> None:
    """Move a seat to another store: its history stays where it was made, its old code stops at once."""
    from app.attribution.scenes import retire
    from app.models import utcnow

    seat = db.session.get(StaffSeat, seat_id)
    if seat is None:
        raise click.BadParameter(f"staff seat {seat_id} does not exist", param_hint="--seat")
    if db.session.get(Store, store_id) is None:
        raise click.BadParameter(f"store {store_id} does not exist", param_hint="--store")
    retire(None, seat.id, utcnow())
    seat.store_id = store_id
    db.session.commit()
    click.echo(f"staff seat {seat_id} is now at store {store_id}")


@click.command("commission")
@click.option("--store", "store_id", type=int, required=True)
@click.option("--rate-bp", type=int, default=0, show_default=True,
              help="Basis points of the amount paid, to the seat the order carries (100 = 1 %).")
@click.option("--per-handover-fen", type=int, default=0, show_default=True,
              help="Fixed fen per handover, to the seat that redeems the pickup code.")
@with_appcontext
def commission_rule(store_id: int, rate_bp: int, per_handover_fen: int) -> None:
    """Set a store's commission rule (applies to handovers from now on)."""
    from app.commission.ledger import set_rule

    try:
        set_rule(store_id, rate_bp, per_handover_fen)
    except ApiError as exc:
        raise _fail(exc) from None
    db.session.commit()
    click.echo(f"store {store_id}: {rate_bp} bp of the amount paid, {per_handover_fen} fen per handover")


@click.command("statement")
@click.option("--month", required=True, help="YYYY-MM, in STORE_TIMEZONE.")
@click.option("--store", "store_id", type=int, default=None)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="CSV file (default: commission-YYYY-MM[-store-ID].csv); '-' for standard output.")
@with_appcontext
def statement(month: str, store_id: int | None, out: Path | None) -> None:
    """The month's commission statement as CSV: seat, name, store, entries, earned, reversed, adjusted, net (fen).
    Prints the file as the last line."""
    from app.commission.periods import month as month_period
    from app.commission.statement import statement_csv

    try:
        period = month_period(month)
    except ApiError:
        raise click.BadParameter("must be YYYY-MM", param_hint="--month") from None
    if store_id is not None and db.session.get(Store, store_id) is None:
        raise click.BadParameter(f"store {store_id} does not exist", param_hint="--store")
    text = statement_csv(period, store_id)
    if str(out) == "-":
        click.echo(text, nl=False)
        return
    out = out or Path(f"commission-{month}{f'-store-{store_id}' if store_id else ''}.csv")
    out.write_text(text, encoding="utf-8")
    click.echo(str(out))


def register(app: Flask) -> None:
    from app.cli_merchant import store_cli
    from app.cli_staff import staff_cli

    store_cli.add_command(store_code)
    for command in (rotate_code, move_seat, commission_rule, statement, payout):
        staff_cli.add_command(command)


@click.command("payout")
@click.option("--seat", "seat_id", type=int, required=True)
@click.option("--amount-fen", type=click.IntRange(min=1), default=None, help="Default: all that is payable.")
@with_appcontext
def payout(seat_id: int, amount_fen: int | None) -> None:
    """Pay a seat's net commission to its WeChat balance (merchant transfer; the clerk confirms in the staff
    mini-program). Prints the bill number as the last line."""
    from app.commission.payouts import request_payout

    try:
        made = request_payout(seat_id, amount_fen, "cli")
    except ApiError as exc:
        raise _fail(exc) from None
    db.session.commit()
    click.echo(f"payout of {made.amount_fen} fen to staff seat {seat_id} requested; the clerk confirms it in the "
               "staff mini-program")
    click.echo(made.out_bill_no)
