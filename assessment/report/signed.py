"""What travels through Redis, authenticated: queue messages as signed JSON, PDFs with a seal.

Redis is shared by every web instance and consumer, so whatever is read back from it is checked
before it is used. Huey's own messages are pickles, and unpickling runs whatever the pickle says;
here a message is JSON of Huey's Message fields, and a consumer or web process reads it only when
its HMAC-SHA256, under a key derived from the app's SECRET_KEY, verifies (compared in constant
time, before a single byte of it is parsed). The page to render and the finished PDF carry an
HMAC of the same kind, bound to their report key, so a page put in Redis by anyone without the key
is never rendered, and bytes put there are never served.

Nothing here ever calls pickle.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
from datetime import datetime

from huey.registry import Message
from huey.serializer import Serializer

QUEUE_LABEL = b"it-health render queue v1"  # the derived key differs from the session key
MESSAGE_HEADER = b"ithq1:"  # format tag: a message is HEADER + hex HMAC + ":" + JSON
MESSAGE_PURPOSE = b"message\x00"
PDF_PURPOSE = b"pdf\x00"
PAGE_PURPOSE = b"page\x00"
DIGEST_HEX = 64
MAX_MESSAGE = 64 * 1024  # a render job is a few hundred bytes


class Refused(ValueError):
    """Something read from Redis did not verify. The text says why, never what it held."""


def derive_key(secret: str | bytes | None) -> bytes:
    """The queue's key: HMAC of a fixed label under the app's SECRET_KEY."""
    if not secret:
        raise ValueError("the render queue needs the app's SECRET_KEY (ITHEALTH_SECRET_KEY)")
    if isinstance(secret, str):
        secret = secret.encode("utf-8")
    return hmac.new(secret, QUEUE_LABEL, hashlib.sha256).digest()


def _mac(key: bytes, purpose: bytes, *parts: bytes) -> bytes:
    mac = hmac.new(key, purpose, hashlib.sha256)
    for part in parts:
        mac.update(part)
    return mac.hexdigest().encode("ascii")


# -- PDFs -------------------------------------------------------------------------------------

def pdf_seal(key: bytes, report_key: str, pdf: bytes) -> bytes:
    """The seal stored beside a finished PDF: HMAC(key, report key + PDF)."""
    return _mac(key, PDF_PURPOSE, report_key.encode("utf-8"), b"\x00", pdf)


def pdf_verifies(key: bytes, report_key: str, pdf: bytes, seal: bytes | None) -> bool:
    return seal is not None and hmac.compare_digest(seal, pdf_seal(key, report_key, pdf))


# -- pages to render -------------------------------------------------------------------------

def pack_page(key: bytes, report_key: str, html: str) -> bytes:
    """The page to render as stored in Redis: its HMAC (bound to the report key), ":", the page."""
    page = html.encode("utf-8")
    return _mac(key, PAGE_PURPOSE, report_key.encode("utf-8"), b"\x00", page) + b":" + page


def unpack_page(key: bytes, report_key: str, value: bytes) -> str:
    """The page in a stored value, once its HMAC verifies; Refused otherwise."""
    mac, page = value[:DIGEST_HEX], value[DIGEST_HEX + 1:]
    if value[DIGEST_HEX:DIGEST_HEX + 1] != b":" or not hmac.compare_digest(
            mac, _mac(key, PAGE_PURPOSE, report_key.encode("utf-8"), b"\x00", page)):
        raise Refused("its HMAC does not verify")
    return page.decode("utf-8")


# -- queue messages ---------------------------------------------------------------------------

FIELDS = tuple(Message._fields)
_NESTED = ("on_complete", "on_error", "chord_config")  # pipelines and chords: never used here
_DATES = ("eta", "expires", "expires_resolved")
_NUMBERS = ("retries", "retry_delay", "priority", "timeout", "retry_backoff", "expires")


def _number(value) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value))


def _encode(message: Message) -> bytes:
    if not isinstance(message, Message):
        raise TypeError("the render queue carries task messages only")
    fields = {}
    for name in FIELDS:
        value = getattr(message, name)
        if value is None:
            fields[name] = None
        elif name in _NESTED:
            raise TypeError(f"the render queue does not carry {name}")
        elif name == "args":
            if not all(isinstance(arg, str) for arg in value):
                raise TypeError("the render queue's task arguments are strings")
            fields[name] = list(value)
        elif name == "kwargs":
            if not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
                raise TypeError("the render queue's task keyword arguments are strings")
            fields[name] = dict(value)
        elif name in _DATES and isinstance(value, datetime):
            fields[name] = {"datetime": value.isoformat()}
        elif name in ("id", "name") and isinstance(value, str):
            fields[name] = value
        elif name in _NUMBERS and _number(value):
            fields[name] = value
        else:
            raise TypeError(f"the render queue cannot carry a {type(value).__name__} as {name}")
    return json.dumps(fields, separators=(",", ":"), sort_keys=True).encode("utf-8")


def _decode(body: bytes) -> Message:
    """The Message in an already verified body, if it has exactly the shape _encode writes."""
    try:
        fields = json.loads(body)
    except ValueError:
        raise Refused("not JSON") from None
    if not isinstance(fields, dict) or set(fields) != set(FIELDS):
        raise Refused("not a render queue message")
    values = {}
    for name in FIELDS:
        value = fields[name]
        if value is None:
            values[name] = None
        elif name in _NESTED:
            raise Refused(f"{name} is not allowed")
        elif name == "args":
            if not isinstance(value, list) or not all(isinstance(a, str) for a in value):
                raise Refused("args are not strings")
            values[name] = tuple(value)
        elif name == "kwargs":
            if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
                raise Refused("kwargs are not strings")
            values[name] = value
        elif name in _DATES and isinstance(value, dict):
            if set(value) != {"datetime"} or not isinstance(value["datetime"], str):
                raise Refused(f"{name} is not a date")
            try:
                values[name] = datetime.fromisoformat(value["datetime"])
            except ValueError:
                raise Refused(f"{name} is not a date") from None
        elif name in ("id", "name") and isinstance(value, str):
            values[name] = value
        elif name in _NUMBERS and _number(value):
            values[name] = value
        else:
            raise Refused(f"{name} has the wrong type")
    if values["id"] is None or values["name"] is None:
        raise Refused("no task id or name")
    return Message(**values)


class SignedJsonSerializer(Serializer):
    """Huey's serializer for the render queue: JSON of the Message plus its HMAC; no pickle, no
    compression. deserialize raises Refused for anything that does not verify or fit."""

    def __init__(self, key: bytes):
        super().__init__(compression=False)
        self._key = key

    def serialize(self, data) -> bytes:
        return self._serialize(data)

    def deserialize(self, data):
        return self._deserialize(data)

    def _serialize(self, data) -> bytes:
        body = _encode(data)
        return MESSAGE_HEADER + _mac(self._key, MESSAGE_PURPOSE, body) + b":" + body

    def _deserialize(self, data):
        if not isinstance(data, (bytes, bytearray)):
            raise Refused("not bytes")
        data = bytes(data)
        start = len(MESSAGE_HEADER)
        if not data.startswith(MESSAGE_HEADER) or data[start + DIGEST_HEX:
                                                      start + DIGEST_HEX + 1] != b":":
            raise Refused("not a signed render queue message")
        if len(data) > MAX_MESSAGE:
            raise Refused("too large")
        mac, body = data[start:start + DIGEST_HEX], data[start + DIGEST_HEX + 1:]
        if not hmac.compare_digest(mac, _mac(self._key, MESSAGE_PURPOSE, body)):
            raise Refused("its HMAC does not verify (another key, or not written by us)")
        return _decode(body)
