"""Reading request input strictly: every problem is a 400 `invalid_request` that names the field."""
from __future__ import annotations

import json
import math
import re
from typing import Any

from flask import request

from app.errors import invalid_field

MAX_PER_PAGE = 100
INT_MIN, INT_MAX = -(2**31), 2**31 - 1
# No request of the API nests deeper than an order's items (3 levels); anything far deeper is refused as input, not
# left to blow the parser's recursion limit (a 500) on an unauthenticated endpoint.
MAX_JSON_DEPTH = 16


def json_body() -> dict[str, Any]:
    raw = request.get_data(cache=True)
    if not raw:
        raise invalid_field("body", "a JSON object is required")
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise invalid_field("body", "is not valid JSON") from None
    except RecursionError:
        raise invalid_field("body", f"nests deeper than {MAX_JSON_DEPTH} levels") from None
    if not isinstance(body, dict):
        raise invalid_field("body", "must be a JSON object")
    _check_tree(body)
    return body


# JSON's \ud800 escapes decode to lone UTF-16 surrogates, which no UTF-8 column (or JSON encoder) can store.
_SURROGATE = re.compile("[\ud800-\udfff]")


def _has_surrogate(text: str) -> bool:
    return _SURROGATE.search(text) is not None


def _check_tree(body: Any) -> None:
    """Every string (keys too) is valid Unicode and nothing nests deeper than MAX_JSON_DEPTH; walked with a stack,
    so the check itself cannot recurse too deep."""
    stack: list[tuple[Any, int]] = [(body, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise invalid_field("body", f"nests deeper than {MAX_JSON_DEPTH} levels")
        if isinstance(node, str):
            if _has_surrogate(node):
                raise invalid_field("body", "contains a lone UTF-16 surrogate (\\ud800-\\udfff)")
        elif isinstance(node, dict):
            for key, value in node.items():
                if _has_surrogate(key):
                    raise invalid_field("body", "contains a lone UTF-16 surrogate (\\ud800-\\udfff)")
                stack.append((value, depth + 1))
        elif isinstance(node, list):
            stack.extend((value, depth + 1) for value in node)


def body_int(body: dict[str, Any], name: str, *, minimum: int | None = None, maximum: int | None = None,
             required: bool = True, default: int | None = None) -> int | None:
    if name not in body or body[name] is None:
        if required:
            raise invalid_field(name, "is required")
        return default
    return _check_int(name, body[name], minimum, maximum)


def _check_int(name: str, value: Any, minimum: int | None, maximum: int | None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid_field(name, "must be an integer")
    # Every id and count lives in a 32-bit INT column: larger numbers are refused here, not by the driver.
    minimum = INT_MIN if minimum is None else minimum
    maximum = INT_MAX if maximum is None else maximum
    if minimum is not None and value < minimum:
        raise invalid_field(name, f"must be at least {minimum}")
    if maximum is not None and value > maximum:
        raise invalid_field(name, f"must be at most {maximum}")
    return value


def body_str(body: dict[str, Any], name: str, *, max_length: int, required: bool = True,
             default: str | None = None) -> str | None:
    if name not in body or body[name] is None:
        if required:
            raise invalid_field(name, "is required")
        return default
    value = body[name]
    if not isinstance(value, str):
        raise invalid_field(name, "must be a string")
    value = value.strip()
    if required and not value:
        raise invalid_field(name, "must not be empty")
    if len(value) > max_length:
        raise invalid_field(name, f"must be at most {max_length} characters")
    return value


def body_list(body: dict[str, Any], name: str, *, max_items: int) -> list[Any]:
    value = body.get(name)
    if not isinstance(value, list) or not value:
        raise invalid_field(name, "must be a non-empty list")
    if len(value) > max_items:
        raise invalid_field(name, f"must have at most {max_items} entries")
    return value


def query_int(name: str, *, minimum: int | None = None, maximum: int | None = None,
              default: int | None = None) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise invalid_field(name, "must be an integer") from None
    return _check_int(name, value, minimum, maximum)


def query_float(name: str, *, minimum: float, maximum: float, default: float | None = None) -> float | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise invalid_field(name, "must be a number") from None
    if not math.isfinite(value) or not minimum <= value <= maximum:
        raise invalid_field(name, f"must be between {minimum} and {maximum}")
    return value


def query_str(name: str, *, max_length: int, choices: tuple[str, ...] | None = None) -> str | None:
    raw = request.args.get(name)
    if raw is None or raw.strip() == "":
        return None
    value = raw.strip()
    if len(value) > max_length:
        raise invalid_field(name, f"must be at most {max_length} characters")
    if choices is not None and value not in choices:
        raise invalid_field(name, f"must be one of {', '.join(choices)}")
    return value


def paging(default_per_page: int = 20) -> tuple[int, int, int]:
    """(page, per_page, offset) from ?page=&per_page=."""
    page = query_int("page", minimum=1, maximum=10_000, default=1)
    per_page = query_int("per_page", minimum=1, maximum=MAX_PER_PAGE, default=default_per_page)
    return page, per_page, (page - 1) * per_page


def page_of(items: list[Any], page: int, per_page: int, total: int) -> dict[str, Any]:
    return {"items": items, "page": page, "per_page": per_page, "total": total}
