"""Reading the catalog as a store sells it: the category tree, products with their SKUs, price and stock there."""
from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import func, select

from app.errors import NotFound
from app.extensions import db
from app.catalog.cache import cached_answer
from app.models import Category, Product, Sku, Store, StoreStock


@dataclass
class SkuView:
    sku: Sku
    stock: int | None


@dataclass
class ProductView:
    product: Product
    skus: list[SkuView]


def category_tree() -> list[dict]:
    categories = db.session.scalars(select(Category).order_by(Category.sort_order, Category.id)).all()
    nodes: dict[int, dict[str, Any]] = {
        c.id: {"id": c.id, "name": c.name, "parent_id": c.parent_id, "children": []} for c in categories}
    roots: list[dict[str, Any]] = []
    for c in categories:
        (nodes[c.parent_id]["children"] if c.parent_id in nodes else roots).append(nodes[c.id])
    return roots


def category_subtree_ids(category_id: int) -> list[int]:
    """The category and all below it: choosing 'Drinks' also shows 'Tea' and 'Coffee'."""
    rows = db.session.execute(select(Category.id, Category.parent_id)).all()
    if category_id not in {r.id for r in rows}:
        raise NotFound(f"Category {category_id} does not exist.")
    children: dict[int | None, list[int]] = {}
    for r in rows:
        children.setdefault(r.parent_id, []).append(r.id)
    found, todo = [], [category_id]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def store_products(store_id: int, category_id: int | None, q: str | None, offset: int, limit: int,
                   render: Callable[[list[dict[str, Any]], int], bytes]) -> bytes:
    """`render(items, total)` of the active products with at least one active SKU that the store carries (a stock
    row, even at zero: sold out is shown, not hidden), by id; each SKU with the store's stock as of the last
    committed change. The answer comes from the catalog cache (app/catalog/cache.cached_answer: with Redis, the
    rendered bytes themselves while neither the catalog nor any stock changed), which must be asked before this
    request's first statement (its stock version has to be older than the database snapshot it reads), so the
    answer is the render's, byte for byte, and `render` must depend on nothing but its arguments and the key's
    (store, filters, page). Raises NotFound for an unknown or inactive store."""
    key = f"{store_id}:{category_id}:{q or ''}:{offset}:{limit}"

    def read_stock(page: dict[str, Any]) -> dict[int, int]:
        sku_ids = [sku["id"] for product in page["items"] for sku in product["skus"]]
        return dict(db.session.execute(  # type: ignore[arg-type]
            select(StoreStock.sku_id, StoreStock.quantity)
            .where(StoreStock.store_id == store_id, StoreStock.sku_id.in_(sku_ids))).all()) if sku_ids else {}

    def with_stock(page: dict[str, Any], stock: dict[int, int]) -> bytes:
        items = [{**product, "skus": [{**sku, "stock": stock.get(sku["id"], 0)} for sku in product["skus"]]}
                 for product in page["items"]]
        return render(items, page["total"])

    return cached_answer(key, lambda: _build_page(store_id, category_id, q, offset, limit), read_stock, with_stock)


def _build_page(store_id: int, category_id: int | None, q: str | None, offset: int, limit: int) -> dict[str, Any]:
    store = db.session.get(Store, store_id)
    if store is None or not store.active:
        raise NotFound(f"Store {store_id} does not exist.")
    carried = (
        select(Sku.product_id).join(StoreStock, StoreStock.sku_id == Sku.id)
        .where(StoreStock.store_id == store_id, Sku.active.is_(True))
    )
    where = [Product.active.is_(True), Product.id.in_(carried)]
    if category_id is not None:
        where.append(Product.category_id.in_(category_subtree_ids(category_id)))
    if q:
        where.append(Product.title.like(f"%{_escape_like(q)}%", escape="\\"))
    total = db.session.scalar(select(func.count()).select_from(Product).where(*where)) or 0
    products = db.session.scalars(select(Product).where(*where).order_by(Product.id).offset(offset).limit(limit)).all()
    return {"total": total, "items": [product_dict(view) for view in _with_skus(list(products), store_id)]}


def product_dict(view: ProductView) -> dict[str, Any]:
    """A product as the mini-programs read it (API.md: id, title, category_id, skus [{id, spec, price_fen,
    stock}]); `stock` is the store's, or None when no store was named."""
    p = view.product
    return {"id": p.id, "title": p.title, "category_id": p.category_id, "description": p.description,
            "image_url": p.image_url,
            "skus": [{"id": v.sku.id, "spec": v.sku.spec, "price_fen": v.sku.price_fen, "stock": v.stock}
                     for v in view.skus]}


def get_product(product_id: int, store_id: int | None) -> ProductView:
    product = db.session.get(Product, product_id)
    if product is None or not product.active:
        raise NotFound(f"Product {product_id} does not exist.")
    views = _with_skus([product], store_id)
    if store_id is not None and not views[0].skus:
        raise NotFound(f"Product {product_id} is not sold at store {store_id}.")
    return views[0]


def _with_skus(products: list[Product], store_id: int | None) -> list[ProductView]:
    """One query for every SKU of the page, with the store's stock joined in (no query per product). With a store,
    only the SKUs it carries; without one, every active SKU and no stock."""
    if not products:
        return []
    where = [Sku.product_id.in_([p.id for p in products]), Sku.active.is_(True)]
    if store_id is None:
        rows: Sequence[tuple[Sku, int | None]] = [
            (sku, None) for sku in db.session.scalars(select(Sku).where(*where).order_by(Sku.id))]
    else:
        rows = db.session.execute(
            select(Sku, StoreStock.quantity)
            .join(StoreStock, (StoreStock.sku_id == Sku.id) & (StoreStock.store_id == store_id))
            .where(*where).order_by(Sku.id)
        ).all()
    by_product: dict[int, list[SkuView]] = {p.id: [] for p in products}
    for sku, stock in rows:
        by_product[sku.product_id].append(SkuView(sku, stock))
    return [ProductView(p, by_product[p.id]) for p in products]
