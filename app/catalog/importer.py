"""Importing a catalog from CSV: every row checked first, every problem reported by line, nothing half-imported.

Columns: category (a path like "饮品/咖啡"), title, spec, price_fen, and optionally store_id and stock to set a
store's stock of that SKU in the same go. A product is found by (category, title), a SKU by (product, spec): a
second import updates prices instead of duplicating.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from typing import Callable, Iterable, TextIO

from sqlalchemy import select

from app.catalog.stock import set_quantity
from app.extensions import db
from app.models import Category, Product, Sku, Store
from app.models.types import MAX_INT

REQUIRED = ("category", "title", "spec", "price_fen")


class ImportFailed(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class Row:
    line: int
    category: list[str]
    title: str
    spec: str
    price_fen: int
    store_id: int | None
    stock: int | None


# What a CSV from a shop arrives in: UTF-8 (with or without the BOM Excel's "CSV UTF-8" writes), or GBK, which
# Excel and WPS on a Chinese Windows save by default (GB18030 is GBK's superset, so it reads both).
ENCODINGS = (("utf-8-sig", "UTF-8"), ("gb18030", "GBK"))


def decode_csv(data: bytes) -> tuple[str, str]:
    """The file's text and the name of the encoding it was in; ImportFailed when it is in neither."""
    for codec, name in ENCODINGS:
        try:
            return data.decode(codec), name
        except UnicodeDecodeError:
            continue
    raise ImportFailed(["the file is neither UTF-8 nor GBK text: save it from Excel as \"CSV UTF-8\" and import it "
                        "again"])


def parse_rows(handle: TextIO) -> list[Row]:
    reader = csv.DictReader(handle)
    missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
    if missing:
        raise ImportFailed([f"line 1: missing column(s) {', '.join(missing)}"])
    rows, problems = [], []
    store_ids = set(db.session.scalars(select(Store.id)))
    for raw in reader:
        line = reader.line_num
        try:
            rows.append(_row(line, raw, store_ids))
        except ValueError as exc:
            problems.append(f"line {line}: {exc}")
    if problems:
        raise ImportFailed(problems)
    return rows


def _row(line: int, raw: dict[str, str], store_ids: set[int]) -> Row:
    category = [p.strip() for p in (raw.get("category") or "").split("/") if p.strip()]
    title, spec = (raw.get("title") or "").strip(), (raw.get("spec") or "").strip()
    if not category or not title or not spec:
        raise ValueError("category, title and spec must not be empty")
    if len(title) > 120 or len(spec) > 120 or any(len(c) > 64 for c in category):
        raise ValueError("title/spec at most 120 characters, category names at most 64")
    price = _int(raw.get("price_fen"), "price_fen")
    if price is None or price < 0:
        raise ValueError("price_fen must be a whole number of fen, 0 or more")
    store_id, stock = _int(raw.get("store_id"), "store_id"), _int(raw.get("stock"), "stock")
    if (store_id is None) != (stock is None):
        raise ValueError("store_id and stock go together")
    if store_id is not None and store_id not in store_ids:
        raise ValueError(f"store {store_id} does not exist")
    if stock is not None and stock < 0:
        raise ValueError("stock must be 0 or more")
    return Row(line, category, title, spec, price, store_id, stock)


def _int(value: str | None, name: str) -> int | None:
    if value is None or value.strip() == "":
        return None
    try:
        number = int(value.strip())
    except ValueError:
        raise ValueError(f"{name} {value!r} is not a whole number") from None
    if abs(number) > MAX_INT:
        raise ValueError(f"{name} {value.strip()} is out of range: at most {MAX_INT}")
    return number


def apply_rows(rows: Iterable[Row], progress: Callable[[Row], None] = lambda row: None) -> int:
    """Write the rows in the caller's transaction; the caller commits once at the end."""
    categories: dict[tuple[int | None, str], Category] = {
        (c.parent_id, c.name): c for c in db.session.scalars(select(Category))}
    count = 0
    for row in rows:
        parent_id = None
        for name in row.category:
            category = categories.get((parent_id, name))
            if category is None:
                category = Category(parent_id=parent_id, name=name)
                db.session.add(category)
                db.session.flush()
                categories[(parent_id, name)] = category
            parent_id = category.id
        product = db.session.scalar(select(Product).where(Product.category_id == parent_id,
                                                          Product.title == row.title))
        if product is None:
            product = Product(category_id=parent_id, title=row.title)
            db.session.add(product)
            db.session.flush()
        sku = db.session.scalar(select(Sku).where(Sku.product_id == product.id, Sku.spec == row.spec))
        if sku is None:
            sku = Sku(product_id=product.id, spec=row.spec, price_fen=row.price_fen)
            db.session.add(sku)
            db.session.flush()
        sku.price_fen = row.price_fen
        if row.store_id is not None:
            set_quantity(row.store_id, sku.id, row.stock)
        count += 1
        progress(row)
    return count
