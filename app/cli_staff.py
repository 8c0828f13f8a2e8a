"""`micromall staff …`: staff seats and their one-time invite codes, for the operator (API.md)."""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from app.errors import ApiError
from app.extensions import db
from app.models import STAFF_ROLES, StaffSeat, Store


@click.group("staff")
def staff_cli() -> None:
    """Staff seats of the stores."""


@staff_cli.command("invite")
@click.option("--store", "store_id", type=int, help="Create a new seat at this store.")
@click.option("--seat", "seat_id", type=int, help="Or: a new invite for this existing seat (e.g. a new phone).")
@click.option("--role", type=click.Choice(STAFF_ROLES), default="clerk", show_default=True)
@click.option("--name", default="", help="Who the seat is for, as the redemption log shows it.")
@with_appcontext
def invite(store_id: int | None, seat_id: int | None, role: str, name: str) -> None:
    """Create a staff seat (or take an existing one) and print its one-time invite code as the last line."""
    from app.staff.service import create_invite, create_seat

    if (store_id is None) == (seat_id is None):
        raise click.UsageError("give either --store (a new seat) or --seat (an existing one)")
    if seat_id is not None:
        seat = db.session.get(StaffSeat, seat_id)
        if seat is None:
            raise click.BadParameter(f"staff seat {seat_id} does not exist", param_hint="--seat")
    else:
        if db.session.get(Store, store_id) is None:
            raise click.BadParameter(f"store {store_id} does not exist", param_hint="--store")
        seat = create_seat(store_id, role, name)
    try:
        code, created = create_invite(seat, "cli")
    except ApiError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from None
    db.session.commit()
    click.echo(f"staff seat {seat.id} ({seat.role}) at store {seat.store_id}; invite valid until "
               f"{created.expires_at.isoformat()}; bind it in the staff mini-program with:")
    click.echo(code)


@staff_cli.command("disable")
@click.option("--seat", "seat_id", type=int, required=True)
@with_appcontext
def disable(seat_id: int) -> None:
    """Lock a seat out at once: its tokens stop working on the next request."""
    from app.staff.service import disable_seat

    seat = db.session.get(StaffSeat, seat_id)
    if seat is None:
        raise click.BadParameter(f"staff seat {seat_id} does not exist", param_hint="--seat")
    disable_seat(seat)
    db.session.commit()
    click.echo(f"staff seat {seat_id} disabled")
