"""Stores, the category tree and products: public, no login needed to look around."""
from __future__ import annotations

from flask import current_app, jsonify

from app.catalog import service as catalog
from app.errors import invalid_field
from app.stores import service as stores
from miniprogram_api import consumer
from miniprogram_api.api_spec import operation
from miniprogram_api.params import page_of
from miniprogram_api.render import store_json
from miniprogram_api.schemas.shop import (CategoryTree, ProductOut, ProductPage, ProductQuery, ProductsQuery,
                                          StoreDetailOut, StorePage, StoresQuery)

SHOP = ("public", "shop")


@consumer.get("/stores")
@operation(tags=SHOP, query=StoresQuery, ok=StorePage)
def list_stores(query: StoresQuery):
    """Active stores, nearest first when lat/lng are given"""
    if (query.lat is None) != (query.lng is None):
        raise invalid_field("lat" if query.lat is None else "lng", "lat and lng go together")
    if query.lat is None or query.lng is None:
        views, total = stores.all_stores(query.offset, query.per_page)
    else:
        views, total = stores.nearest_stores(query.lat, query.lng, query.radius_km, query.offset, query.per_page)
    return jsonify(page_of([store_json(v) for v in views], query.page, query.per_page, total))


@consumer.get("/stores/<int:store_id>")
@operation(tags=SHOP, ok=StoreDetailOut, errors=(404,))
def get_store(store_id: int):
    """One store with opening hours and open_now"""
    from miniprogram_api.promise_views import service_json

    data = store_json(stores.get_store(store_id), detail=True)
    data["service"] = service_json(store_id)  # issue 18: 30-day rating and on-time rate, preparation time now
    return jsonify(data)


@consumer.get("/categories")
@operation(tags=SHOP, ok=CategoryTree)
def categories():
    """The category tree"""
    return jsonify(items=catalog.category_tree())


@consumer.get("/stores/<int:store_id>/products")
@operation(tags=SHOP, query=ProductsQuery, ok=ProductPage, errors=(404,))
def store_products(store_id: int, query: ProductsQuery):
    """Products with SKUs, price and stock at the store"""
    def render(items: list[dict], total: int) -> bytes:
        return jsonify(page_of(items, query.page, query.per_page, total)).get_data()

    # The cached answer's bytes, as jsonify made them (Flask's JSON settings), served without decoding them.
    body = catalog.store_products(store_id, query.category_id, query.q, query.offset, query.per_page,
                                  render)  # 404 for an unknown store
    return current_app.response_class(body, mimetype="application/json")


@consumer.get("/products/<int:product_id>")
@operation(tags=SHOP, query=ProductQuery, ok=ProductOut, errors=(404,))
def get_product(product_id: int, query: ProductQuery):
    """One product (stock at store_id when given)"""
    if query.store_id is not None:
        stores.get_store(query.store_id)
    return jsonify(catalog.product_dict(catalog.get_product(product_id, query.store_id)))
