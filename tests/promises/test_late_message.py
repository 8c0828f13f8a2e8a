"""The late order's message reaches a customer who follows the official account (its order-status template)."""
from datetime import timedelta

from app.extensions import db
from app.promises.lateness import judge
from tests import factories
from tests.official_account.conftest import follower, place_order, run_jobs, served, wx  # noqa: F401 (fixtures)
from tests.promises.conftest import pay


def test_a_late_order_is_told_once(app, client, follower, wx):  # noqa: F811
    wx.person("u-gina", "gina-mp", "gina-oa")
    store_id = factories.store("静安店")
    sku_id = factories.product(stock={store_id: 5}).sku_ids[0]
    order = pay(app, place_order(client, "gina-mp", store_id, sku_id), "gina-mp")
    follower.subscribe("gina-oa")
    db.session.commit()
    assert judge(order.id, now=order.promised_ready_at + timedelta(hours=1)) == "late"
    db.session.commit()  # judge flushes; its job commits
    run_jobs(app)
    [message] = late_messages(wx)
    # The order-status template (NOTIFICATION_TEMPLATES' oa_order_status) names the order and says it is late.
    assert message["payload"]["data"]["character_string1"]["value"] == order.order_no
    assert judge(order.id, now=order.promised_ready_at + timedelta(hours=2)) is None
    run_jobs(app)
    assert len(late_messages(wx)) == 1


def late_messages(wx) -> list[dict]:
    """With RQ the "paid" message may go out to the follower too (its job runs after the follow): only "late"."""
    return [m for m in wx.inbox("gina-oa")
            if m["channel"] == "template" and m["payload"]["data"]["phrase3"]["value"] == "已超时"]
