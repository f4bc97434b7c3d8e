"""One Auth0 log record -> event v2, with exactly the contract's fields (pure: the receive time is passed in).

Only the fields below leave the server. ``details`` is read for two values (the error message and the logins
count) and otherwise dropped, with the request bodies, query strings, session ids and fingerprints it carries
(reference §6). Strings are made single-line printable text and clipped; if the event is still over its budget
the longest string is shortened until it fits: an event is trimmed, never dropped.

The budget is :data:`MAX_EVENT_BYTES` of compact JSON, chosen so that the event stays under Pusher's 10 KB even
after encryption for a ``private-encrypted-`` channel (nonce plus base64 of ciphertext and MAC: about 4/3 of the
plain size plus 90 bytes), with room for the ``cursor`` the store adds.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import orjson

from desktop.feed.events import format_utc
from desktop.tenantlog.body import Record
from desktop.tenantlog.codes import describe_code
from desktop.tenantlog.enrich import Device, Locator, describe_device, no_location
from desktop.util.text import clean_text

__all__ = ["EVENT_FIELDS", "MAX_EVENT_BYTES", "encode_event", "fit_event", "normalize"]

EVENT_FIELDS: tuple[str, ...] = (
    "v", "log_id", "cursor", "code", "kind", "outcome", "label", "reason", "user_id", "user_name", "email",
    "client_id", "client_name", "connection", "strategy", "ip", "country", "city", "device", "is_mobile",
    "logins_count", "at",
)
MAX_EVENT_BYTES = 7 * 1024
_FIELD_CHARS = {"reason": 1000, "label": 200, "code": 64}
_DEFAULT_CHARS = 256
_MIN_CHARS = 16
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_CANONICAL_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def normalize(record: Record, received_at: float, *, locate: Locator = no_location,
              device: Callable[[str], Device] = describe_device) -> dict[str, Any]:
    """Event v2 for ``record`` (without ``cursor``: the store assigns it), trimmed to :data:`MAX_EVENT_BYTES`.

    :param received_at: when the server received it (epoch seconds): ``at`` when Auth0's ``date`` is unusable.
    :param locate: country and city of an IP; :param device: the device behind a user agent.
    """
    data = record.data
    code = _text(data.get("type"), 64) or ""
    info = describe_code(code)
    details = data.get("details") if isinstance(data.get("details"), Mapping) else {}
    user_name = _text(data.get("user_name"))
    ip = _text(data.get("ip"), 64)
    place = locate(ip) if ip else None
    agent = data.get("user_agent")
    found = device(agent) if isinstance(agent, str) else Device(None, None)
    is_mobile = data.get("is_mobile", data.get("isMobile"))
    event: dict[str, Any] = {
        "v": 2,
        "log_id": record.log_id,
        "code": code,
        "kind": info.kind,
        "outcome": info.outcome,
        "label": info.label,
        "reason": _text(data.get("description"), 0) or _text(_dig(details, "error", "message"), 0),
        "user_id": _text(data.get("user_id")),
        "user_name": user_name,
        "email": user_name if user_name and _EMAIL.fullmatch(user_name) else None,
        "client_id": _text(data.get("client_id")),
        "client_name": _text(data.get("client_name")),
        "connection": _text(data.get("connection")),
        "strategy": _text(data.get("strategy")),
        "ip": ip,
        "country": place.country if place else None,
        "city": place.city if place else None,
        "device": found.description,
        "is_mobile": is_mobile if isinstance(is_mobile, bool) else found.is_mobile,
        "logins_count": _count(_dig(details, "stats", "loginsCount")),
        "at": _timestamp(data.get("date")) or format_utc(received_at),
    }
    return fit_event(event)


def encode_event(event: Mapping[str, Any]) -> bytes:
    """Compact JSON, as published and stored."""
    return orjson.dumps(event)


def fit_event(event: dict[str, Any], budget: int = MAX_EVENT_BYTES) -> dict[str, Any]:
    """Clip every string to its field's length, then halve the longest until the event fits ``budget`` bytes."""
    for key, value in event.items():
        if isinstance(value, str):
            event[key] = _clip(value, _FIELD_CHARS.get(key, _DEFAULT_CHARS))
    while len(encode_event(event)) > budget:
        key = max((k for k, v in event.items() if isinstance(v, str) and k != "log_id"),
                  key=lambda k: len(encode_event(event[k])), default=None)
        if key is None or len(event[key]) <= _MIN_CHARS:
            break  # nothing left to shorten; cannot happen with the field limits above
        event[key] = _clip(event[key], max(_MIN_CHARS, len(event[key]) // 2))
    return event


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _text(value: Any, limit: int = _DEFAULT_CHARS) -> str | None:
    """Printable single-line text (control characters become spaces, runs of spaces one), or None when empty."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return None
    return clean_text(value, limit or None) or None  # desktop.util.text's form for stored text


def _dig(tree: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(tree, Mapping):
            return None
        tree = tree.get(key)
    return tree


def _count(value: Any) -> int | None:
    """A count, or None; beyond 64 bits it is no count (and JSON encoders, SQLite and the window refuse it)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**63:
        return None
    return value


def _timestamp(value: Any) -> str | None:
    """Auth0's ``date`` as ``2026-11-21T05:01:02.123Z``; None when missing or unparseable."""
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        parsed = datetime.fromisoformat(value)
        if _CANONICAL_UTC.fullmatch(value):
            return value
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC).isoformat(timespec="milliseconds")[:-6] + "Z"
    except (ValueError, OverflowError):
        return None
