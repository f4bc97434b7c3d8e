"""Tenant logs for the Management API stand-in: realistic events with Auth0-shaped ids, and the search subset."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from support.auth0_log_samples import record as sample_record

_MIX = ("s", "s", "s", "fp", "s", "ss", "fu", "s", "gd_auth_failed", "s")
_USERS = (("auth0|618223a4e3f49e006948565c", "dev@test.com"), ("auth0|61823277a44a21007221a59a", "new@test.com"),
          ("auth0|6185a1b2c3d4e5f600112233", "fresh@test.com"), ("google-oauth2|1043", "kim@example.org"))
_IPS = ("81.2.69.143", "2.125.160.216", "89.160.20.112", "216.160.83.56")
_TERM = re.compile(r'(\w+):(?:"([^"]*)"|\[(\S+) TO (\S+)\]|(\S+))')


def make_log_id(at: datetime, seq: int) -> str:
    """A 56-digit id shaped like Auth0's: ``900`` + the UTC time to the millisecond + a sequence number."""
    return f"900{at.astimezone(UTC):%Y%m%d%H%M%S}{at.microsecond // 1000:03d}{seq:036d}"


def log_key(log_id: str) -> tuple[int, str]:
    return len(log_id), log_id


def iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")



def realistic_events(count: int, *, start: datetime, step: timedelta, first_seq: int = 1) -> list[dict[str, Any]]:
    """``count`` flat events from ``start``, ``step`` apart: mostly logins, some failures, signups and MFA
    failures, four users and IPs; every 13th dated a little before its id's time, as Auth0's delays do."""
    made = []
    for n in range(count):
        at = start + step * n
        user_id, user_name = _USERS[n % len(_USERS)]
        kind = _MIX[n % len(_MIX)]
        dated = at - timedelta(milliseconds=900) if n % 13 == 5 else at
        data = sample_record(kind, make_log_id(at, first_seq + n))["data"]
        data.update(date=iso(dated), ip=_IPS[n % len(_IPS)], user_name=user_name,
                    user_id="" if kind == "fu" else user_id, client_id="aI61p8I8aFjmYRliLWgvM9ev97kCCNDB",
                    client_name="Default App")
        made.append(data)
    return made


def matches(event: Mapping[str, Any], q: str) -> bool:
    """The Lucene subset: ``AND``-joined terms; ranges compare as text (dates are ISO, log ids one length)."""
    for term in [t for t in re.split(r"\s+AND\s+", q.strip()) if t]:
        match = _TERM.fullmatch(term)
        if not match:
            raise ValueError(f"Query validation error: unsupported query '{term}'")
        field, quoted, low, high, bare = match.groups()
        value = str(event.get(field, ""))
        if low is not None:
            if (low != "*" and value < low) or (high != "*" and value > high):
                return False
        elif value != (quoted if quoted is not None else bare):
            return False
    return True
