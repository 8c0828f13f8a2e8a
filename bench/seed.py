"""The bench database: created afresh each run, schema by `micromall db upgrade` (or create_all when the migration
does not cover every model yet), then one 24-hour store, 20 products, customers and a staff seat with known tokens.

Tokens are stored as SHA-256 (app/customers/service.token_hash), so customers and the staff seat are written
straight into the tables with tokens we choose: no code2session round trip per bench customer.
"""
from __future__ import annotations

import secrets
import subprocess
from dataclasses import dataclass, field
from datetime import timedelta

import pymysql
import redis

from bench.procs import DB_NAME, PYTHON, REDIS_URL, ROOT

HOT_STOCK = 500  # S2: the hot SKU's stock at the store
PLENTY = 1_000_000  # every other SKU: never the limit


@dataclass
class Seeded:
    store_id: int
    hot_sku: int
    other_skus: list[int]
    customer_tokens: list[str]
    staff_token: str
    schema: str  # how the schema was made, for the report
    prices: dict[int, int] = field(default_factory=dict)
    coupons: dict[str, int] = field(default_factory=dict)  # token -> a coupon at the store (every 4th customer)


def recreate_database() -> None:
    conn = pymysql.connect(host="127.0.0.1", port=3306, user="root", password="")
    try:
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {DB_NAME}")
            cur.execute(f"CREATE DATABASE {DB_NAME} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    finally:
        conn.close()
    redis.Redis.from_url(REDIS_URL).flushdb()  # db 12 is the bench's alone: queue, dedup keys, rate limits


def make_schema(app, env: dict[str, str]) -> str:
    """`micromall db upgrade`; if the migrations miss tables of the models (being regenerated elsewhere), start
    again with create_all, and say so in the report."""
    from sqlalchemy import inspect

    from app.extensions import db

    done = subprocess.run([PYTHON, "-c", "from app.cli import main; main()", "db", "upgrade"], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    with app.app_context():
        missing = sorted(set(db.metadata.tables) - set(inspect(db.engine).get_table_names()))
        if done.returncode == 0 and not missing:
            return "micromall db upgrade"
        recreate_database()
        db.create_all()
        why = f"migration lacks {', '.join(missing)}" if missing else f"upgrade failed: {done.stderr[-300:]}"
        return f"db.create_all() (fallback: {why})"


def seed(app, customers: int) -> Seeded:
    from app.customers.service import token_hash
    from app.extensions import db
    from app.models import (Category, Customer, CustomerSession, Product, Sku, StaffSeat, StaffSession, Store,
                            StoreHours, StoreStock, utcnow)

    with app.app_context():
        store = Store(name="压测店", address="上海市静安区南京西路1号", latitude=31.2235, longitude=121.4452,
                      phone="021-00000000", active=True,
                      hours=[StoreHours(weekday=d, open_min=0, close_min=1440) for d in range(7)])
        category = Category(name="饮品", sort_order=0)
        db.session.add_all([store, category])
        db.session.flush()
        skus = []
        for i in range(20):
            product = Product(category_id=category.id, title=f"咖啡 {i + 1:02d}", description="压测商品",
                              image_url=f"https://example.com/p{i}.png", active=True)
            product.skus = [Sku(spec="中杯", price_fen=1800 + 100 * i, active=True)]
            db.session.add(product)
            db.session.flush()
            skus.append(product.skus[0])
        for i, sku in enumerate(skus):
            db.session.add(StoreStock(store_id=store.id, sku_id=sku.id, quantity=HOT_STOCK if i == 0 else PLENTY))
        now = utcnow()
        tokens = [secrets.token_urlsafe(32) for _ in range(customers)]
        people = [Customer(openid=f"bench-buyer-{i}") for i in range(customers)]
        db.session.add_all(people)
        db.session.flush()
        db.session.add_all([CustomerSession(token_hash=token_hash(t), customer_id=c.id,
                                            expires_at=now + timedelta(days=1)) for t, c in zip(tokens, people)])
        seat = StaffSeat(store_id=store.id, role="clerk", name="压测店员", openid="bench-staff", active=True,
                         bound_at=now)
        db.session.add(seat)
        db.session.flush()
        staff_token = secrets.token_urlsafe(32)
        db.session.add(StaffSession(token_hash=token_hash(staff_token), seat_id=seat.id, created_at=now,
                                    expires_at=now + timedelta(days=1)))
        coupons = _seed_coupons(db, store.id, tokens, people, now)
        db.session.commit()
        return Seeded(store.id, skus[0].id, [s.id for s in skus[1:]], tokens, staff_token, "",
                      {s.id: s.price_fen for s in skus}, coupons)


COUPON_FEN = 300


def _seed_coupons(db, store_id: int, tokens: list[str], people: list, now) -> dict[str, int]:
    """Every 4th customer holds a 3-yuan coupon valid at the bench store (S2 orders use them)."""
    from app.models import Coupon, CouponDefinition, CouponDefinitionStore

    holders = list(range(0, len(people), 4))
    definition = CouponDefinition(kind="merchant", title="压测券", amount_fen=COUPON_FEN, min_spend_fen=0, valid_days=7,
                                  per_customer_limit=1, budget_count=len(holders),
                                  budget_fen=len(holders) * COUPON_FEN, issued_count=len(holders),
                                  issued_fen=len(holders) * COUPON_FEN, active=True, created_at=now)
    db.session.add(definition)
    db.session.flush()
    db.session.add(CouponDefinitionStore(definition_id=definition.id, store_id=store_id))
    coupons = [Coupon(definition_id=definition.id, customer_id=people[i].id, claim_no=1, amount_fen=COUPON_FEN,
                      min_spend_fen=0, status="available", issued_at=now, expires_at=now + timedelta(days=7))
               for i in holders]
    db.session.add_all(coupons)
    db.session.flush()
    return {tokens[i]: c.id for i, c in zip(holders, coupons)}
