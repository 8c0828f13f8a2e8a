"""Correctness gates, read from the database after each scenario (and from wrk's status counts): a fast wrong
answer is a failure, whatever its figures."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text

from bench.seed import HOT_STOCK
from bench.wrk import Result


@dataclass
class Gate:
    ok: bool
    detail: str


def _rows(app, sql: str, **params):
    from app.extensions import db

    with app.app_context():
        return db.session.execute(text(sql), params).all()


def hot_sku(app, store_id: int, sku_id: int, result: Result) -> Gate:
    """S2: sold == 500, stock never below 0, every order consistent, including its coupon: payable = total -
    discount, and an order with a coupon holds it locked (no coupon locked by two orders, none left locked by a
    request that failed)."""
    left = _rows(app, "SELECT quantity FROM store_stock WHERE store_id = :s AND sku_id = :k", s=store_id, k=sku_id)[0][0]
    orders = _rows(app, """
        SELECT o.id, o.status, o.total_fen, o.stock_reserved, SUM(i.quantity), SUM(i.quantity * i.unit_price_fen),
               COUNT(DISTINCT i.id), (SELECT COUNT(*) FROM order_events e WHERE e.order_id = o.id),
               o.payable_fen + o.discount_fen - o.total_fen, o.coupon_id,
               (SELECT c.status FROM coupons c WHERE c.id = o.coupon_id)
        FROM orders o JOIN order_items i ON i.order_id = o.id
        WHERE o.store_id = :s AND i.sku_id = :k
        GROUP BY o.id, o.status, o.total_fen, o.stock_reserved, o.payable_fen, o.discount_fen, o.coupon_id""",
                   s=store_id, k=sku_id)
    sold = sum(int(r[4]) for r in orders)
    bad = [r[0] for r in orders if r[1] != "pending_payment" or int(r[2]) != int(r[5]) or not r[3] or r[6] != 1
           or r[7] != 1 or int(r[8]) != 0 or (r[9] is not None and r[10] != "locked")]
    with_coupon = sum(1 for r in orders if r[9] is not None)
    locked = _rows(app, "SELECT COUNT(*) FROM coupons WHERE status = 'locked'")[0][0]
    created = result.statuses.get(201, 0)
    ok = (sold == HOT_STOCK and left == 0 and HOT_STOCK - sold == left >= 0 and not bad and created == HOT_STOCK
          and locked == with_coupon)
    return Gate(ok, f"sold {sold}/{HOT_STOCK} ({with_coupon} with a coupon, {locked} coupons locked), stock left "
                    f"{left}, 201s {created}, inconsistent orders {len(bad)}")


def ample_orders(app, store_id: int, skus: list[int], stock_before: dict[int, int], result: Result) -> Gate:
    """S2a: every attempt a 201 (a repeat of an Idempotency-Key is answered with its first order); every order
    consistent (total = its lines, one event, stock reserved); each SKU's stock went down by exactly what its orders
    hold."""
    listed = "(" + ",".join(str(k) for k in skus) + ")"
    orders = _rows(app, f"""
        SELECT o.id, o.status, o.total_fen, o.stock_reserved, SUM(i.quantity * i.unit_price_fen),
               (SELECT COUNT(*) FROM order_events e WHERE e.order_id = o.id)
        FROM orders o JOIN order_items i ON i.order_id = o.id
        WHERE o.store_id = :s AND i.sku_id IN {listed}
        GROUP BY o.id, o.status, o.total_fen, o.stock_reserved""", s=store_id)
    bad = [r[0] for r in orders if r[1] != "pending_payment" or int(r[2]) != int(r[4]) or not r[3] or r[5] != 1]
    # Stock left and units held read in one statement, so in one snapshot: requests wrk left in flight when it was
    # stopped may still be committing orders while the gate reads (two reads disagreed by those orders).
    counts = {k: (int(q), int(h)) for k, q, h in _rows(app, f"""
        SELECT s.sku_id, s.quantity,
               COALESCE((SELECT SUM(i.quantity) FROM order_items i JOIN orders o ON o.id = i.order_id
                         WHERE o.store_id = :s AND o.status = 'pending_payment' AND i.sku_id = s.sku_id), 0)
        FROM store_stock s WHERE s.store_id = :s AND s.sku_id IN {listed}""", s=store_id)}
    drift = [k for k in skus if stock_before[k] - counts[k][1] != counts[k][0]]
    created = result.statuses.get(201, 0)
    ok = created == result.requests and not bad and not drift and result.errors == 0
    return Gate(ok, f"201s {created}/{result.requests}, inconsistent orders {len(bad)}, SKUs whose stock drifted "
                    f"{len(drift)}")


def one_transition_per_order(app, order_nos: list[str], result: Result) -> Gate:
    """S3: every order paid, by exactly one pending_payment -> paid event, one payment, one pickup code."""
    rows = _rows(app, """
        SELECT o.order_no, o.status,
               (SELECT COUNT(*) FROM order_events e WHERE e.order_id = o.id AND e.to_status = 'paid'),
               (SELECT COUNT(*) FROM payments p WHERE p.order_id = o.id AND p.transaction_id IS NOT NULL),
               (SELECT COUNT(*) FROM pickup_codes c WHERE c.order_id = o.id)
        FROM orders o WHERE o.order_no IN :nos""".replace(":nos", "(" + ",".join(f"'{n}'" for n in order_nos) + ")"))
    bad = [r[0] for r in rows if (r[1], r[2], r[3], r[4]) != ("paid", 1, 1, 1)]
    notes = _rows(app, "SELECT outcome, COUNT(*) FROM payment_notifications WHERE out_trade_no IN :nos GROUP BY outcome"
                  .replace(":nos", "(" + ",".join(f"'{n}'" for n in order_nos) + ")"))
    ok = len(rows) == len(order_nos) and not bad and result.errors == 0
    return Gate(ok, f"{len(rows) - len(bad)}/{len(order_nos)} orders paid once; notification outcomes "
                    f"{dict((o, n) for o, n in notes)}; answers {result.statuses}")


def fast_enough(result: Result, limit_ms: float = 1000.0) -> Gate:
    """S4: WeChat waits 5 s; "far under" taken as p99.9 under 1 s, with no error."""
    ok = result.p999_ms < limit_ms and result.errors == 0
    return Gate(ok, f"p99.9 {result.p999_ms:.0f} ms < {limit_ms:.0f} ms, answers {result.statuses}")


def one_success_per_code(app, codes: list[str], result: Result) -> Gate:
    """S5: each code handed over exactly once: one redeemed attempt, one picked_up event, the code marked."""
    listed = "(" + ",".join(f"'{c}'" for c in codes) + ")"
    rows = _rows(app, f"""
        SELECT c.code, o.status, c.redeemed_at IS NOT NULL,
               (SELECT COUNT(*) FROM pickup_attempts a WHERE a.order_id = o.id AND a.action = 'redeem'
                                                         AND a.outcome = 'redeemed'),
               (SELECT COUNT(*) FROM order_events e WHERE e.order_id = o.id AND e.to_status = 'picked_up')
        FROM pickup_codes c JOIN orders o ON o.id = c.order_id WHERE c.code IN {listed}""")
    bad = [r[0] for r in rows if (r[1], bool(r[2]), r[3], r[4]) != ("picked_up", True, 1, 1)]
    ok200 = result.statuses.get(200, 0)
    ok = len(rows) == len(codes) and not bad and ok200 == len(codes) and result.errors == 0
    return Gate(ok, f"{len(rows) - len(bad)}/{len(codes)} codes redeemed once; 200s {ok200}, "
                    f"409s {result.statuses.get(409, 0)}")
