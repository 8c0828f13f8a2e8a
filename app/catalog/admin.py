"""What an operator changes in the catalog: a SKU's price, a store's stock of a SKU (absolute counts, as a
stocktake gives), and the CSV export. Catalog writes bump the catalog cache's version by themselves
(app/catalog/cache.py), so the mini-program sees a new price at once."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from sqlalchemy import select

from app.catalog.stock import set_quantity
from app.errors import InvalidRequest, NotFound
from app.extensions import db
from app.models import Category, Product, Sku, StoreStock

MAX_STOCK = 1_000_000
MAX_PRICE_FEN = 100_000_000


def set_price(sku_id: int, price_fen: int) -> tuple[int, int]:
    """(before, after). Flushes."""
    sku = db.session.get(Sku, sku_id)
    if sku is None:
        raise NotFound(f"SKU {sku_id} does not exist.")
    if not 0 <= price_fen <= MAX_PRICE_FEN:
        raise InvalidRequest("价格须在 0 到 1,000,000 元之间（以分计）。", {"fields": {"price_fen": "range"}})
    before = sku.price_fen
    sku.price_fen = price_fen
    db.session.flush()
    return before, price_fen


def set_stock(store_id: int, sku_id: int, quantity: int) -> tuple[int | None, int]:
    """(before, after): the store's count of one SKU. Flushes."""
    if db.session.get(Sku, sku_id) is None:
        raise NotFound(f"SKU {sku_id} does not exist.")
    if not 0 <= quantity <= MAX_STOCK:
        raise InvalidRequest("库存须为 0 到 1000000 之间的整数。", {"fields": {"quantity": "range"}})
    row = db.session.get(StoreStock, (store_id, sku_id))
    before = row.quantity if row is not None else None
    set_quantity(store_id, sku_id, quantity)
    return before, quantity


@dataclass
class StockRow:
    sku: Sku
    product: Product
    category: str
    stock: dict[int, int]  # store_id -> quantity (absent: the store does not carry it)


def stock_table(store_ids: list[int]) -> list[StockRow]:
    """Every SKU with its stock at each of the given stores: three queries whatever the size."""
    categories = {c.id: c for c in db.session.scalars(select(Category))}
    rows = db.session.execute(select(Sku, Product).join(Product, Product.id == Sku.product_id)
                              .order_by(Product.category_id, Product.id, Sku.id)).all()
    stock: dict[int, dict[int, int]] = {}
    if store_ids:
        for row in db.session.execute(select(StoreStock.sku_id, StoreStock.store_id, StoreStock.quantity)
                                      .where(StoreStock.store_id.in_(store_ids))):
            stock.setdefault(row.sku_id, {})[row.store_id] = row.quantity
    return [StockRow(sku, product, _path(categories, product.category_id), stock.get(sku.id, {}))
            for sku, product in rows]


def _path(categories: dict[int, Category], category_id: int | None) -> str:
    names, seen = [], set()
    while category_id is not None and category_id in categories and category_id not in seen:
        seen.add(category_id)
        names.append(categories[category_id].name)
        category_id = categories[category_id].parent_id
    return "/".join(reversed(names))


def export_csv(store_ids: list[int]) -> str:
    """The import's own columns (category,title,spec,price_fen,store_id,stock): one line per SKU and store that
    carries it, so an export edited in Excel imports back. With a BOM, which Excel needs to read UTF-8."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["category", "title", "spec", "price_fen", "store_id", "stock"])
    for row in stock_table(store_ids):
        carried = sorted(row.stock.items())
        if not carried:
            writer.writerow([row.category, row.product.title, row.sku.spec, row.sku.price_fen, "", ""])
        for store_id, quantity in carried:
            writer.writerow([row.category, row.product.title, row.sku.spec, row.sku.price_fen, store_id, quantity])
    return "\ufeff" + out.getvalue()


def decode_upload(data: bytes) -> str:
    """UTF-8 (with or without the BOM Excel writes) or GBK (Excel's "CSV" on a Chinese Windows)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")  # a superset of GBK: every GBK file decodes the same
    except UnicodeDecodeError:
        raise InvalidRequest("无法识别文件编码：请保存为 UTF-8 或 GBK 编码的 CSV。",
                             {"fields": {"file": "encoding"}}) from None
