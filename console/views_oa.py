"""Official account: keyword rules, the menu (edit and push), followers per store, and each store's QR codes."""
from __future__ import annotations

import json
import re

from flask import Response, flash, g, redirect, render_template, request, url_for
from sqlalchemy import func, select

from app.errors import InvalidRequest
from app.extensions import db
from app.followers import rules as rule_service
from app.models import ConsoleAuditEntry, Follower
from app.models.types import MAX_INT
from app.operators import accounts
from app.operators.audit import record
from console import wechat_calls
from console.auth import bp, owner_required
from console.forms import ActionForm

MAX_BUTTONS, MAX_SUB_BUTTONS = 3, 5  # WeChat's custom menu limits (menu/create)


def _current_menu() -> str:
    pushed = db.session.scalar(select(ConsoleAuditEntry.after).where(ConsoleAuditEntry.action == "oa.menu")
                               .order_by(ConsoleAuditEntry.id.desc()).limit(1))
    if pushed:
        return json.dumps(json.loads(pushed), ensure_ascii=False, indent=2)
    from official_account.cli import load_menu

    return json.dumps(load_menu(), ensure_ascii=False, indent=2)


@bp.route("/official-account")
def official_account():
    stores = accounts.visible_stores(g.operator)
    ids = [s.id for s in stores]
    counts = dict(db.session.execute(
        select(Follower.source_store_id, func.count()).where(Follower.subscribed.is_(True),
                                                             Follower.source_store_id.in_(ids or [-1]))
        .group_by(Follower.source_store_id)).all())
    return render_template("console/official_account.html", stores=stores, counts=counts,
                           rules=rule_service.list_rules(), menu=_current_menu(), action=ActionForm())


@bp.route("/official-account/rules", methods=["POST"])
@owner_required
def add_rule():
    form = request.form
    priority = form.get("priority", "0")
    # ASCII digits within the INTEGER column ("²" passes isdigit() and fails int(); a huge one fails the INSERT).
    if not re.fullmatch(r"-?[0-9]{1,10}", priority) or not -MAX_INT - 1 <= int(priority) <= MAX_INT:
        raise InvalidRequest("优先级应为整数。")
    rule = rule_service.add_rule(form.get("keyword", ""), form.get("match_type", "exact"), int(priority),
                                 form.get("reply_type", "text"), content=form.get("content", "")[:2000],
                                 title=form.get("title", "")[:64], url=form.get("url", "")[:512])
    db.session.flush()
    record(g.operator, "oa.rule.add", f"rule:{rule.id}", None, {"keyword": rule.keyword, "match": rule.match_type})
    flash("规则已添加。", "info")
    return redirect(url_for("console.official_account"))


@bp.route("/official-account/rules/<int:rule_id>/remove", methods=["POST"])
@owner_required
def remove_rule(rule_id: int):
    rule_service.remove_rule(rule_id)
    record(g.operator, "oa.rule.remove", f"rule:{rule_id}", None, None)
    flash("规则已删除。", "info")
    return redirect(url_for("console.official_account"))


def _check_menu(text: str) -> dict:
    try:
        menu = json.loads(text)
    except ValueError:
        raise InvalidRequest("菜单不是有效的 JSON。") from None
    buttons = menu.get("button") if isinstance(menu, dict) else None
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= MAX_BUTTONS:
        raise InvalidRequest(f"菜单需要 1 到 {MAX_BUTTONS} 个一级按钮（button）。")
    for button in buttons:
        subs = button.get("sub_button", []) if isinstance(button, dict) else None
        if not isinstance(subs, list) or len(subs) > MAX_SUB_BUTTONS:
            raise InvalidRequest(f"每个一级按钮最多 {MAX_SUB_BUTTONS} 个子按钮。")
    return menu


@bp.route("/official-account/menu", methods=["POST"])
@owner_required
def push_menu():
    menu = _check_menu(request.form.get("menu", ""))
    wechat_calls.push_menu(menu)  # WeChat checks the rest (names, types, URLs) and answers with an errcode
    record(g.operator, "oa.menu", "official_account:menu", None, menu)
    flash("菜单已推送到公众号。", "info")
    return redirect(url_for("console.official_account"))


@bp.route("/stores/<int:store_id>/qrcode")
def store_qrcode(store_id: int):
    accounts.require_store(g.operator, store_id)
    image = wechat_calls.store_oa_qrcode(store_id)
    return Response(image.content, mimetype=image.content_type, headers={
        "Content-Disposition": f"attachment; filename=store_{store_id}_qrcode.{image.extension}"})


@bp.route("/stores/<int:store_id>/miniprogram-code")
def store_miniprogram_code(store_id: int):
    accounts.require_store(g.operator, store_id)
    image = wechat_calls.store_miniprogram_code(store_id)
    return Response(image.content, mimetype=image.content_type, headers={
        "Content-Disposition": f"attachment; filename=store_{store_id}_miniprogram.{image.extension}"})
