"""A row's instance in the request's session without reading it: for the principal of a request (the customer a
cached token names, the seat whose check just read its few columns), whose other columns most requests never read.

Reading a row through the ORM (`session.get` of an expired instance, or the lazy load of an unloaded one) costs
about 1.6 times the function calls of a point SELECT of the few columns needed, as a Core statement built once, plus
this attachment: the ORM builds, keys and compiles a statement per load, and loads every column, each a column
definition the driver parses in Python (bench/README.md, "CPU per request", perf-auth). So the caller reads what it
needs, lean, and attaches the instance here.
"""
from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import inspect
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from app.extensions import db

Model = TypeVar("Model")


def attached(model: type[Model], pk: int, **loaded: Any) -> Model:
    """The `model` with primary key `pk` in the request's session, without a SELECT, with its `loaded` columns as
    just read from the database in this transaction; its other columns load, fresh, on first access. The instance
    the session already holds (a test's session that outlives its requests), else a new one."""
    known = db.session.identity_map.get(identity_key(model, (pk,)))
    if known is not None:
        load_into(known, {"id": pk, **loaded})
        return known  # type: ignore[return-value]
    instance = model(id=pk, **loaded)  # type: ignore[call-arg]
    make_transient_to_detached(instance)
    db.session.add(instance)
    return instance


def load_into(instance: object, values: dict[str, Any]) -> None:
    """Each of `values` that `instance` has not loaded (or that a commit expired) as read from the database; what
    it holds already (read in this transaction, or changed and not yet flushed) is left as it is."""
    unloaded = inspect(instance).unloaded
    for key, value in values.items():
        if key in unloaded:
            set_committed_value(instance, key, value)
