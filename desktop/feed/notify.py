"""What deserves a desktop notification, in words (pure): signups, and from the tenant log the blocks (an account or
an address locked out by attack protection, ``limit_wc``/``limit_mu``/``limit_sul``) and breached passwords. Each
kind can be turned off in Settings. The text is plain: the app escapes it for notification servers that read
markup, so a hostile name is shown as typed.
"""

from __future__ import annotations

from collections.abc import Sequence

from desktop.feed.events import FeedEvent
from desktop.feed.events_v2 import BLOCK_CODES, BREACHED_CODES

__all__ = ["notifications"]


def _who(ev: FeedEvent) -> str:
    return ev.name or ev.email or ev.user_id or ev.ip or "someone"


def _one_or_many(events: list[FeedEvent], one: str, many: str) -> str:
    if len(events) == 1:
        ev = events[0]
        where = f" ({ev.country})" if ev.country else ""
        return one.format(who=_who(ev), label=ev.label or "", ip=ev.ip or "an unknown address") + where
    return many.format(count=len(events))


def notifications(rows: Sequence[FeedEvent], *, signups: bool = True, blocks: bool = True) -> list[tuple[str, str]]:
    """``(title, body)`` for each notification ``rows`` (the rows just listed) call for, at most one per kind."""
    out: list[tuple[str, str]] = []
    if signups:
        new = [ev for ev in rows if ev.type == "signup" and ev.outcome in (None, "success")]
        if new:
            out.append(("New signup", _one_or_many(new, "{who} signed up", "{count} new signups")))
    if blocks:
        blocked = [ev for ev in rows if ev.code in BLOCK_CODES]
        if blocked:
            out.append(("Blocked", _one_or_many(blocked, "{label}: {who}, from {ip}", "{count} blocks")))
        breached = [ev for ev in rows if ev.code in BREACHED_CODES]
        if breached:
            out.append(("Breached password", _one_or_many(breached, "{label}: {who}",
                                                          "{count} breached passwords used")))
    return out
