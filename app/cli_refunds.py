"""`micromall refunds …`: what an operator does with a refund WeChat Pay did not finish."""
from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from app.extensions import db
from app.models import Order
from app.payments.gateway import GatewayError

OUTCOMES = {
    "refunded": "WeChat Pay finished the refund meanwhile: the order is refunded.",
    "requested": "A new refund was requested; its outcome arrives by notification.",
    "still_abnormal": "WeChat Pay still reports the refund ABNORMAL (the payer's card refused it): handle it in the "
                      "merchant platform (交易中心 → 退款管理) or with apply-abnormal-refund; the order stays "
                      "refund_failed until WeChat reports SUCCESS.",
}


@click.group("refunds")
def refunds_cli() -> None:
    """Refunds that need a person."""


@refunds_cli.command("retry")
@click.argument("order_no")
@with_appcontext
def retry(order_no: str) -> None:
    """Retry the refund of an order in refund_failed (asks WeChat Pay about the last refund first)."""
    from app.payments.refunds import retry_refund

    order = db.session.scalar(select(Order).where(Order.order_no == order_no))
    if order is None:
        raise click.ClickException(f"no order {order_no}")
    try:
        outcome = retry_refund(order, "operator:cli")
    except GatewayError as exc:
        raise click.ClickException(f"WeChat Pay did not answer: {exc}") from None
    db.session.commit()
    if outcome.startswith("not_refund_failed"):
        raise click.ClickException(f"order {order_no} is {order.status}, not refund_failed: nothing to retry")
    click.echo(f"{order_no}: {outcome} — {OUTCOMES[outcome]}")
    if outcome == "still_abnormal":
        raise SystemExit(2)
