"""Who the caller is on presence channels and in the chat: name and email from the token, else from /userinfo.

Auth0 access tokens usually carry no profile, so the server asks the issuer's ``/userinfo`` with the caller's
own bearer token (the API's access tokens include the userinfo audience when ``openid`` was requested) and
remembers the answer per user for ten minutes. A failed lookup is remembered for a minute and the caller
appears by user id alone: presence and chat keep working while the provider is slow or down.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

from desktop.util.http import HttpClient
from desktop.util.text import clean_text

__all__ = ["PROFILE_FIELDS", "ProfileLookup", "UserInfoClient", "profile_fields", "pusher_user_id"]

log = logging.getLogger(__name__)

PROFILE_FIELDS = ("name", "email")
FIELD_LIMIT = 200
"""Pusher allows 1 KB per presence member: short fields keep ``user_info`` well inside it."""
_MAX_USERINFO_BYTES = 64 * 1024

UserInfoFetcher = Callable[[str], Mapping[str, Any]]


_USER_ID_KEEP = re.compile(r"[-a-zA-Z0-9_@,.;]")


def pusher_user_id(sub: str) -> str:
    """The user id for Pusher user sign-in: ``sub`` with every character outside Pusher's channel-name alphabet
    (and ``=`` itself) written as ``=XX`` per UTF-8 byte, e.g. ``auth0|ada`` -> ``auth0=7Cada``.

    Pusher derives the channel ``#server-to-user-<id>`` from this id, so it must be a valid channel name: the
    official server library refuses other ids and soketi refuses the channel. Auth0's ``provider|id`` subjects
    are not, hence the escape; it is reversible, and ids that are already valid stay unchanged.
    """
    return "".join(ch if _USER_ID_KEEP.fullmatch(ch) else "".join(f"={b:02X}" for b in ch.encode("utf-8"))
                   for ch in sub)


def profile_fields(claims: Mapping[str, Any]) -> dict[str, str]:
    """``name`` and ``email`` from claims (token or userinfo), as one printable line each, when present."""
    found: dict[str, str] = {}
    for field in PROFILE_FIELDS:
        value = claims.get(field)
        if isinstance(value, str) and value.strip():
            found[field] = clean_text(value.strip(), FIELD_LIMIT)
    return found


class UserInfoClient:
    """``client(access_token)`` -> the issuer's ``/userinfo`` answer (blocking, within ``timeout`` in all;
    raises :class:`~desktop.util.http.HttpError` or ``RuntimeError`` on any failure)."""

    def __init__(self, endpoint: str, *, timeout: float = 5.0) -> None:
        self.endpoint = endpoint
        self.timeout = timeout
        self._http = HttpClient("/userinfo", timeout=timeout, max_bytes=_MAX_USERINFO_BYTES)

    def close(self) -> None:
        self._http.close()

    def __call__(self, access_token: str) -> Mapping[str, Any]:
        answer = self._http.get(self.endpoint, headers={"Authorization": f"Bearer {access_token}"})
        if answer.status != 200:
            raise RuntimeError(f"/userinfo answered HTTP {answer.status}")
        return answer.json_object()


class ProfileLookup:
    """``lookup(claims, token)`` -> ``{"name"?, "email"?}``; thread-safe, blocking on a cache miss."""

    def __init__(
        self,
        fetch: UserInfoFetcher | None,
        *,
        clock: Callable[[], float] = time.monotonic,
        ttl: float = 600.0,
        failure_ttl: float = 60.0,
        max_entries: int = 10_000,
    ) -> None:
        self._fetch = fetch
        self._clock = clock
        self.ttl = ttl
        self.failure_ttl = failure_ttl
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, tuple[float, dict[str, str]]] = OrderedDict()

    def lookup(self, claims: Mapping[str, Any], access_token: str) -> dict[str, str]:
        sub = claims["sub"]
        from_token = profile_fields(claims)
        if self._fetch is None or all(field in from_token for field in PROFILE_FIELDS):
            return from_token
        return {**self._from_userinfo(sub, access_token), **from_token}

    def _from_userinfo(self, sub: str, access_token: str) -> dict[str, str]:
        now = self._clock()
        with self._lock:
            cached = self._cache.get(sub)
            if cached is not None and cached[0] > now:
                return cached[1]
        assert self._fetch is not None
        try:
            document = self._fetch(access_token)
            if document.get("sub") != sub:
                raise RuntimeError("/userinfo answered for another user")
            profile, ttl = profile_fields(document), self.ttl
        except Exception as exc:
            log.warning("no profile from /userinfo for %s (%s); using the user id alone",
                        clean_text(sub, 80), clean_text(f"{type(exc).__name__}: {exc}", 120))
            profile, ttl = {}, self.failure_ttl
        with self._lock:
            self._cache[sub] = (now + ttl, profile)
            self._cache.move_to_end(sub)
            while len(self._cache) > self.max_entries:
                self._cache.popitem(last=False)
        return profile
