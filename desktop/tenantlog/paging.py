"""Checkpoint paging through Auth0's tenant logs, decided without IO or a clock (``now`` is passed in).

Auth0's checkpoint mode (``GET /api/v2/logs?from=LOG_ID&take=100``) answers at most 100 logs newer than ``from``,
ordered by ``log_id``, with a ``Link`` header whose ``rel="next"`` URL continues; an empty page means caught up.
A 429 (or a page with ``x-ratelimit-remaining: 0``) waits until ``x-ratelimit-reset``, in UTC epoch seconds.
:class:`CheckpointPager` turns each answer into a :class:`Step` (records for the sink, a wait, done, or "get a
new token"); :mod:`desktop.tenantlog.management` does the asking.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from desktop.tenantlog.body import MAX_LOG_ID_CHARS
from desktop.util.backoff import doubling
from desktop.util.text import json_detail

__all__ = [
    "TAKE",
    "WHAT",
    "CheckpointPager",
    "ManagementError",
    "Step",
    "TokenCache",
    "checkpoint_url",
    "log_key",
    "next_link",
    "rate_limit_wait",
    "wrap",
]

TAKE = 100
"""The most logs one checkpoint page holds."""
WHAT = "the Auth0 Management API"


_DETAIL_KEYS = ("message", "error_description", "error")  # the Management API puts its detail in "message"

class ManagementError(Exception):
    """The Management API cannot be used; the message says why and what to check, never a secret."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def log_key(log_id: str) -> tuple[int, str]:
    """Auth0's log ids are digit strings of one length that grow over time: compare by length, then text."""
    return len(log_id), log_id


def checkpoint_url(base_url: str, after: str, take: int = TAKE) -> str:
    return f"{base_url}/api/v2/logs?{urlencode({'from': after, 'take': take})}"


def next_link(header: str | None) -> str | None:
    """The ``rel="next"`` URL of a ``Link`` header (RFC 8288), or None."""
    for part in (header or "").split(","):
        target, _, params = part.strip().partition(">")
        if not target.startswith("<"):
            continue
        rels = [p.strip().partition("=") for p in params.split(";")]
        if any(k.strip().lower() == "rel" and "next" in v.strip().strip('"').lower().split() for k, _, v in rels):
            return target[1:].strip()
    return None


def rate_limit_wait(headers: Mapping[str, str], now: float, floor: float, ceiling: float) -> float:
    """Seconds until ``x-ratelimit-reset`` (epoch seconds), at least ``floor`` and at most ``ceiling`` (a
    clock that runs ahead of Auth0's must not turn a 429 into a tight loop, nor one behind into an hour's wait)."""
    try:
        reset = float(headers.get("x-ratelimit-reset", ""))
    except ValueError:
        reset = now
    return min(ceiling, max(floor, reset - now))


def wrap(event: Any) -> dict[str, Any] | None:
    """A Management API log as the log stream sends it, ``{"log_id", "data"}``; None without a usable id."""
    if not isinstance(event, dict):
        return None
    log_id = event.get("log_id")
    if not isinstance(log_id, str) or not log_id or len(log_id) > MAX_LOG_ID_CHARS or not log_id.isprintable():
        return None
    return {"log_id": log_id, "data": event}


@dataclass(frozen=True, slots=True)
class Step:
    """What one answer means: ``records`` for the sink (ascending ``log_id``); ``done`` when caught up; ``wait``
    seconds before the next request (``throttled`` when for the rate limit); ``reauth``: get a new token and
    repeat the request; ``skipped`` items that were not logs."""

    records: list[dict[str, Any]] = field(default_factory=list)
    done: bool = False
    wait: float = 0.0
    throttled: bool = False
    reauth: bool = False
    skipped: int = 0


class CheckpointPager:
    """Where checkpoint paging stands (``last_log_id``, ``next_url``) and what each answer means."""

    def __init__(self, base_url: str, after: str, *, take: int = TAKE, min_wait: float = 1.0,
                 max_wait: float = 120.0, retries: int = 5) -> None:
        self.base_url, self.take, self.retries = base_url, take, retries
        self.min_wait, self.max_wait = min_wait, max_wait
        self.last_log_id = after
        self.next_url = checkpoint_url(base_url, after, take)
        self._throttled = self._failed = self._refused = 0

    def answer(self, status: int, headers: Mapping[str, str], body: Any, now: float) -> Step:
        """:raises ManagementError: an answer that retrying cannot fix (or the same failure too many times)."""
        headers = {k.lower(): v for k, v in headers.items()}
        if status == 429:
            self._throttled += 1
            floor = doubling(self.min_wait, self._throttled - 1, self.max_wait)
            return Step(wait=rate_limit_wait(headers, now, floor, self.max_wait), throttled=True)
        self._throttled = 0
        if status == 401:
            self._refused += 1
            if self._refused > 1:
                raise ManagementError(f"{WHAT} refused a freshly issued token (401)", status)
            return Step(reauth=True)
        if status >= 500:
            self._failed += 1
            if self._failed > self.retries:
                raise ManagementError(f"{WHAT} failed {self._failed} times in a row (HTTP {status})", status)
            return Step(wait=doubling(self.min_wait, self._failed - 1, self.max_wait))
        if status != 200:
            detail = json_detail(body, _DETAIL_KEYS)
            raise ManagementError(f"{WHAT} refused the logs request (HTTP {status}){detail}", status)
        self._failed = self._refused = 0
        if not isinstance(body, list):
            raise ManagementError(f"{WHAT}'s logs page is not a JSON array", status)
        return self._page(body, headers, now)

    def _page(self, body: list[Any], headers: Mapping[str, str], now: float) -> Step:
        wrapped = [wrap(item) for item in body]
        records = sorted((r for r in wrapped if r is not None), key=lambda r: log_key(r["log_id"]))
        newer = [r for r in records if log_key(r["log_id"]) > log_key(self.last_log_id)]
        skipped = len(body) - len(newer)
        if not body:
            return Step(done=True)
        if not newer:  # a page that does not move on would be asked for again and again
            raise ManagementError(f"{WHAT} answered a logs page with nothing after {self.last_log_id}")
        self.last_log_id = newer[-1]["log_id"]
        link = next_link(headers.get("link"))
        self.next_url = link if link and self._same_endpoint(link) else checkpoint_url(
            self.base_url, self.last_log_id, self.take)
        wait = 0.0
        if headers.get("x-ratelimit-remaining", "").strip() == "0":
            wait = rate_limit_wait(headers, now, 0.0, self.max_wait)
        return Step(records=newer, wait=wait, throttled=wait > 0, skipped=skipped)

    def _same_endpoint(self, url: str) -> bool:
        """The bearer token goes only to where it was meant for: same scheme, host, port and path."""
        try:
            ours, theirs = urlsplit(self.base_url), urlsplit(url)
            return (theirs.scheme, theirs.netloc.lower(), theirs.path) == (ours.scheme, ours.netloc.lower(),
                                                                          "/api/v2/logs")
        except ValueError:
            return False


class TokenCache:
    """An access token kept until ``margin`` seconds (at most half its life) before it expires."""

    def __init__(self, margin: float = 60.0) -> None:
        self.margin = margin
        self._token: str | None = None
        self._until = 0.0

    def get(self, now: float) -> str | None:
        return self._token if self._token is not None and now < self._until else None

    def put(self, token: str, expires_in: float, now: float) -> None:
        self._token, self._until = token, now + expires_in - min(self.margin, expires_in / 2)

    def forget(self) -> None:
        self._token, self._until = None, 0.0
