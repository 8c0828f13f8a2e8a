"""The console's forms: every field re-validated on the server, whatever the browser checked."""
from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (BooleanField, FloatField, IntegerField, PasswordField, SelectField, StringField,
                     TextAreaField)
from wtforms.validators import DataRequired, EqualTo, Length, NumberRange, Optional

from app.models.types import MAX_INT
from app.operators.accounts import MIN_PASSWORD_LENGTH

# An id past the INTEGER column's range would reach the database (SQLite: OverflowError, a 500); refused here.
ID = NumberRange(1, MAX_INT)


class LoginForm(FlaskForm):
    username = StringField("用户名", validators=[DataRequired(), Length(max=64)])
    password = PasswordField("密码", validators=[DataRequired(), Length(max=256)])


class PasswordForm(FlaskForm):
    current = PasswordField("当前密码", validators=[DataRequired(), Length(max=256)])
    new = PasswordField("新密码", validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=256)])
    confirm = PasswordField("再次输入新密码", validators=[DataRequired(), EqualTo("new", "两次输入的密码不一致。")])


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token."""


class RefundForm(FlaskForm):
    reason = StringField("退款原因", validators=[DataRequired("请填写退款原因。"), Length(max=60)])


class StockForm(FlaskForm):
    store_id = IntegerField(validators=[DataRequired(), ID])
    sku_id = IntegerField(validators=[DataRequired(), ID])
    quantity = IntegerField("库存", validators=[NumberRange(0, 1_000_000)])


class PriceForm(FlaskForm):
    sku_id = IntegerField(validators=[DataRequired(), ID])
    price_yuan = StringField("价格（元）", validators=[DataRequired(), Length(max=12)])


class ImportForm(FlaskForm):
    file = FileField("CSV 文件", validators=[FileRequired("请选择文件。")])


class StoreForm(FlaskForm):
    name = StringField("店名", validators=[DataRequired(), Length(max=100)])
    address = StringField("地址", validators=[DataRequired(), Length(max=255)])
    latitude = FloatField("纬度", validators=[NumberRange(-90, 90)])
    longitude = FloatField("经度", validators=[NumberRange(-180, 180)])
    phone = StringField("电话", validators=[Optional(), Length(max=32)])
    hours = TextAreaField("营业时间", validators=[Optional(), Length(max=500)])
    active = BooleanField("营业中")


class InviteForm(FlaskForm):
    name = StringField("姓名", validators=[Optional(), Length(max=64)])
    role = SelectField("角色", choices={"clerk": "店员", "manager": "店长"})


class UserForm(FlaskForm):
    username = StringField("用户名", validators=[DataRequired(), Length(max=64)])
    role = SelectField("角色", choices={"manager": "店长（所管门店）", "viewer": "只读",
                                           "owner": "店主（全部门店）"})
