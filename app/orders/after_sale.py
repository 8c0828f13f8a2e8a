"""After-sale: a manager refunds an order that was already handed over (the goods came back, or were wrong).
The order goes picked_up -> refunding -> refunded like any refund; the stock is not put back (the goods left the
shelf at the handover; a returned item is counted back by `micromall stock set`), and the commission earned on the
order is reversed when the refund succeeds (app.commission.ledger.reverse_for_order)."""
from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm.attributes import set_committed_value

from app.errors import Forbidden, NotFound
from app.extensions import db
from app.models import Order, OrderStatus, StaffSeat
from app.orders.state import InvalidTransition, transition


def refund_picked_up(manager: StaffSeat, order_no: str) -> Order:
    """Flushes; the caller commits (the refund request to WeChat is enqueued after the commit)."""
    from app.payments.refunds import start_refund

    if manager.role != "manager":
        raise Forbidden("Only a store manager may refund a handed-over order.")
    order = db.session.scalar(select(Order).where(Order.order_no == order_no, Order.store_id == manager.store_id))
    if order is None:
        raise NotFound(f"Order {order_no} does not exist at this store.")
    if order.status != OrderStatus.PICKED_UP.value:
        raise InvalidTransition(order.order_no, order.status, OrderStatus.REFUNDING.value)
    transition(order, OrderStatus.REFUNDING, "after_sale", f"staff:{manager.id}")
    # The goods are not on the shelf: mark the stock as already gone so the refund puts nothing back.
    db.session.execute(update(Order).where(Order.id == order.id).values(stock_reserved=False)
                       .execution_options(synchronize_session=False))
    set_committed_value(order, "stock_reserved", False)
    start_refund(order, "after_sale", f"staff:{manager.id}", already_refunding=True)
    return order
