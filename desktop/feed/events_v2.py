"""Event v2 (``log-event``, from the tenant log) read into the :class:`~desktop.feed.events.FeedEvent` fields.

The server's contract (``shared/product.md``, "The tenant log") lists the fields; this reader keeps what the window
shows and searches, and lets everything else stay in the payload (``data``). A kind this version does not know
(a newer server) is shown as ``other`` with its own label, never dropped; a v2 event without ``log_id`` cannot be
de-duplicated, so it is unrecognised (and shown as such, with why).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from desktop.feed.fields import count, ident, text, timestamp

LOG_EVENT_NAME = "log-event"
V2_KINDS = ("signup", "login", "login_failed", "signup_failed", "blocked", "mfa", "password", "logout", "account",
            "alert", "other")
"""The kinds of the contract (plus ``alert``, the server's own alerts); any other kind is shown as ``other``."""
OUTCOMES = ("success", "failure", "warning")
BLOCK_CODES = frozenset({"limit_wc", "limit_mu", "limit_sul"})
"""Attack protection blocked an account or an address: worth a notification."""
BREACHED_CODES = frozenset({"pwd_leak", "signup_pwd_leak", "reset_pwd_leak"})
"""A breached password was used: worth a notification."""


def v2_fields(data: Mapping[Any, Any]) -> dict[str, Any] | str:
    """The FeedEvent fields of a v2 payload, or the reason it cannot be one (a string)."""
    log_id = ident(data.get("log_id"))
    if log_id is None:
        return "v2 event without log_id"
    raw_kind = text(data.get("kind"))
    kind = raw_kind if raw_kind in V2_KINDS else "other"
    outcome = text(data.get("outcome"))
    code = text(data.get("code"))
    label = text(data.get("label")) or (f"Auth0 event {code}" if code else "Auth0 event")
    user_name = text(data.get("user_name"))
    return {
        "type": kind,
        "user_id": ident(data.get("user_id")),
        "email": text(data.get("email")),
        "name": user_name,
        "connection": text(data.get("connection")),
        "client_name": text(data.get("client_name")),
        "country": text(data.get("country")),
        "city": text(data.get("city")),
        "ip": text(data.get("ip")),
        "logins_count": count(data.get("logins_count")),
        "at": timestamp(data.get("at")),
        "reason": text(data.get("reason")),
        "log_id": log_id,
        "cursor": ident(data.get("cursor")),
        "kind": raw_kind,
        "outcome": outcome if outcome in OUTCOMES else None,
        "label": label,
        "code": code,
        "device": text(data.get("device")),
    }
