"""The callback's real answers are the ones the OpenAPI document describes (media types and statuses), for a valid
URL check, a plaintext message, and the refusals."""
import time

from official_account.security import wechat_signature

CALLBACK = "/wechat/official-account"
MESSAGE = ("<xml><ToUserName><![CDATA[gh_test]]></ToUserName><FromUserName><![CDATA[o_follower]]></FromUserName>"
           "<CreateTime>{now}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[你好]]></Content>"
           "<MsgId>{now}01</MsgId></xml>")


def _media(operation: dict, status: int) -> set[str]:
    return set(operation["responses"][str(status)].get("content", {}))


def _signed(app, nonce: str) -> dict[str, str]:
    now = str(int(time.time()))
    return {"signature": wechat_signature(app.config["OFFICIAL_ACCOUNT_TOKEN"], now, nonce), "timestamp": now,
            "nonce": nonce}


def test_the_callback_answers_as_documented(app, client, app_ctx):
    ops = client.get("/api/v1/openapi.json").get_json()["paths"][CALLBACK]
    check = client.get(CALLBACK, query_string={**_signed(app, "n1"), "echostr": "echo-me"})
    assert check.status_code == 200 and check.get_data(as_text=True) == "echo-me"
    assert check.mimetype in _media(ops["get"], 200)
    query = _signed(app, "n2")
    reply = client.post(CALLBACK, query_string=query, data=MESSAGE.format(now=query["timestamp"]),
                        content_type="text/xml")
    assert reply.status_code == 200 and reply.mimetype in _media(ops["post"], 200)
    for status, response in [(403, client.get(CALLBACK, query_string={"signature": "0" * 40, "timestamp": "1",
                                                                      "nonce": "x"})),
                             (400, client.post(CALLBACK, query_string=_signed(app, "n3"), data="not xml",
                                               content_type="text/xml")),
                             (413, client.post(CALLBACK, query_string=_signed(app, "n4"),
                                               data="x" * (app.config["MAX_REQUEST_BYTES"] + 1),
                                               content_type="text/xml"))]:
        method = "get" if status == 403 else "post"
        assert response.status_code == status and response.mimetype in _media(ops[method], status), status
