"""URL converters for every blueprint: `<int:…>` bounded by the INTEGER columns the ids live in.

Werkzeug's own `int` takes any number of digits; an id past the column's range then reaches the database, where
SQLite raises OverflowError and MySQL an out-of-range error — a 500 for client input. Bounded, such a path matches no
route and answers 404 like any id that does not exist.
"""
from __future__ import annotations

from typing import Any

from flask import Flask
from werkzeug.routing import IntegerConverter

from app.models.types import MAX_INT


class BoundedIntConverter(IntegerConverter):
    def __init__(self, map: Any, fixed_digits: int = 0, min: int | None = None, max: int | None = MAX_INT,
                 signed: bool = False) -> None:
        super().__init__(map, fixed_digits, min, max, signed)


def install_converters(app: Flask) -> None:
    """Before any blueprint is registered: rules take their converter when they are added."""
    app.url_map.converters["int"] = BoundedIntConverter
