"""Verifying and opening what arrives at the callback, before anything runs.

- The query's `signature` (SHA-1 over token, timestamp, nonce) must verify, and the timestamp must be within
  REPLAY_WINDOW_S of our clock: a captured signature cannot be replayed later (403 otherwise).
- Safe mode (`encrypt_type=aes`): `msg_signature` must cover the ciphertext (403), and the message is decrypted with
  the current EncodingAESKey or, during a key change, the previous one; the reply uses the key that worked.
- XML is parsed once (wechatpy's message is made from the same fields), by xmltodict on an expat parser that
  refuses any document type declaration (where entities and external references are declared; xmltodict refuses
  entity declarations too), so such a declaration is refused by the parser itself (400), as defusedxml's
  `forbid_dtd` would; a follower's text that merely contains `<!DOCTYPE` (inside CDATA) is text like any other.
  Anything that is not a WeChat `<xml>` message is refused (400), and so is a message whose scalar fields hold
  elements. A flat message with no DOCTYPE or namespace in its text (what WeChat sends) is read by ElementTree's C
  parser instead, into the very dict xmltodict would give (`_flat_fields`); anything else takes the path above.
- One `(timestamp, nonce)` carries one message: see official_account/replay.py.
"""
from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Mapping
from xml.etree.ElementTree import ParseError, TreeBuilder, XMLParser
from xml.parsers.expat import ExpatError

import xmltodict
from defusedxml import DefusedXmlException, DTDForbidden
from xml.parsers import expat
from wechatpy.crypto import PrpCrypto, WeChatCrypto
from wechatpy.events import EVENT_TYPES
from wechatpy.messages import MESSAGE_TYPES, BaseMessage, UnknownMessage

from app.errors import Forbidden, InvalidRequest

# WeChat's clock and ours agree to seconds; five minutes leaves room for retries (15 s) and clock drift.
REPLAY_WINDOW_S = 300
# Fields WeChat sends as plain text. An element nested inside one (`<Content><b>x</b></Content>`) would reach the
# handlers as a dict; it is refused here instead. (Some events carry structured fields such as ScanCodeInfo or
# SendLocationInfo; those are not in this list.)
SCALAR_FIELDS = ("ToUserName", "FromUserName", "CreateTime", "MsgType", "MsgId", "Content", "Event", "EventKey",
                 "Ticket", "Location_X", "Location_Y", "Scale", "Label", "Latitude", "Longitude", "Precision",
                 "PicUrl", "MediaId", "ThumbMediaId", "Format", "Recognition", "Title", "Description", "Url",
                 "Encrypt")


@dataclass
class Opened:
    fields: dict[str, Any]  # the message's own XML fields
    message: BaseMessage  # wechatpy's view of it
    crypto: SafeModeKey | None  # the key that opened it (safe mode), to encrypt the reply with


def wechat_signature(*parts: str) -> str:
    """WeChat's callback signature: SHA-1 of the parts sorted and joined (token, timestamp, nonce[, Encrypt])."""
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def _matches(expected: str, given: str) -> bool:
    # Constant time: wechatpy compares with `!=`, which would let a caller learn the signature byte by byte.
    return hmac.compare_digest(expected.encode(), given.encode())


def verify_signature(token: str, args: Mapping[str, str], now: float | None = None) -> None:
    timestamp = args.get("timestamp", "")
    if not _matches(wechat_signature(token, timestamp, args.get("nonce", "")), args.get("signature", "")):
        raise Forbidden("The signature does not verify.")
    if not is_number(timestamp) or abs((now or time.time()) - int(timestamp)) > REPLAY_WINDOW_S:
        raise Forbidden("The timestamp is outside the accepted window.")


def is_number(value: Any) -> bool:
    """ASCII digits only: str.isdigit() also passes "²", which int() refuses (a 500 before this check)."""
    return isinstance(value, str) and 0 < len(value) <= 20 and value.isascii() and value.isdigit()


def _refuse_doctype(name: str, sysid: str | None, pubid: str | None, _has_internal_subset: bool) -> None:
    raise DTDForbidden(name, sysid, pubid)


class _ExpatWithoutDoctype:
    """The `expat` xmltodict.parse creates its parser with: pyexpat's, refusing a document type declaration at its
    start, as defusedxml's parsers do with forbid_dtd (defusedxml/expatreader.py: StartDoctypeDeclHandler). One
    parse where defusedxml's check and xmltodict's dict were two (bench/per_request.py S4)."""

    @staticmethod
    def ParserCreate(encoding: str | None = None, namespace_separator: str | None = None) -> Any:  # noqa: N802
        parser = expat.ParserCreate(encoding, namespace_separator)
        parser.StartDoctypeDeclHandler = _refuse_doctype
        return parser


class _TreeWithoutDoctype(TreeBuilder):
    """ElementTree's C tree builder, refusing a document type declaration (its C XMLParser calls a target's
    `doctype` at the declaration); a subclass of the C builder keeps its speed."""

    def doctype(self, name: str, pubid: str | None, system: str | None) -> None:
        raise DTDForbidden(name, system, pubid)


def _flat_fields(text: str) -> dict[str, Any] | None:
    """The fields of a flat `<xml>` message (what WeChat sends: one level of text elements) from ElementTree's C
    parser, about half of xmltodict's cost (its Python callbacks per element); exactly the dict xmltodict.parse
    gives for such a document (text stripped, None when empty). None for anything else (attributes, nested or
    repeated elements, mixed text, an empty or other root, a namespace or a syntax ElementTree refuses): parse_xml
    then asks xmltodict as before, so only the fast path is new. A document type declaration raises."""
    # ElementTree resolves namespaces where xmltodict keeps prefixes and xmlns attributes as written. A declaration
    # goes to pyexpat, which stops at its handler's refusal; ElementTree's C parser would only note the refusal and
    # read on (so the tree builder's own refusal below is a second guard, never the first).
    if "xmlns" in text or "<!DOCTYPE" in text:
        return None
    parser = XMLParser(target=_TreeWithoutDoctype(), encoding="utf-8")
    try:
        parser.feed(text)
        root = parser.close()
    except ParseError:
        return None
    if root.tag != "xml" or root.attrib or len(root) == 0 or (root.text and not root.text.isspace()):
        return None
    fields: dict[str, Any] = {}
    for child in root:
        if child.tag in fields or child.attrib or len(child) or (child.tail and not child.tail.isspace()):
            return None
        fields[child.tag] = (child.text or "").strip() or None
    return fields


def parse_xml(raw: bytes | str) -> dict[str, Any]:
    """The fields of a WeChat `<xml>` document. DTDs and entities are refused by the parser; the text is parsed as
    decoded UTF-8 (the parser told so), so no declared encoding changes what is read."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError:
        raise InvalidRequest("The body is not UTF-8.") from None
    try:
        fields = _flat_fields(text)
        if fields is not None:
            return fields  # text fields only: the element checks below have nothing to refuse
        document = xmltodict.parse(text, expat=_ExpatWithoutDoctype, disable_entities=True)
    except DefusedXmlException:
        raise InvalidRequest("Document type and entity declarations are not accepted.") from None
    except (ExpatError, ValueError):  # ValueError: xmltodict's refusal of an entity declaration, a NUL
        raise InvalidRequest("The body is not well-formed XML.") from None
    fields = document.get("xml") if isinstance(document, dict) else None
    if not isinstance(fields, dict):
        raise InvalidRequest("The body is not a WeChat <xml> message.")
    for name in SCALAR_FIELDS:
        if name in fields and fields[name] is not None and not isinstance(fields[name], str):
            raise InvalidRequest(f"<{name}> must be text, not elements.")
    return fields


class SafeModeKey(WeChatCrypto):
    """wechatpy's WeChatCrypto for one EncodingAESKey, its AES cipher built once: wechatpy builds a PrpCrypto (a new
    Cipher and key schedule) inside every decrypt_message and encrypt_message, and this object was itself built for
    every message. cryptography's Cipher is immutable and each use makes its own encryptor or decryptor, so one key
    object serves every thread. The reply still goes through wechatpy's own `_encrypt_message` (its envelope,
    padding and signature); only the cipher it is handed is the one kept here."""

    def __init__(self, token: str, encoding_aes_key: str, app_id: str) -> None:
        super().__init__(token, encoding_aes_key, app_id)
        self._prp = PrpCrypto(self.key)

    def _kept_prp(self, _key: bytes) -> PrpCrypto:  # what wechatpy calls as `crypto_class(self.key)`
        return self._prp

    def open(self, encrypt: str) -> str:
        """The plaintext of an <Encrypt> whose msg_signature the caller has verified (in constant time; wechatpy's
        decrypt_message would compute it again and compare with `!=`). Raises when it is not for this key or appid."""
        return self._prp.decrypt(encrypt, self.app_id)

    def encrypt_message(self, msg: Any, nonce: str, timestamp: str | None = None) -> str:
        return self._encrypt_message(msg, nonce, timestamp, self._kept_prp)


@lru_cache(maxsize=8)  # the current key and, during a key change, the previous one (per app configuration)
def _key_for(token: str, key: str, appid: str) -> SafeModeKey:
    return SafeModeKey(token, key, appid)


def _decrypt(envelope: dict[str, Any], args: Mapping[str, str],
             config: Mapping[str, Any]) -> tuple[str, SafeModeKey]:
    keys = [key for key in (config.get("OFFICIAL_ACCOUNT_AES_KEY"), config.get("OFFICIAL_ACCOUNT_PREVIOUS_AES_KEY"))
            if key]
    if not keys:
        raise InvalidRequest("Safe mode is not configured here (no EncodingAESKey).")
    if not isinstance(envelope.get("Encrypt"), str):
        raise InvalidRequest("A safe-mode message needs its <Encrypt> element.")
    expected = wechat_signature(config["OFFICIAL_ACCOUNT_TOKEN"], args.get("timestamp", ""), args.get("nonce", ""),
                                envelope["Encrypt"])
    if not _matches(expected, args.get("msg_signature", "")):
        raise Forbidden("The msg_signature does not verify.")
    for key in keys:
        crypto = _key_for(config["OFFICIAL_ACCOUNT_TOKEN"], key, config["OFFICIAL_ACCOUNT_APPID"])
        try:
            return crypto.open(envelope["Encrypt"]), crypto
        except Exception:  # hostile ciphertext fails in many ways (padding, length, appid): all mean "not this key"
            continue
    raise InvalidRequest("The message does not decrypt with the current or the previous key.")


def message_of(fields: dict[str, Any]) -> BaseMessage:
    """wechatpy's view of fields already parsed: what `wechatpy.parse_message` does after its own xmltodict parse
    (wechatpy/parser.py, 1.8), which was the message's third parse. The same class for each MsgType and Event, and
    the same rewriting of a subscribe's EventKey, on a copy: `fields` (and the dedup key made of them) stay as sent."""
    message = dict(fields)
    message_type = message["MsgType"].lower()
    if message_type != "event" and not message_type.startswith("device_"):
        return MESSAGE_TYPES.get(message_type, UnknownMessage)(message)
    event_type = message["Event"].lower() if "Event" in message else None
    if event_type is None and message_type.startswith("device_"):
        event_type = message_type
    elif message_type.startswith("device_"):
        event_type = f"device_{event_type}"
    if event_type == "subscribe" and message.get("EventKey"):
        event_key = message["EventKey"]
        if event_key.startswith(("scanbarcode|", "scanimage|")):
            event_type = message["Event"] = "subscribe_scan_product"
        elif event_key.startswith("qrscene_"):
            event_type = message["Event"] = "subscribe_scan"
            message["EventKey"] = event_key[len("qrscene_"):]
    return EVENT_TYPES.get(event_type, UnknownMessage)(message)


def open_message(body: bytes, args: Mapping[str, str], config: Mapping[str, Any]) -> Opened:
    envelope = parse_xml(body)
    crypto = None
    if args.get("encrypt_type") == "aes":
        plaintext, crypto = _decrypt(envelope, args, config)
        fields = parse_xml(plaintext)
    else:
        if config.get("OFFICIAL_ACCOUNT_REQUIRE_SAFE_MODE"):
            raise Forbidden("Only safe-mode (encrypted) messages are accepted.")
        fields = envelope
    if not isinstance(fields.get("MsgType"), str) or not isinstance(fields.get("FromUserName"), str):
        raise InvalidRequest("The message has no MsgType or FromUserName.")
    if not is_number(fields.get("CreateTime")) or not is_number(fields.get("MsgId", "0")):
        raise InvalidRequest("CreateTime and MsgId must be numbers.")
    try:
        message = message_of(fields)
    except (ValueError, KeyError, TypeError, AttributeError):
        raise InvalidRequest("The message is not one WeChat sends.") from None
    return Opened(fields, message, crypto)


def seal_reply(reply_xml: str, opened: Opened, nonce: str) -> str:
    """The reply as WeChat expects it: plaintext, or encrypted with the key the message came in with."""
    if opened.crypto is None:
        return reply_xml
    return opened.crypto.encrypt_message(reply_xml, nonce, str(int(time.time())))
