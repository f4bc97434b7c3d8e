"""An alert as the window holds it: read once from the alert event's payload (pure, no Qt).

The server emits an alert again, with the same ``log_id`` and a higher ``updates``, while the attack goes on
(:mod:`desktop.alerts.episodes`); the window keeps one :class:`AlertRecord` per ``log_id``, the one with the
most updates. Every text field is remote: made one line and clipped here, and painted as plain text.
A person's acknowledgement is the ``updates`` they saw: a later update re-opens the alert.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from desktop.alerts.episodes import counted
from desktop.util.text import one_line

__all__ = ["SEVERITIES", "AlertRecord", "alert_record", "is_open", "notification"]

SEVERITIES = ("high", "medium", "low")
"""Known severities, most urgent first; anything else is shown as ``low``."""
MAX_TEXT = 300
MAX_REASON = 1000
MAX_LISTED = 50


@dataclass(frozen=True, slots=True)
class AlertRecord:
    """One alert's latest known version."""

    log_id: str
    rule: str
    label: str
    severity: str
    reason: str
    who: str
    """The account, else the subject (an IP, ``tenant``), in words."""
    users: tuple[str, ...]
    ips: tuple[str, ...]
    count: int
    updates: int
    first_at: float
    last_at: float
    log_ids: tuple[str, ...]
    """The events behind it (the server lists at most 50)."""
    log_ids_count: int

    @property
    def title(self) -> str:
        """``Credential stuffing: 203.0.113.9`` — how a notification and the feed's focus bar name it."""
        return f"{self.label}: {self.who}" if self.who else self.label


def _text(value: object, limit: int = MAX_TEXT) -> str:
    return one_line(value, limit) if isinstance(value, str) else ""


def _number(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def _epoch(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except (ValueError, OverflowError):
            return None
    return None


def _strings(value: object) -> tuple[str, ...]:
    if not isinstance(value, list | tuple):
        return ()
    return tuple(text for item in value[:MAX_LISTED] if (text := _text(item)))


def _who(data: Mapping[str, Any], ips: tuple[str, ...]) -> str:
    """The account; else the subject (an IP); for a tenant-wide alert its IPs (``3 IPs``)."""
    account = next((t for key in ("email", "user_name", "user_id") if (t := _text(data.get(key)))), "")
    subject = _text(data.get("subject"))
    if account or (subject and subject not in ("tenant", "*")):
        return account or subject
    if ips:
        return ips[0] if len(ips) == 1 else counted(ips, "IP")
    return "many accounts" if subject == "*" else "the whole tenant"


def alert_record(data: object) -> AlertRecord | None:
    """The record of an alert event's payload, or None when it is not one (no ``log_id``, another kind)."""
    if not isinstance(data, Mapping) or data.get("kind") != "alert":
        return None
    log_id = _text(data.get("log_id"))
    if not log_id:
        return None
    severity = _text(data.get("severity")).casefold()
    ips = _strings(data.get("ips"))
    first = _epoch(data.get("at"))
    last = _epoch(data.get("last_at"))
    first = first if first is not None else (last or 0.0)
    log_ids = _strings(data.get("log_ids"))
    return AlertRecord(
        log_id=log_id,
        rule=_text(data.get("rule")),
        label=_text(data.get("label")) or "Alert",
        severity=severity if severity in SEVERITIES else "low",
        reason=_text(data.get("reason") or data.get("explanation"), MAX_REASON),
        who=_who(data, ips),
        users=_strings(data.get("users")),
        ips=ips,
        count=_number(data.get("count")),
        updates=_number(data.get("updates")),
        first_at=first,
        last_at=last if last is not None else first,
        log_ids=log_ids,
        log_ids_count=max(_number(data.get("log_ids_count")), len(log_ids)),
    )


def is_open(record: AlertRecord, acknowledged: Mapping[str, int]) -> bool:
    """Not acknowledged, or updated since (``acknowledged``: log_id -> the ``updates`` acknowledged)."""
    seen = acknowledged.get(record.log_id)
    return seen is None or record.updates > seen


def notification(record: AlertRecord) -> tuple[str, str]:
    """``(title, body)`` of the desktop notification for a new alert, plain text (the app escapes it)."""
    return f"Alert: {record.title}", record.reason or record.label


def payload_of(event: Any) -> object:
    """The payload of a feed event (anything with ``data``), for :func:`alert_record`."""
    return getattr(event, "data", None)


def records_of(events: Any) -> list[AlertRecord]:
    """The alerts among feed events, in their order."""
    return [r for ev in events if getattr(ev, "kind", None) == "alert" and (r := alert_record(payload_of(ev)))]
