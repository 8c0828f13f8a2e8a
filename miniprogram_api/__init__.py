"""HTTP adapter for the consumer and staff mini-programs: parse, authorise, call one service, render."""
from __future__ import annotations

from flask import Blueprint, Flask

consumer = Blueprint("consumer", __name__, url_prefix="/api/v1")


def register(app: Flask) -> None:
    from miniprogram_api import account_views, cart_views, openapi, order_views, shop_views  # noqa: F401 (routes)
    from miniprogram_api import pickup_views, staff_pickup_views, staff_views  # noqa: F401 (routes)
    from miniprogram_api import promise_views  # noqa: F401 (routes: coupons, ratings, service figures)
    from miniprogram_api import attribution_views, staff_commission_views  # noqa: F401 (routes, issue 17)
    from miniprogram_api import docs_page  # noqa: F401 (route: /api/v1/docs)
    from miniprogram_api.staff_auth import staff

    app.register_blueprint(consumer)
    app.register_blueprint(staff)
