"""Reading orders, always through their owner: another customer's order does not exist (404, not 403)."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.errors import NotFound
from app.extensions import db
from app.models import Customer, Order


def customer_order(customer: Customer, order_no: str) -> Order:
    query = select(Order).where(Order.order_no == order_no, Order.customer_id == customer.id) \
        .options(selectinload(Order.items))
    order = db.session.scalar(query)
    if order is None:
        raise NotFound(f"Order {order_no} does not exist.")
    return order


def customer_orders(customer: Customer, status: str | None, offset: int, limit: int) -> tuple[list[Order], int]:
    where = [Order.customer_id == customer.id]
    if status:
        where.append(Order.status == status)
    total = db.session.scalar(select(func.count()).select_from(Order).where(*where)) or 0
    orders = db.session.scalars(
        select(Order).where(*where).options(selectinload(Order.items))
        .order_by(Order.created_at.desc(), Order.id.desc()).offset(offset).limit(limit)
    ).all()
    return list(orders), total
