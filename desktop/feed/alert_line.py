"""One line per alert (issue 15), for ``login-feed tail --format text``: what people pipe into their chat tools.

An alert is a v2 event of kind ``alert`` (:mod:`desktop.alerts`); the same alert comes again, same ``log_id``,
while the attack goes on (``updates`` 1, 2, ...), so the line says whether it is new or an update, and ends
with the ``log_id`` a script can de-duplicate or thread by. Remote text, so it goes through the one character
policy (:func:`desktop.util.text.one_line`): never a line break, control or direction override inside.

``2026-11-21T05:06:40.000Z  ALERT HIGH  Brute force on one account: 25 failed logins for bob@… in 5 minutes
from 3 IPs ...  [bob@example.com; 25 events; update 1]  alert-3f2a…``
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from desktop.feed.events import FeedEvent
from desktop.util.text import one_line

__all__ = ["alert_line", "is_alert"]


def is_alert(ev: FeedEvent) -> bool:
    return ev.kind == "alert" and ev.log_id is not None


def alert_line(ev: FeedEvent) -> str:
    """The alert's line; any field may be missing or of the wrong type (it came over the network)."""
    data: Mapping[str, Any] = ev.data if isinstance(ev.data, Mapping) else {}
    severity = _text(data.get("severity")) or "alert"
    when = _text(data.get("last_at")) or ev.at or ev.received_at
    what = ev.label or "Alert"
    explanation = _text(data.get("explanation")) or ev.reason
    updates, count = data.get("updates"), data.get("count")
    facts = [_text(data.get("subject")) or "-"]
    if isinstance(count, int) and not isinstance(count, bool):
        facts.append(f"{count} event{'' if count == 1 else 's'}")
    if isinstance(updates, int) and not isinstance(updates, bool) and updates > 0:
        facts.append(f"update {updates}")
    else:
        facts.append("new")
    line = (f"{when}  ALERT {severity.upper()}  {what}: {explanation or '-'}  [{'; '.join(facts)}]  "
            f"{ev.log_id}")
    return one_line(line)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
