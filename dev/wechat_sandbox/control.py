"""The sandbox's own control paths under /sandbox/ (JSON in, JSON out; 400 `{"error": ...}` for a bad request):
what tests, the demo and the FollowerSimulator use to set the scene WeChat would hold and to read what was sent.

GET  /sandbox/health                      {"ok": true, "apps": [appid, ...]}
GET  /sandbox/records?kind=               {"items": [{"kind", "payload", "at"}]} (kind: the path, e.g. "cgi-bin/token")
GET  /sandbox/inbox?openid=               {"items": [{"openid", "channel", "appid", "payload", "msgid", "at"}]}
POST /sandbox/reset                       forgets everything (tokens, codes, people, followers, records, pay state)
POST /sandbox/people                      {"unionid", "miniprogram_openid"?, "official_account_openid"?, "openids"?: []}
POST /sandbox/followers                   {"openid", "subscribe"?: 1|0 (default 1), "scene"?: str,
                                           "interacted_at"?: epoch seconds or null (default: now)}
POST /sandbox/tokens/expire               {"appid"?}  issued tokens answer 42001
POST /sandbox/tokens/revoke               {"appid"?}  issued tokens answer 40001
POST /sandbox/subscriptions               {"openid", "template_id"?, "count": n or null (null: unlimited, a leniency
                                           for tests that are not about grants)}
POST /sandbox/subscriptions/refuse        {"openid", "template_id"?}  same as count 0
POST /sandbox/subscriptions/accept        {"openid", "template_ids": [≤ 3]}  the user taps "allow" in
                                           wx.requestSubscribeMessage: one grant each; answers its result object
POST /sandbox/templates                   {"template_id", "keywords": ["thing2", …]}  a template the merchant picked
POST /sandbox/open-platform               {"bound": true|false}  are the apps bound to one Open Platform account
                                           (unionid returned only when bound; default: not bound)
POST /sandbox/shipping/ready              {"after_s": n}  how long after payment WeChat's shipping service knows a
                                           payment (10060001 before; default 60)
POST /sandbox/failures                    {"path", "errcode", "times"?: 1, "errmsg"?, "http_status"?: 200}
"""
from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, Response, jsonify, request

from wechat_sandbox.weixin_common import OPENID_RE, settings, state, weixin

bp = Blueprint("control", __name__, url_prefix="/sandbox")


class BadRequest(Exception):
    pass


@bp.errorhandler(BadRequest)
def _bad_request(exc: BadRequest) -> tuple[Response, int]:
    return jsonify({"error": str(exc)}), 400


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if body is None and not request.get_data():
        return {}
    if not isinstance(body, dict):
        raise BadRequest("body must be a JSON object")
    return body


def _openid(body: dict[str, Any], key: str = "openid") -> str:
    value = body.get(key)
    if not isinstance(value, str) or not OPENID_RE.match(value):
        raise BadRequest(f"{key} must match [A-Za-z0-9_-]{{1,64}}")
    return value


def _optional_str(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is not None and (not isinstance(value, str) or not value):
        raise BadRequest(f"{key} must be a non-empty string")
    return value


@bp.get("/health")
def health() -> Response:
    return jsonify({"ok": True, "apps": sorted(settings().apps)})


@bp.get("/records")
def records() -> Response:
    items = [{"kind": r.kind, "payload": r.payload, "at": r.at} for r in state().records_of(request.args.get("kind"))]
    return jsonify({"items": items})


@bp.get("/inbox")
def inbox() -> Response:
    openid = request.args.get("openid")
    with state().lock:
        items = [dict(m) for m in weixin()["inbox"] if openid is None or m["openid"] == openid]
    return jsonify({"items": items})


@bp.post("/reset")
def reset() -> Response:
    state().reset()
    return jsonify({"ok": True})


@bp.post("/people")
def people() -> Response:
    body = _body()
    unionid = _optional_str(body, "unionid")
    if unionid is None:
        raise BadRequest("unionid is required")
    openids = [_openid(body, key) for key in ("miniprogram_openid", "official_account_openid") if key in body]
    extra = body.get("openids", [])
    if not isinstance(extra, list):
        raise BadRequest("openids must be a list")
    openids += [_openid({"openid": o}) for o in extra]
    if not openids:
        raise BadRequest("give at least one openid")
    with state().lock:
        for openid in openids:
            weixin()["people"][openid] = unionid
    return jsonify({"ok": True, "unionid": unionid, "openids": openids})


@bp.post("/followers")
def followers() -> Response:
    body = _body()
    openid = _openid(body)
    subscribe = body.get("subscribe", 1)
    if subscribe not in (0, 1):  # True/False compare equal to 1/0
        raise BadRequest("subscribe must be 1 or 0")
    scene = _optional_str(body, "scene")
    interacted_at = body.get("interacted_at", time.time())
    if interacted_at is not None and (isinstance(interacted_at, bool) or not isinstance(interacted_at, (int, float))):
        raise BadRequest("interacted_at must be epoch seconds or null")
    now = time.time()
    with state().lock:
        entry = weixin()["followers"].setdefault(openid, {"subscribe": 0, "subscribe_time": None, "scene": None})
        if subscribe and not entry["subscribe"]:
            entry.update(subscribe_time=now, scene=scene)
        entry["subscribe"] = int(subscribe)
        entry["interacted_at"] = interacted_at
        result = dict(entry)
    return jsonify({"ok": True, "openid": openid, **result})


def _tokens_of(appid: str | None) -> list[str]:
    return [t for t, issued in weixin()["tokens"].items() if appid is None or issued["appid"] == appid]


@bp.post("/tokens/expire")
def tokens_expire() -> Response:
    appid = _optional_str(_body(), "appid")
    with state().lock:
        chosen = _tokens_of(appid)
        for token in chosen:
            weixin()["tokens"][token]["expires_at"] = time.time() - 1
    return jsonify({"ok": True, "count": len(chosen)})


@bp.post("/tokens/revoke")
def tokens_revoke() -> Response:
    appid = _optional_str(_body(), "appid")
    with state().lock:
        chosen = _tokens_of(appid)
        for token in chosen:
            del weixin()["tokens"][token]
    return jsonify({"ok": True, "count": len(chosen)})


def _set_quota(body: dict[str, Any], count: Any) -> Response:
    openid = _openid(body)
    template_id = _optional_str(body, "template_id") or "*"
    if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 0):
        raise BadRequest("count must be a non-negative integer or null")
    with state().lock:
        weixin()["quota"][(openid, template_id)] = count  # None: unlimited
    return jsonify({"ok": True, "openid": openid, "template_id": template_id, "count": count})


@bp.post("/subscriptions")
def subscriptions() -> Response:
    body = _body()
    if "count" not in body:
        raise BadRequest("count is required (null for unlimited)")
    return _set_quota(body, body["count"])


@bp.post("/subscriptions/refuse")
def subscriptions_refuse() -> Response:
    return _set_quota(_body(), 0)


@bp.post("/failures")
def failures() -> Response:
    body = _body()
    path = body.get("path")
    errcode = body.get("errcode")
    times = body.get("times", 1)
    http_status = body.get("http_status", 200)
    if not isinstance(path, str) or not path.strip("/"):
        raise BadRequest("path is required")
    for name, value in (("errcode", errcode), ("times", times), ("http_status", http_status)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise BadRequest(f"{name} must be an integer")
    kind = path.lstrip("/")
    with state().lock:
        if times <= 0:
            weixin()["failures"].pop(kind, None)
        else:
            weixin()["failures"][kind] = {"errcode": errcode, "errmsg": _optional_str(body, "errmsg"),
                                          "times": times, "http_status": http_status}
    return jsonify({"ok": True, "path": kind, "times": max(times, 0)})


@bp.post("/subscriptions/accept")
def subscriptions_accept() -> Response:
    body = _body()
    openid = _openid(body)
    template_ids = body.get("template_ids")
    if not isinstance(template_ids, list) or not template_ids or not all(isinstance(t, str) for t in template_ids):
        raise BadRequest("template_ids must be a non-empty list of strings")
    if len(template_ids) > 3:
        # wx.requestSubscribeMessage: errCode 10005, "can only request 3 templates at most"
        raise BadRequest("wx.requestSubscribeMessage shows at most 3 templates (errCode 10005)")
    with state().lock:
        quota = weixin()["quota"]
        for template_id in template_ids:
            current = quota.get((openid, template_id), 0)
            if current is not None:
                quota[(openid, template_id)] = current + 1
    return jsonify({"errMsg": "requestSubscribeMessage:ok", **{t: "accept" for t in template_ids}})


@bp.post("/templates")
def templates() -> Response:
    body = _body()
    template_id = _optional_str(body, "template_id")
    keywords = body.get("keywords")
    if template_id is None or not isinstance(keywords, list) or not keywords \
            or not all(isinstance(k, str) and k for k in keywords):
        raise BadRequest("template_id and keywords (a non-empty list) are required")
    with state().lock:
        weixin()["templates"][template_id] = list(keywords)
    return jsonify({"ok": True, "template_id": template_id, "keywords": keywords})


@bp.post("/open-platform")
def open_platform() -> Response:
    bound = _body().get("bound")
    if not isinstance(bound, bool):
        raise BadRequest("bound must be true or false")
    with state().lock:
        weixin()["open_platform_bound"] = bound
    return jsonify({"ok": True, "bound": bound})


@bp.post("/shipping/ready")
def shipping_ready() -> Response:
    after_s = _body().get("after_s")
    if isinstance(after_s, bool) or not isinstance(after_s, (int, float)) or after_s < 0:
        raise BadRequest("after_s must be a non-negative number")
    with state().lock:
        weixin()["shipping_ready_after_s"] = after_s
    return jsonify({"ok": True, "after_s": after_s})
