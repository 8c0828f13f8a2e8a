"""Commands a shop owner runs: demo data, stores, the catalog import, stock counts."""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from app.extensions import db
from app.models import Sku, Store
from app.models.types import MAX_INT

ID = click.IntRange(1, MAX_INT)


@click.command("seed-demo")
@with_appcontext
def seed_demo_command() -> None:
    """Demo stores, categories, products and stock; only into an empty database."""
    from app.seed import seed_demo

    try:
        counts = seed_demo()
    except ValueError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    click.echo(f"Seeded: {counts}")


@click.group("stock")
def stock_cli() -> None:
    """A store's stock."""


@stock_cli.command("set")
@click.option("--store", "store_id", type=ID, required=True)
@click.option("--sku", "sku_id", type=ID, required=True)
@click.option("--quantity", type=click.IntRange(0, MAX_INT), required=True)
@with_appcontext
def stock_set(store_id: int, sku_id: int, quantity: int) -> None:
    """Set a store's stock of one SKU (a count, not a move)."""
    from app.catalog.stock import set_quantity

    if db.session.get(Store, store_id) is None:
        raise click.BadParameter(f"store {store_id} does not exist", param_hint="--store")
    if db.session.get(Sku, sku_id) is None:
        raise click.BadParameter(f"SKU {sku_id} does not exist", param_hint="--sku")
    set_quantity(store_id, sku_id, quantity)
    db.session.commit()
    click.echo(f"store {store_id} sku {sku_id}: {quantity}")


@click.group("store")
def store_cli() -> None:
    """Stores."""


@store_cli.command("create")
@click.option("--name", required=True)
@click.option("--address", required=True)
@click.option("--lat", type=float, required=True)
@click.option("--lng", type=float, required=True)
@click.option("--phone", default="")
@click.option("--hours", required=True, help='"daily 09:00-21:00" or "mon-fri 08:00-22:00; sat,sun 10:00-23:00"')
@with_appcontext
def store_create(name: str, address: str, lat: float, lng: float, phone: str, hours: str) -> None:
    """Create a store; prints its id as the last line."""
    from app.stores.admin import create_store

    try:
        store = create_store(name, address, lat, lng, phone, hours)
    except ValueError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    click.echo(store.id)


@click.group("catalog")
def catalog_cli() -> None:
    """The product catalog."""


@catalog_cli.command("import")
@click.argument("csv_file", type=click.File("rb"))
@with_appcontext
def catalog_import(csv_file) -> None:
    """Import categories, products, SKUs (and optionally stock) from CSV in UTF-8 or GBK; all rows or none."""
    import io

    from app.catalog.importer import ImportFailed, apply_rows, decode_csv, parse_rows

    try:
        text, encoding = decode_csv(csv_file.read())
        if encoding != "UTF-8":
            click.echo(f"Reading {csv_file.name} as {encoding}.")
        rows = parse_rows(io.StringIO(text, newline=""))
    except ImportFailed as exc:
        for problem in exc.problems:
            click.echo(problem, err=True)
        raise click.ClickException(f"{len(exc.problems)} bad row(s); nothing was imported") from None
    with click.progressbar(length=len(rows), label="Importing") as bar:
        count = apply_rows(rows, progress=lambda row: bar.update(1))
    db.session.commit()
    click.echo(f"Imported {count} rows.")
