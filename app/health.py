"""Liveness and readiness for the load balancer and the operator."""
from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import text

from app.extensions import db, redis_client

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    checks: dict[str, str] = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # any failure means "not ready", whatever the driver raised
        checks["database"] = f"error: {type(exc).__name__}"
    finally:
        db.session.rollback()
    redis = redis_client()
    if redis is None:
        checks["redis"] = "not configured"
    else:
        try:
            redis.ping()
            checks["redis"] = "ok"
        except Exception as exc:
            # Degraded, not down: payments, orders and redeem work without Redis (jobs wait in the outbox, the
            # catalog is read from the database, rate limits are per process), so the node stays in the pool.
            checks["redis"] = f"degraded: {type(exc).__name__}"
    ready = checks["database"] == "ok"
    status = ("ready" if checks["redis"] in ("ok", "not configured") else "degraded") if ready else "not_ready"
    return jsonify(status=status, checks=checks), 200 if ready else 503
