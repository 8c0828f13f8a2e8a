"""The staff mini-program's attribution and commission (issue 17): the seat's figures, the store's leaderboard, a
manager's adjustments, after-sale refunds and payouts."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from app.commission.ledger import MAX_ADJUSTMENT_FEN
from app.models.commission import ENTRY_KINDS
from miniprogram_api.schemas.common import Body, Id, Out, Query, text

# A local date (YYYY-MM-DD, in STORE_TIMEZONE; `to` includes its whole day) or an ISO 8601 time with its offset, as
# datetime.fromisoformat reads them (app/commission/periods.py decides): "T" or a space before the time, the offset's
# colon optional (+0800, as dayjs' ZZ writes it), seconds and their fraction optional.
DAY_OR_TIME = (r"^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}(:?[0-9]{2}(:?[0-9]{2}([.,][0-9]{1,6})?)?)?"
               r"(Z|[+-][0-9]{2}(:?[0-9]{2})?))?$")
# The current day, week (from Monday) or month, or a month YYYY-MM; local.
PERIOD = r"^(day|week|month|[0-9]{4}-[0-9]{2})$"


class StatsQuery(Query):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    from_: str | None = Field(None, alias="from", pattern=DAY_OR_TIME, max_length=40,
                              description="YYYY-MM-DD (local) or ISO 8601 with offset; default: this month's start")
    to: str | None = Field(None, pattern=DAY_OR_TIME, max_length=40,
                           description="YYYY-MM-DD (local, the whole day) or ISO 8601 with offset; default: this "
                                       "month's end; at most 366 days after from")


class LeaderboardQuery(Query):
    store_id: Id | None = Field(None, description="the seat's own store (the default); another store is 403")
    period: str | None = Field(None, pattern=PERIOD, max_length=10, description="day, week, month (default) or YYYY-MM")


class PeriodOut(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    from_: str = Field(alias="from", description="inclusive, UTC")
    to: str = Field(description="exclusive, UTC")


class CommissionOut(Out):
    earned_fen: int
    reversed_fen: int
    adjusted_fen: int
    net_fen: int


class SeatStatsOut(Out):
    seat_id: int
    period: PeriodOut
    customers_attributed: int = Field(ge=0)
    orders: int = Field(ge=0, description="orders of attributed customers paid in the period")
    amount_paid_fen: int = Field(ge=0)
    handovers: int = Field(ge=0)
    median_ready_to_handover_min: float | None
    commission: CommissionOut


class LeaderboardRowOut(Out):
    """A clerk sees the figures on their own row only; a manager on every row."""
    seat_id: int
    name: str
    role: str = Field(json_schema_extra={"enum": ["clerk", "manager"]})
    rank: int = Field(ge=1, description="ties share a rank")
    customers_attributed: int | None = Field(None, ge=0)
    orders: int | None = Field(None, ge=0)
    amount_paid_fen: int | None = Field(None, ge=0)
    handovers: int | None = Field(None, ge=0)
    median_ready_to_handover_min: float | None = None
    commission: CommissionOut | None = None


class FunnelOut(Out):
    official_account_follows: int = Field(ge=0)
    store_code_arrivals: int = Field(ge=0)
    staff_code_arrivals: int = Field(ge=0)
    customers_attributed_to_staff: int = Field(ge=0)
    paying_customers: int = Field(ge=0)
    paid_orders: int = Field(ge=0)
    amount_paid_fen: int = Field(ge=0)
    paid_orders_with_a_seat: int = Field(ge=0)


class LeaderboardOut(Out):
    store_id: int
    period: PeriodOut
    items: list[LeaderboardRowOut] = Field(description="ranked by net commission, then handovers, then orders")
    funnel: FunnelOut | None = Field(None, description="managers only")


class AdjustmentBody(Body):
    seat_id: Id
    amount_fen: int = Field(ge=-MAX_ADJUSTMENT_FEN, le=MAX_ADJUSTMENT_FEN, description="signed, not zero")
    reason: text(200)  # type: ignore[valid-type]


class AdjustmentOut(Out):
    id: int
    seat_id: int
    kind: str = Field(json_schema_extra={"enum": list(ENTRY_KINDS)})
    amount_fen: int
    reason: str | None
    created_at: str | None


class PayoutBody(Body):
    seat_id: Id
    amount_fen: int | None = Field(None, ge=1, le=MAX_ADJUSTMENT_FEN, description="default: all that is payable")


class MerchantTransferOut(Out):
    """The fields of wx.requestMerchantTransfer."""
    mchId: str
    appId: str
    package: str


class PayoutOut(Out):
    id: int
    seat_id: int
    amount_fen: int = Field(ge=1)
    state: str = Field(description="REQUESTED (not yet accepted by WeChat Pay), then WeChat Pay's bill state: "
                                   "ACCEPTED, PROCESSING, WAIT_USER_CONFIRM, TRANSFERING, SUCCESS, FAIL, CANCELING, "
                                   "CANCELLED")
    out_bill_no: str
    fail_reason: str | None
    created_at: str | None
    updated_at: str | None
    request_merchant_transfer: MerchantTransferOut | None = Field(
        None, description="while WAIT_USER_CONFIRM: pass to wx.requestMerchantTransfer so the clerk confirms")


class PayoutsOut(Out):
    payable_fen: int
    items: list[PayoutOut] = Field(description="the latest 50, newest first")
