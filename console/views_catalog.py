"""Catalog: the per-store stock table with inline edit, prices, CSV import (preview first, every bad line named,
then import) and CSV export. Stock of a store: its managers and the owner; prices and imports (chain-wide): the
owner."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask import Response, current_app, flash, g, jsonify, redirect, render_template, request, url_for

from app.catalog import admin as catalog_admin
from app.catalog import import_job
from app.errors import InvalidRequest, NotFound
from app.extensions import db
from app.models import ConsoleImport
from app.operators import accounts
from app.operators.audit import record
from console.auth import bp, owner_required, wants_json, writer_required
from console.forms import ImportForm, PriceForm, StockForm

PREVIEW_ROWS = 50


@bp.route("/catalog")
def catalog():
    stores = accounts.visible_stores(g.operator)
    rows = catalog_admin.stock_table([s.id for s in stores])
    writable = g.operator.role != "viewer"
    return render_template("console/catalog.html", stores=stores, rows=rows, writable=writable,
                           form=StockForm(), price_form=PriceForm())


@bp.route("/catalog/stock", methods=["POST"])
@writer_required
def set_stock():
    form = StockForm()
    if not form.validate():
        raise InvalidRequest("库存须为 0 到 1000000 之间的整数。", {"fields": {k: v[0] for k, v in form.errors.items()}})
    store = accounts.require_store(g.operator, form.store_id.data, write=True)
    before, after = catalog_admin.set_stock(store.id, form.sku_id.data, form.quantity.data)
    record(g.operator, "stock.set", f"store:{store.id}/sku:{form.sku_id.data}", {"quantity": before},
           {"quantity": after}, store.id)
    if wants_json():
        return jsonify({"store_id": store.id, "sku_id": form.sku_id.data, "quantity": after})
    flash("库存已更新。", "info")
    return redirect(url_for("console.catalog"))


def _fen(text: str) -> int:
    try:
        value = Decimal(text.strip().lstrip("¥"))
    except InvalidOperation:
        raise InvalidRequest("价格应为元，如 28 或 28.50。", {"fields": {"price_yuan": "number"}}) from None
    if value != value.quantize(Decimal("0.01")) or value < 0:
        raise InvalidRequest("价格最多两位小数，且不能为负。", {"fields": {"price_yuan": "number"}})
    return int(value * 100)


@bp.route("/catalog/price", methods=["POST"])
@owner_required
def set_price():
    form = PriceForm()
    if not form.validate():
        raise InvalidRequest("价格格式不正确。")
    before, after = catalog_admin.set_price(form.sku_id.data, _fen(form.price_yuan.data))
    record(g.operator, "price.set", f"sku:{form.sku_id.data}", {"price_fen": before}, {"price_fen": after})
    if wants_json():
        return jsonify({"sku_id": form.sku_id.data, "price_fen": after})
    flash("价格已更新。", "info")
    return redirect(url_for("console.catalog"))


@bp.route("/catalog/export.csv")
def export_catalog():
    stores = accounts.visible_stores(g.operator)
    return Response(catalog_admin.export_csv([s.id for s in stores]), content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": "attachment; filename=catalog.csv"})


@bp.before_app_request
def _larger_uploads():
    # The API's body cap (MAX_REQUEST_BYTES) is small on purpose; the owner's catalog upload gets its own.
    if request.endpoint == "console.import_catalog" and request.method == "POST":
        request.max_content_length = current_app.config["CONSOLE_IMPORT_MAX_BYTES"]


@bp.route("/catalog/import", methods=["GET", "POST"])
@owner_required
def import_catalog():
    form = ImportForm()
    if request.method == "GET" or not form.validate_on_submit():
        status = 400 if request.method == "POST" else 200
        return render_template("console/import.html", form=form, preview=None), status
    text = catalog_admin.decode_upload(form.file.data.read())
    row, rows, problems = import_job.check(text, form.file.data.filename or "", g.operator.id)
    return render_template("console/import.html", form=form, preview=rows[:PREVIEW_ROWS], total=len(rows),
                           problems=problems, upload=row), 200 if not problems else 422


@bp.route("/catalog/imports/<int:import_id>/run", methods=["POST"])
@owner_required
def confirm_import(import_id: int):
    row = import_job.queue_import(import_id, g.operator.id)
    record(g.operator, "catalog.import", f"import:{row.id}", None, {"rows": row.total_rows, "file": row.filename})
    return redirect(url_for("console.import_progress", import_id=row.id))


def _own_import(import_id: int) -> ConsoleImport:
    row = db.session.get(ConsoleImport, import_id)
    if row is None or row.user_id != g.operator.id:
        raise NotFound("导入不存在。")
    return row


@bp.route("/catalog/imports/<int:import_id>")
@owner_required
def import_progress(import_id: int):
    row = _own_import(import_id)
    return render_template("console/import_progress.html", upload=row, done=import_job.progress(row))


@bp.route("/catalog/imports/<int:import_id>.json")
@owner_required
def import_progress_json(import_id: int):
    row = _own_import(import_id)
    return jsonify({"status": row.status, "done": import_job.progress(row), "total": row.total_rows,
                    "message": row.message if row.status == "failed" else ""})
