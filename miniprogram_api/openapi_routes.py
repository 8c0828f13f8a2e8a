"""The routes outside the /api/v1 JSON API, described for the OpenAPI document: health and readiness, the document
and its page, WeChat's callbacks (official account, WeChat Pay) and, in openapi_console.py, the merchant console.

Each operation is declared once here, completely: its parameters with their limits, its request body with its media
type, every status it answers with the media type and schema or headers of that answer. JSON and form bodies are
Pydantic models (or, for the console, the Flask-WTF forms themselves), emitted into components/schemas.
`openapi.document()` merges these with SpecTree's operations.
"""
from __future__ import annotations

from typing import Any, Literal

from flask import current_app
from pydantic import BaseModel, Field

ID = {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}  # app/routing.py: ids are INTEGER columns
STRING = {"type": "string"}
ERROR = {"$ref": "#/components/schemas/Error"}  # the envelope of docs/api.md (openapi.ERROR_SCHEMA)
PUBLIC, WECHAT = "public", "wechat"

# -- the vocabulary -------------------------------------------------------------------------------------------------


def ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def param(name: str, where: str, schema: dict[str, Any], description: str, required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": where, "required": required or where == "path", "description": description,
            "schema": schema}


def path_id(name: str, what: str) -> dict[str, Any]:
    return param(name, "path", ID, f"The {what}'s id.")


def body(media: str, schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    request_body: dict[str, Any] = {"required": True, "content": {media: {"schema": schema}}}
    if description:
        request_body["description"] = description
    return request_body


def answer(description: str, content: dict[str, dict[str, Any]] | None = None,
           headers: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """One response: `content` maps media types to schemas."""
    response: dict[str, Any] = {"description": description}
    if content:
        response["content"] = {media: {"schema": schema} for media, schema in content.items()}
    if headers:
        response["headers"] = headers
    return response


def header(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"description": description, "schema": schema or STRING}


def json_answer(description: str, schema: dict[str, Any], **headers: dict[str, Any]) -> dict[str, Any]:
    return answer(description, {"application/json": schema}, {k.replace("_", "-"): v for k, v in headers.items()})


def error(description: str, **headers: dict[str, Any]) -> dict[str, Any]:
    return json_answer(description, ERROR, **headers)


RETRY_AFTER = header("Seconds to wait before trying again.", {"type": "integer", "minimum": 1})


def operation(tag: str, summary: str, responses: dict[int, dict[str, Any]], *, description: str = "",
              parameters: list[dict[str, Any]] = (), request_body: dict[str, Any] | None = None,  # type: ignore[assignment]
              security: list[dict[str, list[str]]] | None = None) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "tags": [tag],
                          "responses": {str(status): response for status, response in sorted(responses.items())}}
    if description:
        op["description"] = description
    if parameters:
        op["parameters"] = list(parameters)
    if request_body:
        op["requestBody"] = request_body
    if security is not None:
        op["security"] = security
    return op


def operation_id(method: str, path: str) -> str:
    return f"{method}_{path.strip('/').replace('/', '_').replace('{', '').replace('}', '').replace('.', '_')}"


def components(models: list[type[BaseModel]]) -> dict[str, Any]:
    """The models' JSON Schemas (Pydantic v2's JSON Schema is OpenAPI 3.1's), nested models hoisted alongside."""
    schemas: dict[str, Any] = {}
    for model in models:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    return schemas


# -- health, readiness, the document ------------------------------------------------------------------------------


class HealthOut(BaseModel):
    status: Literal["ok"]


class ReadyChecks(BaseModel):
    database: str = Field(description='"ok" or "error: <exception class>"')
    redis: str = Field(description='"ok", "not configured" or "degraded: <exception class>" (the node stays in the '
                                   "pool: payments, orders and redeem work without Redis)")


class ReadyOut(BaseModel):
    status: Literal["ready", "degraded", "not_ready"]
    checks: ReadyChecks


# -- WeChat Pay v3 notifications ----------------------------------------------------------------------------------
# The envelope, headers and answers as WeChat Pay documents them: "支付通知" / "退款结果通知" / "商家转账回调通知"
# (https://pay.weixin.qq.com/wiki/doc/apiv3/apis/chapter3_5_5.shtml, chapter3_3_5 "通知应答": 200 or 204 with no
# body when taken; 4xx/5xx with {"code": string[1,32], "message": string[1,64]} otherwise, and WeChat Pay sends it
# again), the sample request at https://wechatpay.js.org/webhook/v3/TRANSACTION.FAIL (Wechatpay-Nonce, -Serial,
# -Signature, -Signature-Type, -Timestamp), and wechatpay-go's notify.Request / EncryptedResource fields.


class WeChatPayResource(BaseModel):
    algorithm: Literal["AEAD_AES_256_GCM"]
    ciphertext: str = Field(min_length=1, description="Base64 of the AES-256-GCM ciphertext and tag (APIv3 key)")
    nonce: str = Field(min_length=1, description="The 12-character GCM nonce")
    associated_data: str = Field("", description="The GCM associated data (may be empty)")
    original_type: str = Field(description="transaction, refund or mch_payment")


class WeChatPayNotification(BaseModel):
    id: str = Field(min_length=1, max_length=36, description="The notification's id (a retry repeats it)")
    create_time: str = Field(max_length=32, description="RFC 3339, e.g. 2015-05-20T13:29:35+08:00")
    event_type: str = Field(min_length=1, max_length=32,
                            description="TRANSACTION.SUCCESS; REFUND.SUCCESS/ABNORMAL/CLOSED; "
                                        "MCHTRANSFER.BILL.FINISHED — each endpoint takes its own kind only")
    resource_type: Literal["encrypt-resource"]
    resource: WeChatPayResource
    summary: str = Field("", max_length=64)


class WeChatPayFail(BaseModel):
    code: Literal["FAIL"]
    message: str = Field(description="Why it was not taken (no secret in it)")


WECHATPAY_HEADERS = [
    param("Wechatpay-Signature", "header", {"type": "string", "minLength": 1, "contentEncoding": "base64"},
          "RSA-SHA256 (WECHATPAY2-SHA256-RSA2048) over `timestamp\\nnonce\\nbody\\n`; a WECHATPAY/SIGNTEST/ probe "
          "is refused with 400", True),
    param("Wechatpay-Timestamp", "header", {"type": "string", "pattern": "^[0-9]{1,20}$"},
          "Unix seconds; more than 300 s from our clock is refused (401)", True),
    param("Wechatpay-Nonce", "header", {"type": "string", "minLength": 1}, "The signature's nonce", True),
    param("Wechatpay-Serial", "header", {"type": "string", "minLength": 1},
          "PUB_KEY_ID_… (WeChat Pay public key) or a platform certificate serial; unknown ones are refused (401)",
          True),
    param("Wechatpay-Signature-Type", "header", {"type": "string", "enum": ["WECHATPAY2-SHA256-RSA2048"]},
          "Sent by WeChat Pay; not read"),
]


def _fail(description: str, **headers: dict[str, Any]) -> dict[str, Any]:
    return json_answer(description, ref(WeChatPayFail), **headers)


def _wechatpay(summary: str, events: str) -> dict[str, Any]:
    return operation(WECHAT, summary, {
        204: answer("Taken, first time or a repeat of one taken (no body)"),
        400: _fail("Not taken: unreadable JSON or resource, a sign-test probe, another endpoint's kind of event, or "
                   "an outcome the domain refused"),
        401: _fail("Not taken: a signature header is missing, the signature does not verify, the serial is unknown "
                   "or the timestamp is stale"),
        413: _fail("Not taken: the body is larger than MAX_REQUEST_BYTES"),
        500: _fail("Not taken: an error of ours; WeChat Pay sends it again"),
        503: _fail("Not taken: the database or Redis is unavailable; WeChat Pay sends it again",
                   Retry_After=RETRY_AFTER),
    }, description=f"WeChat Pay v3 calls this with {events}. Nothing is read or changed before the signature "
                   "verifies; the resource is then decrypted with the APIv3 key and applied once (by its id).",
        parameters=WECHATPAY_HEADERS,
        request_body=body("application/json", ref(WeChatPayNotification), "The signed notification envelope"))


# -- the official-account callback --------------------------------------------------------------------------------
# https://developers.weixin.qq.com/doc/service/en/Basic_Information/Access_Overview.html (URL check: signature,
# timestamp, nonce, echostr; answer echostr as it is) and the message encryption guide (safe mode: encrypt_type=aes,
# msg_signature over token, timestamp, nonce and <Encrypt>; replies "success" or XML within 5 s).
SHA1_HEX = {"type": "string", "pattern": "^[0-9a-f]{40}$"}
OA_QUERY = [
    param("signature", "query", SHA1_HEX, "SHA-1 hex of token, timestamp and nonce sorted and joined", True),
    param("timestamp", "query", {"type": "string", "pattern": "^[0-9]{1,20}$"},
          "Unix seconds; more than 300 s from our clock is refused (403)", True),
    param("nonce", "query", {"type": "string", "minLength": 1}, "WeChat's random number; a (timestamp, nonce) "
          "carries one message only (a different body under a used pair is refused, 403)", True),
]
OA_REFUSED = error("The signature does not verify, the timestamp is outside the window, the (timestamp, nonce) "
                   "was used for another message, the msg_signature does not verify, or plaintext came while "
                   "OFFICIAL_ACCOUNT_REQUIRE_SAFE_MODE is on")
OA_MESSAGE = """A WeChat `<xml>` message in UTF-8: ToUserName, FromUserName, CreateTime (digits), MsgType and, by
type, MsgId, Content, Event, EventKey, Ticket, Latitude/Longitude/Precision, PicUrl, MediaId, Title, Url... each
scalar element plain text (CDATA). In safe mode (encrypt_type=aes) the document is `<xml><ToUserName/><Encrypt/></xml>`,
Encrypt being the AES-256-CBC ciphertext (EncodingAESKey) of such a message. A DTD or entity declaration is refused."""


def _oa_get() -> dict[str, Any]:
    return operation(WECHAT, "Official-account URL check: echoes echostr for a valid signature", {
        200: answer("echostr as it came (empty without one)", {"text/plain": STRING}),
        403: OA_REFUSED,
    }, parameters=[*OA_QUERY, param("echostr", "query", STRING, "The random string to echo")])


def _oa_post() -> dict[str, Any]:
    cap = current_app.config["MAX_REQUEST_BYTES"]
    return operation(WECHAT, "Official-account messages and events (XML; plaintext or safe mode)", {
        200: answer('The reply: an XML message (encrypted in safe mode, with the key the message came in with), or '
                    '"success" (text/plain) when there is nothing to say or a retry arrives while the first is '
                    "still being handled",
                    {"application/xml": {"type": "string", "contentMediaType": "application/xml"},
                     "text/plain": {"type": "string", "enum": ["success"]}}),
        400: error("Not UTF-8, not well-formed, a DTD or entity, not a WeChat <xml> message, a scalar element "
                   "holding elements, no MsgType/FromUserName, non-numeric CreateTime/MsgId, no <Encrypt> or it "
                   "does not decrypt, or safe mode not configured"),
        403: OA_REFUSED,
        413: error(f"The body is larger than MAX_REQUEST_BYTES ({cap} bytes here)"),
        503: error("The database or Redis is unavailable; WeChat sends it again", Retry_After=RETRY_AFTER),
    }, parameters=[
        *OA_QUERY,
        param("openid", "query", STRING, "The sender's openid (sent by WeChat; "
              "the message's FromUserName is what is used)"),
        param("encrypt_type", "query", {"type": "string", "enum": ["aes", "raw"]},
              "aes: safe mode (the body is encrypted); absent or raw: plaintext"),
        param("msg_signature", "query", SHA1_HEX,
              "Safe mode: SHA-1 hex of token, timestamp, nonce and the <Encrypt> text (required with aes)"),
    ], request_body=body("text/xml", {"type": "string", "maxLength": cap, "contentMediaType": "text/xml"},
                         f"{OA_MESSAGE} At most MAX_REQUEST_BYTES ({cap} bytes here)."))


def operations() -> dict[str, dict[str, dict[str, Any]]]:
    """The non-API operations by path and method (read at request time: some limits come from the config)."""
    from miniprogram_api import openapi_console

    paths: dict[str, dict[str, dict[str, Any]]] = {
        "/healthz": {"get": operation(PUBLIC, "The process is up", {200: json_answer("Up", ref(HealthOut))})},
        "/readyz": {"get": operation(PUBLIC, "Database and Redis are reachable", {
            200: json_answer("Ready, or degraded (Redis down: the node stays in the pool)", ref(ReadyOut)),
            503: json_answer("Not ready: the database does not answer", ref(ReadyOut))})},
        "/api/v1/openapi.json": {"get": operation(PUBLIC, "This document", {
            200: json_answer("The OpenAPI 3.1 document", {"type": "object", "required": ["openapi", "paths"]})})},
        "/api/v1/docs": {"get": operation(PUBLIC, "This document as one HTML page (no script, no outside asset)", {
            200: answer("The page", {"text/html": STRING})})},
        "/wechat/official-account": {"get": _oa_get(), "post": _oa_post()},
        "/payments/wechatpay/notify": {"post": _wechatpay("WeChat Pay v3 payment notification",
                                                          "TRANSACTION.SUCCESS")},
        "/payments/wechatpay/refund-notify": {"post": _wechatpay("WeChat Pay v3 refund notification",
                                                                 "REFUND.SUCCESS, REFUND.ABNORMAL or REFUND.CLOSED")},
        "/payments/wechatpay/transfer-notify": {"post": _wechatpay(
            "WeChat Pay merchant-transfer notification", "MCHTRANSFER.BILL.FINISHED (resource original_type "
            "mch_payment: mchid, out_bill_no, transfer_bill_no, state, transfer_amount, openid, fail_reason)")},
        **openapi_console.paths(),
    }
    for path, ops in paths.items():
        for method, op in ops.items():
            op["operationId"] = operation_id(method, path)
    return paths


def schemas() -> dict[str, Any]:
    from miniprogram_api import openapi_console

    return {**components([HealthOut, ReadyOut, WeChatPayNotification, WeChatPayFail]), **openapi_console.schemas()}
