"""A follower of the official account, as WeChat's servers present one to the account's callback URL.

`FollowerSimulator` sends the XML messages and events WeChat sends, signed (`signature` over token, timestamp and
nonce) and, in safe mode (an EncodingAESKey given), encrypted: AES-256-CBC, IV = first 16 key bytes, PKCS#7 to
32-byte blocks over 16 random bytes + 4-byte network-order length + message + appid, wrapped as
`<xml><ToUserName/><Encrypt/></xml>`, with `encrypt_type=aes` and `msg_signature` in the query. It parses the
callback's reply and, in safe mode, checks its MsgSignature and decrypts it, as WeChat does before showing it.

Given the sandbox's base URL, it also tells the sandbox what WeChat would know: every message or event marks the
openid as a follower who interacted just now (so user/info answers subscribe=1 and customer-service messages fall
within the 48-hour window); unsubscribe marks it as no longer following.

To test a callback's defences: `forge_signature=True` (wrong signature and msg_signature), `timestamp=` (e.g. a
stale one), `nonce=`, and `send_raw(..., encrypt=False)` to send plaintext to a safe-mode callback.
"""
from __future__ import annotations

import base64
import hashlib
import secrets
import string
import struct
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any

import requests
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK = 32  # WeChat pads to 32 bytes, not AES's 16


@dataclass
class CallbackResult:
    status: int
    body: bytes
    reply: dict[str, Any] | None  # the reply message (decrypted in safe mode); None for "", "success" or errors
    sent_xml: str  # the plaintext message that was sent

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class ReplyError(Exception):
    """The callback answered 200 with something WeChat would not accept (it shows the user an error)."""

    def __init__(self, message: str, result: CallbackResult) -> None:
        super().__init__(message)
        self.result = result


def sign(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def _cdata(value: str) -> str:
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _xml(fields: list[tuple[str, Any]]) -> str:
    inner = "".join(f"<{name}>{_cdata(value) if isinstance(value, str) else value}</{name}>"
                    for name, value in fields)
    return f"<xml>{inner}</xml>"


def _to_dict(element: ET.Element) -> Any:
    children = list(element)
    if not children:
        return element.text or ""
    result: dict[str, Any] = {}
    for child in children:
        value = _to_dict(child)
        if child.tag in result:  # repeated elements (news <item>s) become a list
            existing = result[child.tag]
            result[child.tag] = existing + [value] if isinstance(existing, list) else [existing, value]
        else:
            result[child.tag] = value
    return result


class FollowerSimulator:
    def __init__(self, callback_url: str, token: str, appid: str, aes_key: str | None = None,
                 session: requests.Session | None = None, *, original_id: str = "gh_sandbox000001",
                 sandbox_url: str | None = None, timeout: float = 10) -> None:
        self.callback_url = callback_url
        self.token = token
        self.appid = appid
        self.original_id = original_id  # the account's gh_ id: ToUserName of every message
        self.sandbox_url = sandbox_url.rstrip("/") if sandbox_url else None
        self.timeout = timeout
        self._own_session = session is None
        self.session = session or requests.Session()
        self._key = None
        if aes_key is not None:
            if len(aes_key) != 43:
                raise ValueError("EncodingAESKey must be 43 characters")
            self._key = base64.b64decode(aes_key + "=")

    @property
    def safe_mode(self) -> bool:
        return self._key is not None

    def close(self) -> None:
        if self._own_session:
            self.session.close()

    def __enter__(self) -> FollowerSimulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- crypto ----------------------------------------------------------------------------------------------

    def encrypt(self, plaintext: str, appid: str | None = None) -> str:
        assert self._key is not None
        random16 = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(16)).encode()
        message = plaintext.encode()
        raw = random16 + struct.pack(">I", len(message)) + message + (appid or self.appid).encode()
        pad = BLOCK - len(raw) % BLOCK
        raw += bytes([pad]) * pad
        encryptor = Cipher(algorithms.AES(self._key), modes.CBC(self._key[:16])).encryptor()
        return base64.b64encode(encryptor.update(raw) + encryptor.finalize()).decode()

    def decrypt(self, encrypted: str) -> str:
        assert self._key is not None
        decryptor = Cipher(algorithms.AES(self._key), modes.CBC(self._key[:16])).decryptor()
        raw = decryptor.update(base64.b64decode(encrypted)) + decryptor.finalize()
        pad = raw[-1]
        if not 1 <= pad <= BLOCK:
            raise ValueError("bad PKCS#7 padding")
        raw = raw[:-pad]
        (length,) = struct.unpack(">I", raw[16:20])
        message, appid = raw[20:20 + length], raw[20 + length:]
        if appid.decode() != self.appid:
            raise ValueError(f"reply encrypted for appid {appid!r}")
        return message.decode()

    # ---- sending ---------------------------------------------------------------------------------------------

    def verify_url(self, echostr: str | None = None, *, forge_signature: bool = False,
                   timestamp: int | None = None, nonce: str | None = None) -> CallbackResult:
        """The GET WeChat sends when the callback URL is configured; the callback must echo `echostr`."""
        echostr = echostr or str(secrets.randbits(63))
        ts, nonce = str(timestamp if timestamp is not None else int(time.time())), nonce or self._nonce()
        params = {"signature": self._signature(forge_signature, ts, nonce), "timestamp": ts, "nonce": nonce,
                  "echostr": echostr}
        response = self.session.get(self.callback_url, params=params, timeout=self.timeout)
        return CallbackResult(response.status_code, response.content, None, "")

    def send_raw(self, message: str | bytes, *, openid: str | None = None, forge_signature: bool = False,
                 timestamp: int | None = None, nonce: str | None = None,
                 encrypt: bool | None = None) -> CallbackResult:
        """POSTs one message XML (plaintext form) to the callback, encrypted when in safe mode."""
        xml_text = message.decode() if isinstance(message, bytes) else message
        ts, nonce = str(timestamp if timestamp is not None else int(time.time())), nonce or self._nonce()
        params = {"signature": self._signature(forge_signature, ts, nonce), "timestamp": ts, "nonce": nonce}
        if openid is not None:
            params["openid"] = openid
        body = xml_text
        encrypted = self.safe_mode if encrypt is None else encrypt
        if encrypted:
            ciphertext = self.encrypt(xml_text)
            params["encrypt_type"] = "aes"
            params["msg_signature"] = "0" * 40 if forge_signature else sign(self.token, ts, nonce, ciphertext)
            body = _xml([("ToUserName", self.original_id), ("Encrypt", ciphertext)])
        response = self.session.post(self.callback_url, params=params, data=body.encode(),
                                     headers={"Content-Type": "text/xml"}, timeout=self.timeout)
        result = CallbackResult(response.status_code, response.content, None, xml_text)
        if response.status_code == 200:
            result.reply = self._parse_reply(result, encrypted)
        return result

    def _signature(self, forge: bool, timestamp: str, nonce: str) -> str:
        return "0" * 40 if forge else sign(self.token, timestamp, nonce)

    @staticmethod
    def _nonce() -> str:
        return str(secrets.randbelow(10**10))

    def _parse_reply(self, result: CallbackResult, encrypted: bool) -> dict[str, Any] | None:
        body = result.body.strip()
        if body in (b"", b"success"):
            return None
        try:
            root = ET.fromstring(body)
        except ET.ParseError:
            raise ReplyError("reply is neither empty, 'success' nor XML", result) from None
        reply = _to_dict(root)
        if not encrypted:
            return reply
        if not isinstance(reply, dict) or "Encrypt" not in reply:
            raise ReplyError("a safe-mode reply must be encrypted", result)
        expected = sign(self.token, reply.get("TimeStamp", ""), reply.get("Nonce", ""), reply["Encrypt"])
        if reply.get("MsgSignature") != expected:
            raise ReplyError("reply MsgSignature does not verify", result)
        try:
            return _to_dict(ET.fromstring(self.decrypt(reply["Encrypt"])))
        except (ValueError, ET.ParseError) as exc:
            raise ReplyError(f"reply does not decrypt: {exc}", result) from None

    # ---- messages and events -----------------------------------------------------------------------------------

    def _send(self, openid: str, msg_type: str, fields: list[tuple[str, Any]], options: dict[str, Any],
              subscribe: int = 1, scene: str | None = None) -> CallbackResult:
        if self.sandbox_url:
            # WeChat's own state changes before it pushes the event, so the callback may already ask user/info.
            report: dict[str, Any] = {"openid": openid, "subscribe": subscribe}
            if scene is not None:
                report["scene"] = scene
            self.session.post(f"{self.sandbox_url}/sandbox/followers", json=report,
                              timeout=self.timeout).raise_for_status()
        created = options.get("timestamp") or int(time.time())
        header = [("ToUserName", self.original_id), ("FromUserName", openid), ("CreateTime", int(created)),
                  ("MsgType", msg_type)]
        return self.send_raw(_xml(header + fields), openid=openid, **options)

    @staticmethod
    def _msg_id(msg_id: int | None) -> int:
        return msg_id if msg_id is not None else secrets.randbits(63)

    def send_text(self, openid: str, content: str, msg_id: int | None = None, **options: Any) -> CallbackResult:
        return self._send(openid, "text", [("Content", content), ("MsgId", self._msg_id(msg_id))], options)

    def send_location(self, openid: str, lat: float, lng: float, scale: int = 15, label: str = "",
                      msg_id: int | None = None, **options: Any) -> CallbackResult:
        fields = [("Location_X", lat), ("Location_Y", lng), ("Scale", scale), ("Label", label),
                  ("MsgId", self._msg_id(msg_id))]
        return self._send(openid, "location", fields, options)

    def subscribe(self, openid: str, scene: str | int | None = None, ticket: str | None = None,
                  **options: Any) -> CallbackResult:
        """Follows the account; with a scene, by scanning a parametric QR code (EventKey `qrscene_<scene>`)."""
        fields: list[tuple[str, Any]] = [("Event", "subscribe")]
        if scene is None:
            fields.append(("EventKey", ""))
        else:
            fields += [("EventKey", f"qrscene_{scene}"), ("Ticket", ticket or self._ticket())]
        return self._send(openid, "event", fields, options, scene=None if scene is None else str(scene))

    def scan(self, openid: str, scene: str | int, ticket: str | None = None, **options: Any) -> CallbackResult:
        """A follower scans a parametric QR code (EventKey is the bare scene)."""
        fields = [("Event", "SCAN"), ("EventKey", str(scene)), ("Ticket", ticket or self._ticket())]
        return self._send(openid, "event", fields, options)

    def unsubscribe(self, openid: str, **options: Any) -> CallbackResult:
        return self._send(openid, "event", [("Event", "unsubscribe"), ("EventKey", "")], options, subscribe=0)

    def click(self, openid: str, key: str, **options: Any) -> CallbackResult:
        return self._send(openid, "event", [("Event", "CLICK"), ("EventKey", key)], options)

    def event(self, openid: str, event: str, fields: list[tuple[str, Any]] | None = None,
              **options: Any) -> CallbackResult:
        """Any other event WeChat pushes, e.g. subscribe_msg_popup_event or the platform's test pushes."""
        return self._send(openid, "event", [("Event", event), *(fields or [])], options)

    def location_event(self, openid: str, lat: float, lng: float, precision: float = 30.0,
                       **options: Any) -> CallbackResult:
        fields = [("Event", "LOCATION"), ("Latitude", lat), ("Longitude", lng), ("Precision", precision)]
        return self._send(openid, "event", fields, options)

    @staticmethod
    def _ticket() -> str:
        return base64.b64encode(secrets.token_bytes(48)).decode()
