"""Feed events: turn whatever arrives on the feed channel into one flat, safe :class:`FeedEvent`.

Producers differ (our v1 Action payload, the legacy rule's whole Auth0 user object, the tenant log's v2
``log-event`` (:mod:`.events_v2`), or garbage), so the rest of the app only ever sees this shape.
:func:`normalise` never raises on any ``data``; anything it cannot read becomes type ``"unrecognised"`` with a
``reason`` and keeps the payload for inspection.
"""

from __future__ import annotations

import operator
import threading
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields
from datetime import UTC, datetime
from typing import Any, Literal

from desktop.feed.events_v2 import LOG_EVENT_NAME, v2_fields
from desktop.feed.fields import MAX_FIELD_CHARS
from desktop.feed.fields import count as _count
from desktop.feed.fields import ident as _id
from desktop.feed.fields import text as _text
from desktop.feed.fields import timestamp as _timestamp
from desktop.util.text import one_line

FEED_EVENT_NAMES = ("user-signedUp", "user-loggedIn", LOG_EVENT_NAME)

EventType = Literal["signup", "login", "login_failed", "signup_failed", "blocked", "mfa", "password", "logout",
                    "account", "alert", "other", "unrecognised"]

_TYPE_BY_EVENT: dict[str, EventType] = {"user-signedUp": "signup", "user-loggedIn": "login"}
_V1_TYPES: dict[str, EventType] = {"signup": "signup", "login": "login"}
_INTERNAL_ERROR = "could not read the payload"


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedEvent:
    """One feed row. Text fields are plain strings from the network: display them as plain text."""

    event: str
    channel: str
    type: EventType
    user_id: str | None = None
    email: str | None = None
    name: str | None = None
    nickname: str | None = None
    picture: str | None = None
    connection: str | None = None
    client_name: str | None = None
    country: str | None = None
    city: str | None = None
    ip: str | None = None
    logins_count: int | None = None
    at: str | None = None
    received_at: str
    data: object = field(hash=False)
    reason: str | None = None
    """Why an event is unrecognised; for a v2 event, Auth0's reason (``Wrong email or password.``)."""
    # v2 (the tenant log) only; None for v1 events:
    log_id: str | None = None
    cursor: str | None = None
    kind: str | None = None
    """The kind as the server sent it (``type`` is ``other`` for a kind this version does not know)."""
    outcome: str | None = None
    """``success``, ``failure`` or ``warning``."""
    label: str | None = None
    code: str | None = None
    device: str | None = None


def _slot_setting_init(cls: type) -> None:
    """Give a frozen, slotted, keyword-only dataclass an ``__init__`` that fills the slots directly.

    The generated one calls ``object.__setattr__`` (a global lookup, an attribute lookup and a call) for each
    of FeedEvent's 27 fields: ~3 us per event, a fifth of ``tail``'s CPU per event. This one calls each slot's
    own setter, bound once: same keyword arguments and defaults, still frozen afterwards (tested).
    """
    names = [f.name for f in fields(cls)]
    defaults = {f.name: f.default for f in fields(cls) if f.default is not MISSING}
    scope: dict[str, object] = {f"_default_{n}": v for n, v in defaults.items()}
    scope.update({f"_set_{n}": getattr(cls, n).__set__ for n in names})
    params = ", ".join(f"{n}=_default_{n}" if n in defaults else n for n in names)
    body = "".join(f"\n    _set_{n}(self, {n})" for n in names)
    exec(f"def __init__(self, *, {params}) -> None:{body}", scope)  # noqa: S102 - our field names only
    init = scope["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"  # type: ignore[attr-defined]
    cls.__init__ = init  # type: ignore[misc]


_slot_setting_init(FeedEvent)


def format_utc(epoch_seconds: float) -> str:
    """``2026-11-21T05:01:02.123Z``: the one timestamp format of the feed.

    A batch of events shares one receive time, so the last answer is kept, per thread: the engine thread
    and the history writer both call this, and a shared cache let one stamp a batch with the other's time.
    """
    cache = _last_formatted
    try:
        key, text = cache.pair  # one read of one tuple: never a time with another time's text
    except AttributeError:  # this thread's first call
        key, text = None, ""
    if key == epoch_seconds:
        return text
    text = datetime.fromtimestamp(epoch_seconds, tz=UTC).isoformat(timespec="milliseconds")[:-6] + "Z"
    cache.pair = (epoch_seconds, text)
    return text


_last_formatted = threading.local()


def _unrecognised(event: str, channel: str, data: object, received_at: str, reason: str) -> FeedEvent:
    return FeedEvent(
        event=event, channel=channel, type="unrecognised", received_at=received_at, data=data, reason=reason
    )


def _first_connection(identities: object) -> str | None:
    if isinstance(identities, list) and identities and isinstance(identities[0], Mapping):
        return _text(identities[0].get("connection"))
    return None


def _from_v1(event: str, channel: str, data: Mapping[object, object], received_at: str) -> FeedEvent:
    declared = data.get("type")
    kind = _V1_TYPES.get(declared) if isinstance(declared, str) else None
    if kind is None:
        return _unrecognised(event, channel, data, received_at, "v1 payload without type signup or login")
    return FeedEvent(event=event, channel=channel, type=kind, connection=_text(data.get("connection")),
                     ip=_text(data.get("ip")), at=_timestamp(data.get("at")), received_at=received_at, data=data,
                     **_person(data))


def _person(data: Mapping[object, object]) -> dict[str, Any]:
    """The fields the Action's v1 payload and the legacy ``user`` object name alike: who, from where, how often."""
    return {"user_id": _id(data.get("user_id")), "email": _text(data.get("email")), "name": _text(data.get("name")),
            "nickname": _text(data.get("nickname")), "picture": _text(data.get("picture")),
            "client_name": _text(data.get("client_name")), "country": _text(data.get("country")),
            "city": _text(data.get("city")), "logins_count": _count(data.get("logins_count"))}


def _from_legacy(
    event: str, channel: str, data: Mapping[object, object], received_at: str, kind: EventType
) -> FeedEvent:
    at = None
    for key in ("last_login", "updated_at", "created_at"):
        at = _timestamp(data.get(key))
        if at is not None:
            break
    return FeedEvent(event=event, channel=channel, type=kind, connection=_first_connection(data.get("identities")),
                     ip=_text(data.get("ip")) or _text(data.get("last_ip")), at=at, received_at=received_at, data=data,
                     **_person(data))


def _from_v2(event: str, channel: str, data: Mapping[object, object], received_at: str) -> FeedEvent:
    if "v" in data and (type(data.get("v")) is not int or data.get("v") != 2):
        return _unrecognised(event, channel, data, received_at, "unsupported payload version")
    values = v2_fields(data)
    if isinstance(values, str):
        return _unrecognised(event, channel, data, received_at, values)
    return FeedEvent(event=event, channel=channel, received_at=received_at, data=data, **values)


def _normalise(event: str, channel: str, data: object, received_at: str) -> FeedEvent:
    if event == LOG_EVENT_NAME:
        if not isinstance(data, Mapping):
            return _unrecognised(event, channel, data, received_at, f"payload is {_describe(data)}, not an object")
        return _from_v2(event, channel, data, received_at)
    kind = _TYPE_BY_EVENT.get(event)
    if kind is None:
        return _unrecognised(event, channel, data, received_at, "not a feed event")
    if not isinstance(data, Mapping):
        reason = f"payload is {_describe(data)}, not an object"
        return _unrecognised(event, channel, data, received_at, reason)
    if "v" in data:
        version = data.get("v")
        if type(version) is not int or version != 1:  # True == 1, so compare the exact type
            return _unrecognised(event, channel, data, received_at, "unsupported payload version")
        parsed = _from_v1(event, channel, data, received_at)
    else:
        parsed = _from_legacy(event, channel, data, received_at, kind)
    if parsed.type != "unrecognised" and parsed.user_id is None and parsed.email is None:
        return _unrecognised(event, channel, data, received_at, "payload has neither user_id nor email")
    return parsed


def _describe(data: object) -> str:
    if data is None:
        return "empty"
    if isinstance(data, str):
        return "a string"
    if isinstance(data, list | tuple):
        return "a list"
    if isinstance(data, bool):
        return "a boolean"
    if isinstance(data, int | float):
        return "a number"
    return f"of type {type(data).__name__}"


def normalise(event_name: str, channel: str, data: object, received_at: float) -> FeedEvent:
    """Read one event from the feed channel; ``data`` is the decoded payload, ``received_at`` epoch seconds.

    Never raises because of ``data`` (or a non-string event/channel); a bad ``received_at`` is the
    caller's bug and raises.
    """
    received = format_utc(received_at)
    event = (_text(event_name) or "") if isinstance(event_name, str) else ""
    where = (_text(channel) or "") if isinstance(channel, str) else ""
    try:
        return _normalise(event, where, data, received)
    except Exception:  # a Mapping subclass with a hostile .get(); the contract is "never crashes"
        return _unrecognised(event, where, data, received, _INTERNAL_ERROR)


def to_json_dict(ev: FeedEvent) -> dict[str, object]:
    """Every field by name: the object ``login-feed tail --format jsonl`` prints (``data`` not copied)."""
    return dict(zip(_FIELD_NAMES, _all_fields(ev), strict=True))  # one C call reads them all: 3x cheaper


__all__ = ["FEED_EVENT_NAMES", "LOG_EVENT_NAME", "MAX_FIELD_CHARS", "FeedEvent", "format_utc", "normalise",
           "to_json_dict", "to_text_line"]
_FIELD_NAMES = tuple(f.name for f in fields(FeedEvent))
_all_fields = operator.attrgetter(*_FIELD_NAMES)
_LABELS = {"signup": "SIGN UP", "login": "LOG IN ", "unrecognised": "UNRECOGNISED"}
_OUTCOME_LABELS = {"failure": "FAILED ", "warning": "WARNING"}


def _who(ev: FeedEvent) -> str:
    name = ev.name or ev.nickname
    if name and ev.email and name != ev.email:
        return f"{name} <{ev.email}>"
    if ev.email:
        return f"<{ev.email}>"
    return name or ev.user_id or "-"


def _via(ev: FeedEvent) -> str:
    parts = [p for p in (ev.connection, ev.client_name) if p]
    return "/".join(parts) or "-"


def to_text_line(ev: FeedEvent) -> str:
    """One human line per event (never a line break inside, whatever the payload holds)."""
    when = ev.at or ev.received_at
    if ev.type == "unrecognised":
        line = f"{when}  {_LABELS[ev.type]}  {ev.event or '-'} on {ev.channel or '-'}: {ev.reason}"
    elif ev.log_id is not None:  # v2: what happened in words, and why
        what = f"{ev.label} — {ev.reason}" if ev.reason else ev.label
        where = " ".join(p for p in (ev.country, ev.ip, ev.device) if p) or "-"
        tag = _OUTCOME_LABELS.get(ev.outcome or "", _LABELS.get(ev.type, "EVENT  "))
        tag = "BLOCKED" if ev.type == "blocked" else tag
        line = f"{when}  {tag}  {_who(ev)}  {what}  {where}"
    else:
        line = f"{when}  {_LABELS[ev.type]}  {_who(ev)}  {ev.country or '-'}  {_via(ev)}"
    return one_line(line)  # desktop.util.text's policy: breaks a space, controls and bidi overrides U+FFFD
