"""Defining coupons and issuing them: each issue spends the definition's budget with one guarded UPDATE (so a burst
of claims never takes it past its count or fen), and the per-customer limit is held by a unique claim number."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from app.errors import Conflict, NotFound
from app.extensions import db
from app.models import COUPON_KINDS, Coupon, CouponDefinition, CouponDefinitionStore, Store, utcnow


class CouponLimitReached(Conflict):
    code = "coupon_limit_reached"


class CouponBudgetExhausted(Conflict):
    code = "coupon_budget_exhausted"


def define(kind: str, title: str, amount_fen: int, valid_days: int, store_ids: list[int], *, min_spend_fen: int = 0,
           per_customer_limit: int | None = 1, budget_count: int | None = None, budget_fen: int | None = None,
           funded_by_store_id: int | None = None) -> CouponDefinition:
    """A new coupon definition; raises ValueError for a bad value. The caller commits."""
    if kind not in COUPON_KINDS:
        raise ValueError(f"kind must be one of {', '.join(COUPON_KINDS)}")
    if not title or len(title) > 60:
        raise ValueError("title must be 1-60 characters")
    if amount_fen <= 0 or min_spend_fen < 0:
        raise ValueError("amount must be positive and the minimum spend not negative")
    if not 1 <= valid_days <= 366:
        raise ValueError("valid days must be 1-366")
    for name, value in (("per-customer limit", per_customer_limit), ("budget count", budget_count),
                        ("budget fen", budget_fen)):
        if value is not None and value < 1:
            raise ValueError(f"{name} must be at least 1 (or unset for no limit)")
    if not store_ids:
        raise ValueError("a coupon must be valid at one store at least")
    known = set(db.session.scalars(select(Store.id).where(Store.id.in_(store_ids))))
    missing = sorted(set(store_ids) - known)
    if missing or (funded_by_store_id is not None and db.session.get(Store, funded_by_store_id) is None):
        raise ValueError(f"unknown store {missing[0] if missing else funded_by_store_id}")
    definition = CouponDefinition(kind=kind, title=title, amount_fen=amount_fen, min_spend_fen=min_spend_fen,
                                  valid_days=valid_days, per_customer_limit=per_customer_limit,
                                  budget_count=budget_count, budget_fen=budget_fen, issued_count=0, issued_fen=0,
                                  funded_by_store_id=funded_by_store_id, active=True, created_at=utcnow())
    db.session.add(definition)
    db.session.flush()
    db.session.add_all(CouponDefinitionStore(definition_id=definition.id, store_id=s) for s in sorted(set(store_ids)))
    db.session.flush()
    return definition


def issue(definition: CouponDefinition, customer_id: int, *, source_order_id: int | None = None,
          now: datetime | None = None) -> Coupon:
    """Give one coupon of `definition` to a customer, in the caller's transaction. Raises CouponLimitReached or
    CouponBudgetExhausted (409); on either, the caller rolls back (nothing of this call is left).

    The budget UPDATE is guarded by the budget itself: on MariaDB concurrent issues queue on the definition's row
    and each re-reads the counters it updates, so exactly `budget_count` of any burst get through.
    """
    now = now or utcnow()
    details = {"definition_id": definition.id}
    held = 0
    if definition.per_customer_limit is not None:
        held = db.session.scalar(select(func.count()).select_from(Coupon).where(
            Coupon.definition_id == definition.id, Coupon.customer_id == customer_id)) or 0
        if held >= definition.per_customer_limit:
            raise CouponLimitReached("You already hold as many of this coupon as one customer may.", details)
    else:
        held = db.session.scalar(select(func.max(Coupon.claim_no)).where(
            Coupon.definition_id == definition.id, Coupon.customer_id == customer_id)) or 0
    table = CouponDefinition.__table__.c
    spent = db.session.execute(
        update(CouponDefinition)
        .where(CouponDefinition.id == definition.id, CouponDefinition.active.is_(True),
               (table.budget_count.is_(None)) | (table.issued_count + 1 <= table.budget_count),
               (table.budget_fen.is_(None)) | (table.issued_fen + definition.amount_fen <= table.budget_fen))
        .values(issued_count=table.issued_count + 1, issued_fen=table.issued_fen + definition.amount_fen)
        .execution_options(synchronize_session=False))
    if spent.rowcount != 1:
        raise CouponBudgetExhausted("This coupon has run out.", details)
    coupon = Coupon(definition_id=definition.id, customer_id=customer_id, claim_no=held + 1,
                    amount_fen=definition.amount_fen, min_spend_fen=definition.min_spend_fen, status="available",
                    source_order_id=source_order_id, issued_at=now,
                    expires_at=now + timedelta(days=definition.valid_days))
    db.session.add(coupon)
    try:
        db.session.flush()
    except IntegrityError:
        # The same customer claimed at the same instant (same claim_no), or a repeated job issued for the same
        # order: the other one won. The caller's rollback also undoes the budget spent above.
        raise CouponLimitReached("This coupon was just issued to you.", details) from None
    return coupon


def claimable(definition_id: int) -> CouponDefinition:
    definition = db.session.get(CouponDefinition, definition_id)
    if definition is None or not definition.active or definition.kind != "merchant":
        raise NotFound(f"Coupon {definition_id} does not exist or cannot be claimed.")
    return definition


def compensation_definition(store_id: int, amount_fen: int) -> CouponDefinition:
    """The store's coupon for its late orders (funded by itself, valid there, no budget: always issued); a new
    definition when the store changed the amount."""
    definition = db.session.scalar(
        select(CouponDefinition).where(CouponDefinition.kind == "compensation",
                                       CouponDefinition.funded_by_store_id == store_id,
                                       CouponDefinition.amount_fen == amount_fen,
                                       CouponDefinition.active.is_(True))
        .order_by(CouponDefinition.id).limit(1))
    if definition is None:
        definition = define("compensation", "迟到补偿券", amount_fen, 14, [store_id], per_customer_limit=None,
                            funded_by_store_id=store_id)
    return definition


class SubsidyPaused(Conflict):
    code = "subsidy_paused"


def claim(customer_id: int, definition_id: int) -> Coupon:
    """A customer claims a merchant-funded coupon. Only while its funding store (or, for the merchant's own coupons,
    one of the stores where it is valid) meets the service thresholds; 409 subsidy_paused says why otherwise."""
    from app.promises.figures import figures

    definition = claimable(definition_id)
    store_ids = ([definition.funded_by_store_id] if definition.funded_by_store_id is not None
                 else [s.id for s in definition.stores])
    judged = [figures(store_id) for store_id in store_ids]
    if not any(f.subsidy_allowed for f in judged):
        raise SubsidyPaused("This coupon is paused: the store's recent service is below the merchant's bar.",
                            {"definition_id": definition_id,
                             "reasons": {str(f.store_id): f.reasons for f in judged}})
    return issue(definition, customer_id)


def offers_at(store_id: int) -> list[CouponDefinition]:
    """Merchant-funded coupons valid at a store that a customer may claim now (active, budget left)."""
    table = CouponDefinition.__table__.c
    return list(db.session.scalars(
        select(CouponDefinition).join(CouponDefinitionStore, CouponDefinitionStore.definition_id == CouponDefinition.id)
        .where(CouponDefinitionStore.store_id == store_id, CouponDefinition.kind == "merchant",
               CouponDefinition.active.is_(True),
               (table.budget_count.is_(None)) | (table.issued_count < table.budget_count),
               (table.budget_fen.is_(None)) | (table.issued_fen + table.amount_fen <= table.budget_fen))
        .order_by(CouponDefinition.id)))
