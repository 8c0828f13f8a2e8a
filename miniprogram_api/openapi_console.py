"""The merchant console (issue 16, docs/console.md) in the OpenAPI document: HTML pages, form posts, CSV and images,
and the small JSON answers the pages' own scripts poll.

Form bodies are read from the Flask-WTF forms the views validate with (console/forms.py), so the document names the
same fields and limits the server checks; the few fields the views read from `request.form` directly are the
Pydantic models below. Every POST needs the session's CSRF token (form field csrf_token, or the X-CSRFToken header).
Errors are the HTML error page, or the JSON envelope when the request prefers application/json (console.auth.wants_json).
"""
from __future__ import annotations

from typing import Annotated, Any, Literal

from flask import current_app
from pydantic import BaseModel, Field
from wtforms import BooleanField, FileField, FloatField, IntegerField, SelectField
from wtforms.fields.core import UnboundField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from console import forms
from miniprogram_api.openapi_routes import (ERROR, ID, RETRY_AFTER, STRING, answer, body, components, header,
                                            json_answer, operation, param, path_id, ref)

CONSOLE = "console"
COOKIE = "consoleSession"  # the security scheme openapi.document() declares
SIGNED_IN = [{COOKIE: []}]
HTML = {"type": "string", "contentMediaType": "text/html"}
CSRF = {"type": "string", "minLength": 1, "description": "The session's CSRF token (in every page's forms and its "
                                                        "csrf-token meta tag; or sent as the X-CSRFToken header)"}

# -- form bodies --------------------------------------------------------------------------------------------------


def form_schema(form: type[forms.FlaskForm]) -> dict[str, Any]:
    """The JSON Schema of a Flask-WTF form's fields as its validators check them, csrf_token included."""
    fields = sorted(((name, value) for name in dir(form) if isinstance(value := getattr(form, name), UnboundField)),
                    key=lambda item: item[1].creation_counter)
    properties: dict[str, Any] = {}
    required = ["csrf_token"]
    for name, field in fields:
        validators = field.kwargs.get("validators", [])
        schema: dict[str, Any] = {"type": "string"}
        if issubclass(field.field_class, IntegerField):
            schema = {"type": "integer"}
        elif issubclass(field.field_class, FloatField):
            schema = {"type": "number"}
        elif issubclass(field.field_class, BooleanField):
            schema = {"type": "boolean", "description": "Checked when present (a value other than false or empty)"}
        elif issubclass(field.field_class, SelectField):
            schema = {"type": "string", "enum": list(field.kwargs["choices"])}
        elif issubclass(field.field_class, FileField):
            schema = {"type": "string", "contentMediaType": "text/csv"}
        for check in validators:
            if isinstance(check, Length):
                if check.min > 0:
                    schema["minLength"] = check.min
                if check.max >= 0:
                    schema["maxLength"] = check.max
            elif isinstance(check, NumberRange):
                schema.update({k: v for k, v in (("minimum", check.min), ("maximum", check.max)) if v is not None})
            elif isinstance(check, (DataRequired, InputRequired)) and schema["type"] == "string":
                schema.setdefault("minLength", 1)
        # Required: DataRequired, a range check or a choice (an absent value fails them); Optional and booleans not.
        if not any(isinstance(check, Optional) for check in validators) and field.field_class is not BooleanField \
                and (issubclass(field.field_class, SelectField)
                     or any(isinstance(check, (DataRequired, InputRequired, NumberRange)) for check in validators)):
            required.append(name)
        if field.args and isinstance(field.args[0], str):
            schema.setdefault("description", field.args[0])  # the form's label, as the page shows it
        properties[name] = schema
    properties["csrf_token"] = CSRF
    return {"type": "object", "title": form.__name__, "properties": properties, "required": required}


FORMS = {f"Console{form.__name__}": form for form in (
    forms.LoginForm, forms.PasswordForm, forms.ActionForm, forms.RefundForm, forms.StockForm, forms.PriceForm,
    forms.ImportForm, forms.StoreForm, forms.InviteForm, forms.UserForm)}


class ConsoleBackFields(BaseModel):
    """Where an order action returns to (console.views_desk._back)."""
    csrf_token: str = Field(min_length=1)
    back: Literal["today", ""] = Field("", description="today: back to Today; otherwise the order's page")
    store: str = Field("", description="The store of the Today page to return to")


class ConsoleRefundFields(ConsoleBackFields):
    reason: str = Field(min_length=1, max_length=60, description="Told to the customer with the refund")


class ConsoleRoleFields(BaseModel):
    csrf_token: str = Field(min_length=1)
    role: Literal["clerk", "manager"]


class ConsoleRuleFields(BaseModel):
    """A keyword reply rule (app/followers/rules.py add_rule)."""
    csrf_token: str = Field(min_length=1)
    keyword: str = Field(min_length=1, max_length=64, description="Matched after normalising (case, width, spaces)")
    match_type: Literal["exact", "contains"] = "exact"
    priority: int = Field(0, ge=-(2**31), le=2**31 - 1, description="Higher first")
    reply_type: Literal["text", "news"] = "text"
    content: str = Field("", max_length=2000, description="The reply text (a text rule needs it)")
    title: str = Field("", max_length=64, description="A news rule's title (needed with url)")
    url: str = Field("", max_length=512, description="A news rule's link")


class ConsoleMenuFields(BaseModel):
    csrf_token: str = Field(min_length=1)
    menu: str = Field(min_length=1, description='The menu as JSON: {"button": [1 to 3 buttons, each with at most 5 '
                                                '"sub_button"]}; WeChat checks the rest (menu/create)')


class ConsoleUserFields(BaseModel):
    csrf_token: str = Field(min_length=1)
    username: str = Field(min_length=1, max_length=64)
    role: Literal["manager", "viewer", "owner"]
    stores: list[Annotated[int, Field(ge=1, le=2**31 - 1)]] = Field(
        [], description="Ids of the stores a manager or viewer runs (repeat the field); an unknown one is a 404")


class ConsoleScanStatus(BaseModel):
    signed_in: bool = Field(description="Signed in (scan page) or bound (binding page)")
    next: str | None = Field(None, description="Where the page goes next, once true")


class ConsoleImportProgress(BaseModel):
    status: str = Field(description="checked, queued, running, done or failed")
    done: int = Field(ge=0)
    total: int = Field(ge=0)
    message: str = Field(description="Why it failed (empty otherwise)")


class ConsoleStockSaved(BaseModel):
    store_id: int
    sku_id: int
    quantity: int = Field(ge=0)


class ConsolePriceSaved(BaseModel):
    sku_id: int
    price_fen: int = Field(ge=0)


MODELS: list[type[BaseModel]] = [ConsoleBackFields, ConsoleRefundFields, ConsoleRoleFields, ConsoleRuleFields,
                                 ConsoleMenuFields, ConsoleUserFields, ConsoleScanStatus, ConsoleImportProgress,
                                 ConsoleStockSaved, ConsolePriceSaved]


def schemas() -> dict[str, Any]:
    return {**{name: form_schema(form) for name, form in FORMS.items()}, **components(MODELS)}


def _form(name: str, media: str = "application/x-www-form-urlencoded") -> dict[str, Any]:
    return body(media, {"$ref": f"#/components/schemas/{name}"})


def _fields(model: type[BaseModel]) -> dict[str, Any]:
    return body("application/x-www-form-urlencoded", ref(model))


# -- answers ------------------------------------------------------------------------------------------------------


def page(description: str) -> dict[str, Any]:
    return answer(description, {"text/html": HTML})


def moved(to: str) -> dict[str, Any]:
    return answer(f"Done: on to {to}", headers={"Location": header(f"Where to: {to}", {"type": "string",
                                                                                   "format": "uri-reference"})})


def refused(description: str, **headers: dict[str, Any]) -> dict[str, Any]:
    """The error page, or the envelope for a request that prefers JSON."""
    return answer(description, {"text/html": HTML, "application/json": ERROR},
                  {k.replace("_", "-"): v for k, v in headers.items()})


SIGN_IN = answer("Not signed in, or idle past CONSOLE_IDLE_TIMEOUT_S: to /console/login?next=…; a first login "
                 "that must change its password: to /console/password", headers={"Location": header(
                     "The sign-in or password page", {"type": "string", "format": "uri-reference"})})
RATE_LIMITED = refused("rate_limited: 30 codes per client address in 10 minutes", Retry_After=RETRY_AFTER)
UNAUTHENTICATED = json_answer("Not signed in, for a request that prefers JSON", ERROR)
BAD_FORM = refused("csrf_failed (the CSRF token is missing or wrong), or a field is invalid")
FORBIDDEN = refused("store_forbidden (not one of the user's stores), read_only (a viewer), or owner_only")


def _console(summary: str, ok: dict[int, dict[str, Any]], *, errors: dict[int, Any] | None = None,
             params: list[dict[str, Any]] = (), form: dict[str, Any] | None = None,  # type: ignore[assignment]
             public: bool = False, description: str = "") -> dict[str, Any]:
    """`errors`: status -> why (the error page or envelope; "" for 403: FORBIDDEN), or a whole response."""
    responses = {status: dict(response) for status, response in ok.items()}
    if not public:
        if 302 in responses:  # the success is a redirect too: it says where the other one goes
            responses[302]["description"] += "; or n" + SIGN_IN["description"][1:]
        responses.setdefault(302, SIGN_IN)
        responses[401] = UNAUTHENTICATED
    if form is not None:
        responses.setdefault(400, BAD_FORM)
    for status, why in (errors or {}).items():
        responses[status] = why if isinstance(why, dict) else FORBIDDEN if status == 403 else refused(why)
    return operation(CONSOLE, summary, responses, description=description, parameters=params, request_body=form,
                     security=[] if public else SIGNED_IN)


STORE = param("store", "query", ID, "The store (one of the user's; default: the first of them)")
DAYS = param("days", "query", {"type": "integer", "minimum": 1, "maximum": 92, "default": 14},
             "Days back from today (clamped to 1..92; anything else is 14)")
ORDER_NO = param("order_no", "path", {"type": "string", "pattern": "^[0-9]{1,32}$"}, "The order number")
NEXT = param("next", "query", STRING, "Where to go after signing in: a path inside "
             "/console/ (anything else goes to /console/)")
CSV = {"type": "string", "contentMediaType": "text/csv"}
IMAGE = {"type": "string", "format": "binary"}
# Images are passed on with the content type WeChat gave them: getwxacodeunlimit answers image/jpeg, while showqrcode
# (the official-account QR codes) labels its JPEG image/jpg (see dev/wechat_sandbox/jpeg.py).
OA_QR = {"image/jpg": IMAGE, "image/jpeg": IMAGE}
ATTACHMENT = {"Content-Disposition": header("attachment; filename=…")}
UPSTREAM = "upstream_unavailable: WeChat did not make the code; try again"


def _picture(summary: str, what: str, media: dict[str, Any]) -> dict[str, Any]:
    return _console(summary, {200: answer(f"The {what} as WeChat sent it", media, ATTACHMENT)},
                    params=[path_id("store_id", "store")], errors={403: "", 404: "No such store", 503: UPSTREAM})


def _scan_qr(summary: str, public: bool) -> dict[str, Any]:
    return _console(summary, {200: answer("The QR code as WeChat sent it (JPEG), not cached",
                                          OA_QR, {"Cache-Control": header("no-store")})},
                    errors={404: "No code in this session: reload the page", 503: UPSTREAM}, public=public)


def paths() -> dict[str, dict[str, dict[str, Any]]]:
    import_cap = current_app.config["CONSOLE_IMPORT_MAX_BYTES"]
    login_page = page("The sign-in form")
    return {
        "/console/static/{filename}": {"get": _console("The console's vendored CSS and JavaScript", {
            200: answer("The file", {"text/css": STRING, "text/javascript": STRING})},
            errors={404: "No such file"}, public=True,
            params=[param("filename", "path", {"type": "string", "enum": ["console.css", "console.js"]}, "The file")])},
        "/console/login": {
            "get": _console("Sign-in page", {200: login_page}, params=[NEXT], public=True),
            "post": _console("Sign in", {302: moved("next, or /console/")}, params=[NEXT], form=_form("ConsoleLoginForm"),
                             errors={400: refused("The form again: a field is missing or too long; or csrf_failed"),
                                     401: page("The form again: login_failed (wrong username or password)"),
                                     429: page("The form again: too many attempts; it says how many seconds to wait")},
                             public=True)},
        "/console/logout": {"post": _console("Sign out", {302: moved("/console/login")}, form=_form("ConsoleActionForm"))},
        "/console/password": {
            "get": _console("Password page (forced at first login)", {200: page("The password form")}),
            "post": _console("Change the password", {302: moved("/console/ (the other browsers are signed out)")},
                             form=_form("ConsolePasswordForm"),
                             errors={400: "The form again: wrong_password, too short, or the two do not match"})},
        "/console/": {"get": _console("Home", {302: moved("/console/today")})},
        "/console/login/scan": {"get": _console("Scan-to-login page: a temporary official-account QR code", {
            200: page("The page with its QR code")}, errors={429: RATE_LIMITED},
            public=True)},
        "/console/login/scan-qr": {"get": _scan_qr("The scan-to-login QR code image", public=True)},
        "/console/login/scan/status": {"get": _console("Polled by the scan page: signed in yet?", {
            200: json_answer("Signed in (the session cookie is set) or not yet", ref(ConsoleScanStatus))},
            public=True)},
        "/console/wechat/bind": {"get": _console("Bind the signed-in user's WeChat (QR code page)", {
            200: page("The page with its QR code")}, errors={429: RATE_LIMITED})},
        "/console/wechat/bind-qr": {"get": _scan_qr("The binding QR code image", public=False)},
        "/console/wechat/bind/status": {"get": _console("Polled by the binding page: bound yet?", {
            200: json_answer("Bound or not yet", ref(ConsoleScanStatus))})},
        "/console/today": {"get": _console("Today at one store: waiting, ready, picked up, no-shows coming", {
            200: page("The page (it polls /console/today/board)")}, params=[STORE],
            errors={403: "", 404: "No such store, or the user runs none"})},
        "/console/today/board": {"get": _console("Today's board alone, polled by the page (not a click: the idle "
                                                 "timeout keeps running)", {200: page("The board, an HTML fragment")},
                                                 params=[STORE], errors={403: "", 404: "No such store"})},
        "/console/orders": {"get": _console("Order search (50 a page)", {200: page("The results")}, params=[
            param("order_no", "query", {"type": "string", "maxLength": 32}, "The order number or its start"),
            param("phone", "query", {"type": "string", "pattern": "^[0-9]{4}$"},
                  "The last four digits of the customer's phone"),
            param("status", "query", {"type": "string", "enum": ["pending_payment", "paid", "ready", "picked_up",
                                                                  "cancelled", "refunding", "refunded",
                                                                  "refund_failed"]}, "The order's status"),
            STORE, param("date", "query", {"type": "string", "format": "date"}, "The day ordered (YYYY-MM-DD, local)"),
            param("page", "query", {"type": "integer", "minimum": 1, "default": 1}, "The page")],
            errors={400: "The date is not YYYY-MM-DD, the phone not four digits, the status unknown, or the store "
                         "not a number", 403: "",
                    404: "No such store"})},
        "/console/orders/{order_no}": {"get": _console("One order: items, events, payment, refunds, pickup", {
            200: page("The order")}, params=[ORDER_NO], errors={404: "No such order in the user's stores"})},
        "/console/orders/{order_no}/ready": {"post": _console("Mark ready: the customer is told", {
            302: moved("the order's page, or Today with back=today")}, params=[ORDER_NO],
            form=_fields(ConsoleBackFields), errors={403: "", 404: "No such order in the user's stores",
                                                     409: "invalid_transition: not paid"})},
        "/console/orders/{order_no}/refund": {"post": _console("Refund the order", {
            302: moved("the order's page, or Today with back=today")}, params=[ORDER_NO],
            form=_fields(ConsoleRefundFields), errors={403: "", 404: "No such order in the user's stores",
                                                       409: "order_not_refundable: not paid, ready or refund_failed",
                                                       503: "upstream_unavailable: WeChat Pay did not answer"})},
        "/console/catalog": {"get": _console("Catalog with per-store stock", {200: page("The catalog")})},
        "/console/catalog/stock": {"post": _console("Set a store's stock of a SKU", {
            200: json_answer("Saved (a request that prefers JSON)", ref(ConsoleStockSaved)),
            302: moved("/console/catalog")}, form=_form("ConsoleStockForm"), errors={403: "", 404: "No such store or SKU"})},
        "/console/catalog/price": {"post": _console("Owner: set a SKU's price (yuan, two decimals at most)", {
            200: json_answer("Saved (a request that prefers JSON)", ref(ConsolePriceSaved)),
            302: moved("/console/catalog")}, form=_form("ConsolePriceForm"), errors={403: "", 404: "No such SKU"})},
        "/console/catalog/export.csv": {"get": _console("Catalog and stock as CSV (the import's columns)", {
            200: answer("The CSV (UTF-8)", {"text/csv": CSV}, ATTACHMENT)})},
        "/console/catalog/import": {
            "get": _console("Owner: CSV upload page", {200: page("The upload form")}, errors={403: ""}),
            "post": _console("Owner: upload a CSV and preview it", {200: page("The preview, with the button to import")},
                             form=_form("ConsoleImportForm", "multipart/form-data"),
                             description=f"At most CONSOLE_IMPORT_MAX_BYTES ({import_cap} bytes here).",
                             errors={400: "The form again: no file, or csrf_failed", 403: "",
                                     413: "payload_too_large: larger than CONSOLE_IMPORT_MAX_BYTES",
                                     422: "The preview, naming every bad line"})},
        "/console/catalog/imports/{import_id}/run": {"post": _console("Owner: import a previewed file (a background job)", {
            302: moved("/console/catalog/imports/{import_id}")}, params=[path_id("import_id", "import")],
            form=_form("ConsoleActionForm"), errors={403: "", 404: "No such import of this user",
                                                     409: "import_started: already imported"})},
        "/console/catalog/imports/{import_id}": {"get": _console("Owner: the import's progress page", {
            200: page("The progress (it polls the .json)")}, params=[path_id("import_id", "import")],
            errors={403: "", 404: "No such import of this user"})},
        "/console/catalog/imports/{import_id}.json": {"get": _console("Owner: the import's progress", {
            200: json_answer("The progress", ref(ConsoleImportProgress))}, params=[path_id("import_id", "import")],
            errors={403: "", 404: "No such import of this user"})},
        "/console/stores": {"get": _console("Stores", {200: page("The user's stores")})},
        "/console/stores/new": {
            "get": _console("Owner: new store form", {200: page("The form")}, errors={403: ""}),
            "post": _console("Owner: create a store", {302: moved("/console/stores/{store_id}")},
                             form=_form("ConsoleStoreForm"), errors={
                                 400: "The form again: a field is invalid, or the hours do not parse", 403: ""})},
        "/console/stores/{store_id}": {
            "get": _console("Edit a store", {200: page("The form")}, params=[path_id("store_id", "store")],
                            errors={403: "", 404: "No such store"}),
            "post": _console("Save a store (name, address, location, phone, hours, active)", {
                302: moved("/console/stores/{store_id}")}, params=[path_id("store_id", "store")],
                form=_form("ConsoleStoreForm"), errors={
                    400: "The form again: a field is invalid, or the hours do not parse", 403: "", 404: "No such store"})},
        "/console/stores/{store_id}/qrcode": {"get": _picture("The store's official-account QR code (print)",
                                                              "permanent QR code (scene store_<id>)", OA_QR)},
        "/console/stores/{store_id}/miniprogram-code": {"get": _picture("The store's mini-program code (print)",
                                                                        "getwxacodeunlimit code", {"image/jpeg": IMAGE})},
        "/console/staff": {"get": _console("Staff seats of a store with their handovers", {200: page("The seats")},
                                           params=[STORE], errors={403: "", 404: "No such store"})},
        "/console/staff/invite": {"post": _console("Invite a seat: the one-time code and its QR, shown once", {
            200: page("The seats and the new invite's code (only its hash is kept)")}, params=[STORE],
            form=_form("ConsoleInviteForm"), errors={403: "", 404: "No such store"})},
        "/console/staff/{seat_id}/disable": {"post": _console("Disable a seat at once", {
            302: moved("/console/staff?store=…")}, params=[path_id("seat_id", "seat")], form=_form("ConsoleActionForm"),
            errors={403: "", 404: "No such seat"})},
        "/console/staff/{seat_id}/role": {"post": _console("Owner: clerk <-> manager", {
            302: moved("/console/staff?store=…")}, params=[path_id("seat_id", "seat")], form=_fields(ConsoleRoleFields),
            errors={403: "", 404: "No such seat", 409: "seat_disabled"})},
        "/console/official-account": {"get": _console("Rules, menu, followers per store", {200: page("The page")})},
        "/console/official-account/rules": {"post": _console("Owner: add a keyword rule", {
            302: moved("/console/official-account")}, form=_fields(ConsoleRuleFields),
            errors={403: "", 409: "conflict: the same keyword and match type already have a rule"})},
        "/console/official-account/rules/{rule_id}/remove": {"post": _console("Owner: remove a keyword rule", {
            302: moved("/console/official-account")}, params=[path_id("rule_id", "rule")],
            form=_form("ConsoleActionForm"), errors={403: "", 404: "No such rule"})},
        "/console/official-account/menu": {"post": _console("Owner: push the menu to the official account", {
            302: moved("/console/official-account")}, form=_fields(ConsoleMenuFields),
            errors={403: "", 503: "upstream_unavailable: WeChat refused the menu (its errcode is in the message)"})},
        "/console/money": {"get": _console("Payments and refunds per day and store, refunds needing a person, "
                                           "reconciliation", {200: page("The report")}, params=[DAYS])},
        "/console/money.csv": {"get": _console("The money report as CSV for the accountant", {
            200: answer("The CSV (UTF-8)", {"text/csv": CSV}, ATTACHMENT)}, params=[DAYS])},
        "/console/dashboard": {"get": _console("Charts (server-side SVG)", {200: page("The charts")}, params=[DAYS])},
        "/console/users": {
            "get": _console("Owner: console users", {200: page("The users")}, errors={403: ""}),
            "post": _console("Owner: create a console user", {200: page("The users and the one-time password, "
                                                                        "shown once")},
                             form=_fields(ConsoleUserFields), errors={403: "", 404: "No such store", 409: "username_taken"})},
        "/console/users/{user_id}/disable": {"post": _console("Owner: disable a console user", {
            302: moved("/console/users")}, params=[path_id("user_id", "console user")], form=_form("ConsoleActionForm"),
            errors={403: "", 404: "No such user", 409: "cannot_disable_self"})},
        "/console/audit": {"get": _console("The audit log, newest 200 (a manager sees their stores')",
                                           {200: page("The log")})},
    }


def security_scheme() -> dict[str, Any]:
    return {"type": "apiKey", "in": "cookie", "name": current_app.config["SESSION_COOKIE_NAME"],
            "description": "Flask's signed session cookie, set by POST /console/login or the scan-to-login poll "
                           "(HttpOnly, SameSite=Lax, Secure in production)"}
