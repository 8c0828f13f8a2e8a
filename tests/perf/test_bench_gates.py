"""The S2a gate of bench/run.py (bench/gates.ample_orders) counts every unpaid order on the scenario's SKUs,
the warm-up's included: the stock it compares against must be read before the warm-up, or the gate fails a correct
run (the warm-up's units counted twice)."""
from __future__ import annotations

import inspect

from app.extensions import db
from bench import gates, run
from bench.wrk import Result
from tests import factories


def _place(client, headers, store_id: int, items: list[dict]) -> None:
    response = client.post("/api/v1/orders", headers=headers, json={"store_id": store_id, "items": items})
    assert response.status_code == 201, response.get_json()


def test_the_gate_passes_a_correct_run_from_the_stock_before_the_warm_up(app, client, app_ctx):
    store_id = factories.store()
    skus = factories.product(specs=(("中杯", 1000), ("大杯", 1200)), stock={store_id: 50}).sku_ids
    before = run._stock(app, store_id, skus)
    _place(client, factories.login(client, "warm"), store_id, [{"sku_id": skus[0], "quantity": 1}])  # the warm-up
    for n, openid in enumerate(("a", "b", "c")):
        _place(client, factories.login(client, openid), store_id,
               [{"sku_id": skus[0], "quantity": 1 + n}, {"sku_id": skus[1], "quantity": 1}])
    db.session.commit()
    result = Result(requests=3, rps=1, p50_ms=1, p99_ms=1, p999_ms=1, max_ms=1, errors=0, timeouts=0,
                    statuses={201: 3})
    assert gates.ample_orders(app, store_id, skus, before, result).ok
    after_warm_up = {**before, skus[0]: before[skus[0]] - 1}
    assert not gates.ample_orders(app, store_id, skus, after_warm_up, result).ok


def test_run_reads_the_s2a_stock_before_its_warm_up():
    source = inspect.getsource(run.Bench)
    s2a = source[source.index('print("S2a'):source.index('print("S2b')]
    assert s2a.index("before = _stock(") < s2a.index('self.load("warm-orders"'), (
        "bench/run.py reads the S2a stock after the warm-up orders on the same SKUs: the gate counts them twice")
