"""What the schemas (schemas/, api_spec.py) build on: the JSON body read strictly before a model sees it (malformed
JSON, lone surrogates and absurd nesting are a 400 `invalid_request` naming the body, never a parser's 500), and the
list page of docs/api.md."""
from __future__ import annotations

import json
import re
from typing import Any

from flask import request

from app.errors import invalid_field

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


def page_of(items: list[Any], page: int, per_page: int, total: int) -> dict[str, Any]:
    return {"items": items, "page": page, "per_page": per_page, "total": total}
