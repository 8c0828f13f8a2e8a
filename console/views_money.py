"""Money (payments and refunds per day and store, refunds that need a person, reconciliation, CSV for the
accountant) and the Dashboard (SVG charts drawn on the server)."""
from __future__ import annotations

from flask import Response, g, render_template, request

from app.orders.dashboard import dashboard as dashboard_figures
from app.operators import accounts
from app.payments.ledger import money_report, report_csv
from console.auth import bp
from console.charts import grouped_bars, hbars
from console.forms import RefundForm
from console.scope import store_ids


def _days() -> int:
    raw = request.args.get("days", "14")
    return min(92, max(1, int(raw))) if raw.isdigit() else 14


@bp.route("/money")
def money():
    report = money_report(store_ids(), _days())
    names = {s.id: s.name for s in accounts.visible_stores(g.operator)}
    return render_template("console/money.html", report=report, names=names, days=_days(), refund_form=RefundForm())


@bp.route("/money.csv")
def money_csv():
    names = {s.id: s.name for s in accounts.visible_stores(g.operator)}
    return Response(report_csv(money_report(store_ids(), _days()), names), content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": "attachment; filename=money.csv"})


@bp.route("/dashboard")
def dashboard():
    stores = accounts.visible_stores(g.operator)
    figures = dashboard_figures(store_ids(), _days())
    labels = [d.strftime("%m-%d") for d in figures.days]
    series = [(s.name, [figures.per_day.get(s.id, {}).get(d, (0, 0))[0] for d in figures.days]) for s in stores]
    revenue = [(s.name, [figures.per_day.get(s.id, {}).get(d, (0, 0))[1] / 100 for d in figures.days])
               for s in stores]
    charts = {"orders": grouped_bars(labels, series, " 单"), "revenue": grouped_bars(labels, revenue, " 元"),
              "funnel": hbars([(label, value) for label, value in figures.funnel]),
              "top": hbars([(title, qty) for title, qty, _ in figures.top_products], " 件")}
    return render_template("console/dashboard.html", figures=figures, charts=charts, days=_days())
