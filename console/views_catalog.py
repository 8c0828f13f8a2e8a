"""Catalog: the per-store stock table with inline edit, prices, CSV import (preview first, every bad line named,
then import) and CSV export. Stock of a store: its managers and the owner; prices and imports (chain-wide): the
owner."""
from __future__ import annotations

import io
import os
import re
import secrets
from decimal import Decimal, InvalidOperation

from flask import Response, current_app, flash, g, jsonify, redirect, render_template, request, url_for

from app.catalog import admin as catalog_admin
from app.catalog.importer import ImportFailed, apply_rows, parse_rows
from app.errors import InvalidRequest, NotFound
from app.extensions import db
from app.operators import accounts
from app.operators.audit import record
from console.auth import bp, owner_required, wants_json, writer_required
from console.forms import ImportForm, PriceForm, StockForm

PREVIEW_ROWS = 50
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,40}$")


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
    db.session.commit()
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
    db.session.commit()
    if wants_json():
        return jsonify({"sku_id": form.sku_id.data, "price_fen": after})
    flash("价格已更新。", "info")
    return redirect(url_for("console.catalog"))


@bp.route("/catalog/export.csv")
def export_catalog():
    stores = accounts.visible_stores(g.operator)
    return Response(catalog_admin.export_csv([s.id for s in stores]), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": "attachment; filename=catalog.csv"})


def _upload_dir() -> str:
    path = os.path.join(current_app.instance_path, "console-imports")
    os.makedirs(path, exist_ok=True)
    return path


def _upload_path(token: str) -> str:
    if not _TOKEN.match(token):
        raise NotFound("导入文件不存在或已过期。")
    return os.path.join(_upload_dir(), f"{token}.csv")


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
    problems, rows = [], []
    try:
        rows = parse_rows(io.StringIO(text, newline=""))
    except ImportFailed as failed:
        problems = failed.problems
    token = None
    if not problems and rows:
        token = secrets.token_urlsafe(18)
        with open(_upload_path(token), "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
    elif not problems:
        problems = ["文件里没有数据行。"]
    return render_template("console/import.html", form=form, preview=rows[:PREVIEW_ROWS], total=len(rows),
                           problems=problems, token=token), 200 if not problems else 422


@bp.route("/catalog/import/<token>", methods=["POST"])
@owner_required
def confirm_import(token: str):
    path = _upload_path(token)
    if not os.path.exists(path):
        raise NotFound("导入文件不存在或已过期，请重新上传。")
    with open(path, encoding="utf-8", newline="") as handle:
        try:
            rows = parse_rows(handle)  # again: the catalog or the stores may have changed since the preview
        except ImportFailed as failed:
            return render_template("console/import.html", form=ImportForm(), preview=[], total=0,
                                   problems=failed.problems, token=None), 422
    count = apply_rows(rows)
    record(g.operator, "catalog.import", f"import:{token[:8]}", None, {"rows": count})
    db.session.commit()
    os.remove(path)
    flash(f"已导入 {count} 行。", "info")
    return redirect(url_for("console.catalog"))
