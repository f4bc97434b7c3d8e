"""Event v2 payloads as the server publishes and serves them: made by the server's own normaliser
(:func:`desktop.tenantlog.normalize.normalize`) from realistic Auth0 records, so the window is tested against the
contract the server really keeps, not a hand-written copy of it."""

from __future__ import annotations

from typing import Any

from desktop.tenantlog.body import Record
from desktop.tenantlog.normalize import normalize
from support.auth0_log_samples import record

RECEIVED = 1_795_237_262.0  # 2026-11-21T05:01:02Z


def v2_payload(code: str = "fp", n: int = 1, *, cursor: int | None = None, at: str | None = None,
               sample: str | None = None, **changes: Any) -> dict[str, Any]:
    """A v2 event for Auth0 code ``code`` (on a sample record of that code, or ``sample``'s), ``log_id``
    ``log-<n>``, ``cursor`` (default ``n``), ``at`` (Auth0's ``date``); ``changes`` go into Auth0's record."""
    base = sample or (code if code in ("fp", "s", "fu", "ss", "gd_auth_failed") else "fp")
    raw = record(base, log_id=f"log-{n}", type=code, **({"date": at} if at else {}), **changes)
    event = normalize(Record(raw["log_id"], raw["data"]), RECEIVED)
    event["cursor"] = str(n if cursor is None else cursor)
    return event
