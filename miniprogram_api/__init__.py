"""HTTP adapter for the consumer (and, later, staff) mini-programs: parse, authorise, call one service, render."""
from __future__ import annotations

from flask import Blueprint, Flask

consumer = Blueprint("consumer", __name__, url_prefix="/api/v1")


def register(app: Flask) -> None:
    from miniprogram_api import account_views, cart_views, openapi, order_views, shop_views  # noqa: F401 (routes)

    app.register_blueprint(consumer)
