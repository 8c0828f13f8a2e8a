"""`micromall console create-owner --username U`: the first owner, with a one-time password (the last line)."""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from app.errors import ApiError
from app.extensions import db
from app.operators.accounts import create_user


@click.group("console")
def console_cli() -> None:
    """The merchant console at /console/."""


@console_cli.command("create-owner")
@click.option("--username", required=True)
@with_appcontext
def create_owner(username: str) -> None:
    """An owner account; prints its one-time password last. It must be changed at the first login."""
    try:
        user, password = create_user(username, "owner")
    except ApiError as exc:
        raise click.ClickException(exc.message) from None
    db.session.commit()
    click.echo(f"Owner {user.username} created; sign in at /console/login and choose a new password.")
    click.echo(password)
