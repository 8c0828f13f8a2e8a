"""Stores, the category tree and products: public, no login needed to look around."""
from __future__ import annotations

from flask import jsonify

from app.catalog import service as catalog
from app.errors import invalid_field
from app.stores import service as stores
from miniprogram_api import consumer
from miniprogram_api.params import page_of, paging, query_float, query_int, query_str
from miniprogram_api.render import store_json

MAX_RADIUS_KM = 50.0


@consumer.get("/stores")
def list_stores():
    lat = query_float("lat", minimum=-90, maximum=90)
    lng = query_float("lng", minimum=-180, maximum=180)
    radius_km = query_float("radius_km", minimum=0.1, maximum=MAX_RADIUS_KM, default=10.0)
    page, per_page, offset = paging()
    if (lat is None) != (lng is None):
        raise invalid_field("lat" if lat is None else "lng", "lat and lng go together")
    if lat is None:
        views, total = stores.all_stores(offset, per_page)
    else:
        views, total = stores.nearest_stores(lat, lng, radius_km, offset, per_page)
    return jsonify(page_of([store_json(v) for v in views], page, per_page, total))


@consumer.get("/stores/<int:store_id>")
def get_store(store_id: int):
    from miniprogram_api.promise_views import service_json

    data = store_json(stores.get_store(store_id), detail=True)
    data["service"] = service_json(store_id)  # issue 18: 30-day rating and on-time rate, preparation time now
    return jsonify(data)


@consumer.get("/categories")
def categories():
    return jsonify(items=catalog.category_tree())


@consumer.get("/stores/<int:store_id>/products")
def store_products(store_id: int):
    category_id = query_int("category_id", minimum=1)
    q = query_str("q", max_length=50)
    page, per_page, offset = paging()
    items, total = catalog.store_products(store_id, category_id, q, offset, per_page)  # 404 for an unknown store
    return jsonify(page_of(items, page, per_page, total))


@consumer.get("/products/<int:product_id>")
def get_product(product_id: int):
    store_id = query_int("store_id", minimum=1)
    if store_id is not None:
        stores.get_store(store_id)
    return jsonify(catalog.product_dict(catalog.get_product(product_id, store_id)))
