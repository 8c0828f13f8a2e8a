"""Stores (edit, hours, active), Staff (seats, invites with a QR code, disable), console users and the audit log."""
from __future__ import annotations

import segno
from flask import flash, g, redirect, render_template, request, url_for
from markupsafe import Markup
from sqlalchemy import func, select

from app.errors import InvalidRequest, NotFound
from app.extensions import db
from app.models import ConsoleUser, PickupAttempt, StaffSeat
from app.operators import accounts
from app.operators.audit import recent, record
from app.staff import service as staff_service
from app.stores.admin import create_store, update_store
from app.stores.service import opening_hours
from console.auth import bp, owner_required, writer_required
from console.forms import ActionForm, InviteForm, StoreForm, UserForm
from console.scope import chosen_store, store_ids

WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def hours_text(store) -> str:
    """The store's hours in the syntax the form (and the CLI) reads: one `day HH:MM-HH:MM` per interval."""
    return "; ".join(f"{WEEKDAY_NAMES[h['weekday']]} {h['open']}-{h['close']}" for h in opening_hours(store))


@bp.route("/stores")
def stores():
    return render_template("console/stores.html", stores=accounts.visible_stores(g.operator))


@bp.route("/stores/new", methods=["GET", "POST"])
@owner_required
def new_store():
    form = StoreForm()
    if form.validate_on_submit():
        try:
            store = create_store(form.name.data.strip(), form.address.data.strip(), form.latitude.data,
                                 form.longitude.data, form.phone.data or "", form.hours.data or "daily 09:00-21:00")
        except ValueError as exc:
            form.hours.errors.append(str(exc))
        else:
            record(g.operator, "store.create", f"store:{store.id}", None, {"name": store.name}, store.id)
            flash("门店已创建。", "info")
            return redirect(url_for("console.edit_store", store_id=store.id))
    return render_template("console/store.html", form=form, store=None), 400 if form.errors else 200


@bp.route("/stores/<int:store_id>", methods=["GET", "POST"])
def edit_store(store_id: int):
    store = accounts.require_store(g.operator, store_id, write=request.method == "POST")
    form = StoreForm(obj=store) if request.method == "GET" else StoreForm()
    if request.method == "GET":
        form.hours.data = hours_text(store)
    if form.validate_on_submit():
        try:
            before, after = update_store(store, form.name.data, form.address.data, form.latitude.data,
                                         form.longitude.data, form.phone.data or "", form.hours.data,
                                         bool(form.active.data))
        except ValueError as exc:
            db.session.rollback()
            form.hours.errors.append(str(exc))
        else:
            record(g.operator, "store.update", f"store:{store.id}", before, after, store.id)
            flash("门店已保存。", "info")
            return redirect(url_for("console.edit_store", store_id=store.id))
    return render_template("console/store.html", form=form, store=store), 400 if form.errors else 200


@bp.route("/staff")
def staff():
    store, stores_list = chosen_store()
    seats = list(db.session.scalars(select(StaffSeat).where(StaffSeat.store_id == store.id).order_by(StaffSeat.id)))
    handovers = dict(db.session.execute(
        select(PickupAttempt.seat_id, func.count()).where(PickupAttempt.store_id == store.id,
                                                          PickupAttempt.outcome == "redeemed")
        .group_by(PickupAttempt.seat_id)).all())
    return render_template("console/staff.html", store=store, stores=stores_list, seats=seats, handovers=handovers,
                           form=InviteForm(), action=ActionForm(), invite=None)


def qr_svg(text: str) -> Markup:
    """A QR code as inline SVG (segno, pure Python): no image library and no call to WeChat."""
    return Markup(segno.make(text, error="m").svg_inline(scale=5, border=2))


@bp.route("/staff/invite", methods=["POST"])
@writer_required
def invite_staff():
    store, stores_list = chosen_store(write=True)
    form = InviteForm()
    if not form.validate():
        raise InvalidRequest("邀请信息不正确。", {"fields": {k: v[0] for k, v in form.errors.items()}})
    if form.role.data == "manager" and g.operator.role != "owner":
        accounts.require_owner(g.operator)  # a manager invites clerks; only the owner makes managers
    seat = staff_service.create_seat(store.id, form.role.data, (form.name.data or "").strip())
    code, invite = staff_service.create_invite(seat, f"console:{g.operator.id}")
    record(g.operator, "staff.invite", f"seat:{seat.id}", None, {"role": seat.role, "name": seat.name}, store.id)
    seats = list(db.session.scalars(select(StaffSeat).where(StaffSeat.store_id == store.id).order_by(StaffSeat.id)))
    # Shown once: only the code's hash is kept.
    return render_template("console/staff.html", store=store, stores=stores_list, seats=seats, handovers={},
                           form=InviteForm(), action=ActionForm(),
                           invite={"code": code, "seat": seat, "expires_at": invite.expires_at, "qr": qr_svg(code)})


def _seat(seat_id: int) -> StaffSeat:
    seat = db.session.get(StaffSeat, seat_id)
    if seat is None:
        raise NotFound("员工不存在。")
    accounts.require_store(g.operator, seat.store_id, write=True)
    return seat


@bp.route("/staff/<int:seat_id>/disable", methods=["POST"])
@writer_required
def disable_staff(seat_id: int):
    seat = _seat(seat_id)
    if seat.role == "manager" and g.operator.role != "owner":
        accounts.require_owner(g.operator)
    staff_service.disable_seat(seat)
    record(g.operator, "staff.disable", f"seat:{seat.id}", {"active": True}, {"active": False}, seat.store_id)
    flash("该员工已停用，立即失效。", "info")
    return redirect(url_for("console.staff", store=seat.store_id))


@bp.route("/staff/<int:seat_id>/role", methods=["POST"])
@writer_required
def change_staff_role(seat_id: int):
    seat = _seat(seat_id)
    accounts.require_owner(g.operator)  # who is a store's manager is the owner's call
    before, after = staff_service.change_role(seat, request.form.get("role", ""))
    record(g.operator, "staff.role", f"seat:{seat.id}", {"role": before}, {"role": after}, seat.store_id)
    flash("角色已修改。", "info")
    return redirect(url_for("console.staff", store=seat.store_id))


@bp.route("/users/<int:user_id>/disable", methods=["POST"])
@owner_required
def disable_user(user_id: int):
    user = db.session.get(ConsoleUser, user_id)
    if user is None:
        raise NotFound("账号不存在。")
    accounts.disable_user(user, g.operator)
    flash("账号已停用。", "info")
    return redirect(url_for("console.users"))


@bp.route("/users", methods=["GET", "POST"])
@owner_required
def users():
    form = UserForm()
    all_stores = accounts.visible_stores(g.operator)
    created = None
    if form.validate_on_submit():
        # ASCII digits only ("²".isdigit() is true, int() refuses it); create_user refuses an unknown store (404).
        picked = [int(s) for s in request.form.getlist("stores") if s.isascii() and s.isdigit()]
        user, password = accounts.create_user(form.username.data, form.role.data, picked, actor=g.operator)
        created = {"username": user.username, "password": password}
    people = list(db.session.scalars(select(ConsoleUser).order_by(ConsoleUser.id)))
    links = {u.id: accounts.store_ids_of(u) for u in people}
    return render_template("console/users.html", form=form, stores=all_stores, people=people, links=links,
                           created=created), 400 if form.errors else 200


@bp.route("/audit")
def audit():
    entries = recent(store_ids(), limit=200)
    names = dict(db.session.execute(select(ConsoleUser.id, ConsoleUser.username)).all())
    return render_template("console/audit.html", entries=entries, names=names)
