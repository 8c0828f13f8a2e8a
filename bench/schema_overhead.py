"""Overhead per request of schema libraries on the body of PUT /api/v1/cart/items (docs/api-schemas.md).

Each variant is a bare Flask app answering that body with the same JSON; the Flask test client sends N valid and N
invalid requests and the median of 5 rounds is printed in microseconds per request. Run:

    .venv/bin/python -m bench.schema_overhead [N]
"""
from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, jsonify
from pydantic import BaseModel, Field

VALID = {"store_id": 1, "sku_id": 2, "quantity": 3}
INVALID = {"store_id": 1, "sku_id": "x", "quantity": 300}


class CartItemBody(BaseModel):
    store_id: int = Field(ge=1, le=2**31 - 1)
    sku_id: int = Field(ge=1, le=2**31 - 1)
    quantity: int = Field(ge=1, le=99)


def hand() -> Flask:
    from app.errors import ApiError
    from app.errors import invalid_field
    from miniprogram_api.params import json_body

    def body_int(body, name, minimum=1, maximum=2**31 - 1):  # the hand checks params.py made before the schemas
        value = body.get(name)
        if isinstance(value, bool) or not isinstance(value, int):
            raise invalid_field(name, "must be an integer")
        if not minimum <= value <= maximum:
            raise invalid_field(name, f"must be between {minimum} and {maximum}")
        return value

    app = Flask("hand")

    @app.errorhandler(ApiError)
    def envelope(exc: ApiError):
        return jsonify(error={"code": exc.code, "message": exc.message, "details": exc.details}), exc.status

    @app.put("/cart/items")
    def put_item():
        body = json_body()
        return jsonify(store_id=body_int(body, "store_id", minimum=1), sku_id=body_int(body, "sku_id", minimum=1),
                       quantity=body_int(body, "quantity", minimum=1, maximum=99))
    return app


def spectree() -> Flask:
    from spectree import SpecTree

    app = Flask("spectree")
    spec = SpecTree("flask", app=app, mode="strict", validation_error_status=400)

    @app.put("/cart/items")
    @spec.validate(json=CartItemBody)
    def put_item(json: CartItemBody):
        return jsonify(json.model_dump())
    return app


def flask_openapi3() -> Flask:
    from flask_openapi3 import OpenAPI

    app = OpenAPI("openapi3", validation_error_status=400)

    @app.put("/cart/items")
    def put_item(body: CartItemBody):
        return jsonify(body.model_dump())
    return app


def apiflask() -> Flask:
    from apiflask import APIFlask, Schema
    from apiflask.fields import Integer
    from apiflask.validators import Range

    class CartItemIn(Schema):
        store_id = Integer(required=True, validate=Range(min=1, max=2**31 - 1))
        sku_id = Integer(required=True, validate=Range(min=1, max=2**31 - 1))
        quantity = Integer(required=True, validate=Range(min=1, max=99))

    app = APIFlask("apiflask")

    @app.put("/cart/items")
    @app.input(CartItemIn)
    def put_item(json_data: dict[str, Any]):
        return jsonify(json_data)
    return app


def measure(build: Callable[[], Flask], n: int) -> tuple[float, float]:
    client = build().test_client()
    assert client.put("/cart/items", json=VALID).status_code == 200
    assert client.put("/cart/items", json=INVALID).status_code in (400, 422)
    rounds: dict[str, list[float]] = {"valid": [], "invalid": []}
    for _ in range(5):
        for kind, body in (("valid", VALID), ("invalid", INVALID)):
            start = time.perf_counter()
            for _ in range(n):
                client.put("/cart/items", json=body)
            rounds[kind].append((time.perf_counter() - start) / n * 1e6)
    return statistics.median(rounds["valid"]), statistics.median(rounds["invalid"])


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    print(f"{'variant':<16}{'valid us/req':>14}{'invalid us/req':>16}")
    for build in (hand, spectree, flask_openapi3, apiflask):
        try:
            valid, invalid = measure(build, n)
        except ImportError as exc:
            print(f"{build.__name__:<16}not installed ({exc.name})")
            continue
        print(f"{build.__name__:<16}{valid:>14.1f}{invalid:>16.1f}")


if __name__ == "__main__":
    main()
