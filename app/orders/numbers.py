"""Order numbers: the local date and ten random digits, e.g. 2611 2304 8175 2291 63.

Random digits from `secrets` make numbers impossible to enumerate (10^10 a day), the date makes them easy to place
when a customer reads one out at the counter, and the whole is a valid WeChat Pay out_trade_no (digits, <= 32).
"""
from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import exists, select

from app.extensions import db
from app.models import Order


def new_order_no(local_now: datetime) -> str:
    while True:
        candidate = local_now.strftime("%y%m%d") + f"{secrets.randbelow(10**10):010d}"
        if not db.session.scalar(select(exists().where(Order.order_no == candidate))):
            return candidate
