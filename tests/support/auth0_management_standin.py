"""A hand-written Auth0 Management API stand-in on 127.0.0.1: tenant logs, as no real server here can serve them.

What it answers, as Auth0 does (``shared/reference/auth0-log-streams.md`` §4, Auth0's "Retrieve Log Events Using
the Management API" page):

- ``POST /oauth/token``: the client-credentials grant (form or JSON); client id, secret and audience checked; 401
  ``access_denied``/``Unauthorized`` for bad credentials, 403 for an unknown audience; ``expires_in`` as set.
- ``GET /api/v2/logs?from=LOG_ID&take=N``: checkpoint paging: at most ``take`` (≤ 100) logs with a ``log_id`` above
  ``from``, ordered by ``log_id``, each the flat event object (the log stream's ``data``), and a ``Link`` header
  whose ``rel="next"`` URL continues after the last one (or repeats the request when the page is empty).
- ``GET /api/v2/logs?q=...&page=&per_page=&sort=date:1``: search mode, a small Lucene subset (``field:value``,
  ``field:"value"``, ``field:[FROM TO *]`` joined by ``AND``), at most the first 1,000 results.
- ``GET /api/v2/users/{id}/logs?page=&per_page=&sort=date:-1``: one user's logs.
- Bearer tokens checked on every API call: 401 for an unknown or expired one, 403 without the scope. Every answer
  carries ``x-ratelimit-limit``/``-remaining``/``-reset`` (epoch seconds); past the budget of a window, 429.

Test hooks: :meth:`seed`/:meth:`add` records, :meth:`throttle_next` (forced 429s), :meth:`fail_next` (forced
errors), :meth:`expire_tokens`, and :attr:`requests`/:meth:`count` to see what the client asked.

Example::

    with ManagementStandin() as api:
        api.seed(250, start=datetime(2026, 8, 1, tzinfo=UTC))
        ...  # a client with api.base_url, api.client_id, api.client_secret
        assert api.count("/oauth/token") == 1
"""

from __future__ import annotations

import json
import math
import re
import secrets
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from support.auth0_management_data import log_key, matches, realistic_events
from support.http_stub import HttpStub, Reply, StubRequest, StubService

Answer = tuple[int, Any, dict[str, str]]
SCOPES = ("read:logs", "read:logs_users")
@dataclass(frozen=True, slots=True)
class Seen:
    """One request: method, path, query (first values), Authorization header, and the status answered."""

    method: str
    path: str
    query: dict[str, str]
    authorization: str
    status: int


class ManagementStandin(StubService):
    """The Management API on ``http://127.0.0.1:<port>``; a context manager, or ``start()``/``stop()``.

    ``budget`` requests per ``window`` seconds are answered (token requests included, as Auth0's global limit
    does); the next ones get 429 until the window's ``x-ratelimit-reset``. ``budget=None`` means no limit.
    """

    def __init__(self, *, client_id: str = "catch-up-m2m", client_secret: str | None = None,
                 token_lifetime: int = 86400, scopes: Iterable[str] = SCOPES, budget: int | None = None,
                 window: float = 1.0) -> None:
        self.client_id, self.token_lifetime, self.scopes = client_id, token_lifetime, " ".join(scopes)
        self.client_secret = client_secret or secrets.token_urlsafe(32)
        self.budget, self.window = budget, window
        self._lock = threading.Lock()
        self._logs: dict[str, dict[str, Any]] = {}
        self._tokens: dict[str, float] = {}  # token -> expiry (time.time())
        self._forced: list[tuple[int, Any, float]] = []  # (status, body, reset_in) for the next API calls
        self._used, self._reset_at, self._seq = 0, 0, 0
        self.requests: list[Seen] = []
        self._stub = HttpStub(self._play)

    @property
    def base_url(self) -> str:
        return self._stub.url("")

    @property
    def audience(self) -> str:
        return self.base_url + "/api/v2/"

    # ---- test hooks -------------------------------------------------------------------------------------------

    def add(self, *events: Mapping[str, Any]) -> None:
        """Add events: flat ones carrying ``log_id`` or log-stream ``{"log_id", "data"}`` records."""
        with self._lock:
            for event in events:
                data = dict(event["data"]) if "data" in event else dict(event)
                self._logs[str(data["log_id"])] = data

    def seed(self, count: int, *, start: datetime, step: timedelta = timedelta(seconds=7)) -> list[dict[str, Any]]:
        """Add ``count`` realistic events from ``start``, ``step`` apart (mostly logins, some failures, signups
        and MFA failures; a few dated slightly out of ``log_id`` order, as Auth0's delays do); returns them."""
        made = realistic_events(count, start=start, step=step, first_seq=self._seq + 1)
        self._seq += count
        self.add(*made)
        return made

    def logs(self) -> list[dict[str, Any]]:
        """Every stored event, in ``log_id`` order."""
        with self._lock:
            return [self._logs[k] for k in sorted(self._logs, key=log_key)]

    def throttle_next(self, count: int = 1, reset_in: float = 0.2) -> None:
        """Answer the next ``count`` API calls with 429, ``x-ratelimit-reset`` ``reset_in`` seconds ahead."""
        with self._lock:
            self._forced += [(429, _error(429, "Too Many Requests", "Global limit has been reached"), reset_in)] * count

    def fail_next(self, status: int, count: int = 1) -> None:
        with self._lock:
            self._forced += [(status, _error(status, "Service Unavailable", "Please try again"), 0.0)] * count

    def expire_tokens(self) -> None:
        """Every token issued so far is now expired (the API answers 401)."""
        with self._lock:
            self._tokens = dict.fromkeys(self._tokens, 0.0)

    def count(self, path_prefix: str, status: int | None = None) -> int:
        with self._lock:
            return sum(1 for r in self.requests if r.path.startswith(path_prefix)
                       and (status is None or r.status == status))

    def seen(self, path_prefix: str) -> list[Seen]:
        with self._lock:
            return [r for r in self.requests if r.path.startswith(path_prefix)]

    # ---- the endpoints (run with the lock held) ------------------------------------------------------------

    def _rate(self, now: float) -> tuple[bool, dict[str, str]]:
        if now >= self._reset_at:
            self._used, self._reset_at = 0, math.ceil(now + self.window)
        self._used += 1
        limit = self.budget if self.budget is not None else 1000
        allowed = self.budget is None or self._used <= self.budget
        return allowed, {"x-ratelimit-limit": str(limit), "x-ratelimit-remaining": str(max(0, limit - self._used)),
                         "x-ratelimit-reset": str(self._reset_at)}

    def _token(self, form: Mapping[str, str]) -> Answer:
        if form.get("grant_type") != "client_credentials":
            return 403, {"error": "unsupported_grant_type", "error_description": "Unsupported grant type"}, {}
        good = (secrets.compare_digest(form.get("client_id", ""), self.client_id)
                and secrets.compare_digest(form.get("client_secret", ""), self.client_secret))
        if not good:
            return 401, {"error": "access_denied", "error_description": "Unauthorized"}, {}
        if form.get("audience") != self.audience:
            return 403, {"error": "access_denied",
                         "error_description": f"Service not found: {form.get('audience', '')}"}, {}
        token = secrets.token_urlsafe(24)
        self._tokens[token] = time.time() + self.token_lifetime
        return 200, {"access_token": token, "scope": self.scopes, "expires_in": self.token_lifetime,
                     "token_type": "Bearer"}, {}

    def _api(self, path: str, query: dict[str, str], authorization: str) -> Answer:
        token = authorization.removeprefix("Bearer ")
        if self._tokens.get(token, 0.0) <= time.time():
            return 401, _error(401, "Unauthorized", "Expired token received for JSON Web Token validation"), {}
        needed = "read:logs" if path == "/api/v2/logs" else "read:logs_users"
        if needed not in self.scopes.split():
            return 403, {**_error(403, "Forbidden", f"Insufficient scope, expected any of: {needed}"),
                         "errorCode": "insufficient_scope"}, {}
        if path == "/api/v2/logs":
            return self._checkpoint(query) if "from" in query else self._search(self._logs.values(), query)
        match = re.fullmatch(r"/api/v2/users/([^/]+)/logs", path)
        if not match:
            return 404, _error(404, "Not Found", "Not Found"), {}
        user_id = unquote(match[1])
        return self._search([e for e in self._logs.values() if e.get("user_id") == user_id], query)

    def _checkpoint(self, query: dict[str, str]) -> Answer:
        take = _int(query.get("take"), 50)
        if take is None or not 1 <= take <= 100:
            return 400, _error(400, "Bad Request", "Query validation error: 'take' must be from 1 to 100"), {}
        after = log_key(query["from"])
        page = sorted((e for e in self._logs.values() if log_key(e["log_id"]) > after),
                      key=lambda e: log_key(e["log_id"]))[:take]
        following = page[-1]["log_id"] if page else query["from"]
        link = f'<{self.base_url}/api/v2/logs?{urlencode({"from": following, "take": take})}>; rel="next"'
        return 200, page, {"Link": link}

    def _search(self, events: Iterable[dict[str, Any]], query: dict[str, str]) -> Answer:
        page, per_page = _int(query.get("page"), 0), _int(query.get("per_page"), 50)
        if page is None or per_page is None or page < 0 or not 1 <= per_page <= 100:
            return 400, _error(400, "Bad Request", "Query validation error: page or per_page"), {}
        if (page + 1) * per_page > 1000:
            return 400, _error(400, "Bad Request", "You can only page through the first 1000 records"), {}
        try:
            chosen = [e for e in events if matches(e, query.get("q", ""))]
        except ValueError as exc:
            return 400, _error(400, "Bad Request", str(exc)), {}
        field, _, order = query.get("sort", "date:-1").partition(":")
        chosen.sort(key=lambda e: (str(e.get(field, "")), log_key(e["log_id"])), reverse=order == "-1")
        return 200, chosen[page * per_page:(page + 1) * per_page], {}

    def _answer(self, method: str, target: str, authorization: str, form: Mapping[str, str]) -> Answer:
        parts = urlsplit(target)
        query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        now = time.time()
        if method == "POST" and parts.path == "/oauth/token":
            allowed, headers = self._rate(now)
            status, body, extra = self._token(form) if allowed else (429, _error(429, "Too Many Requests", ""), {})
        elif method == "GET" and parts.path.startswith("/api/v2/"):
            allowed, headers = self._rate(now)
            if self._forced:
                status, body, reset_in = self._forced.pop(0)
                extra = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(math.ceil(now + reset_in))} \
                    if status == 429 else {}
            elif not allowed:
                status, body, extra = 429, _error(429, "Too Many Requests", "Global limit has been reached"), {}
            else:
                status, body, extra = self._api(parts.path, query, authorization)
        else:
            headers, (status, body, extra) = {}, (404, _error(404, "Not Found", "Not Found"), {})
        self.requests.append(Seen(method, parts.path, query, authorization, status))
        return status, body, {**headers, **extra}

    def _play(self, request: StubRequest) -> Reply:
        """Served by the loopback :class:`HttpStub`: one answer per request, under the lock."""
        if request.method == "GET":
            authorization, form = request.headers.get("Authorization", ""), {}
        elif request.headers.get("Content-Type", "").startswith("application/json"):
            authorization, form = "", {k: str(v) for k, v in json.loads(request.body or b"{}").items()}
        else:
            authorization, form = "", request.form
        with self._lock:
            status, body, headers = self._answer(request.method, request.path, authorization, form)
        return Reply(status, json.dumps(body).encode(), {"Content-Type": "application/json; charset=utf-8", **headers})


def _error(status: int, error: str, message: str) -> dict[str, Any]:
    return {"statusCode": status, "error": error, "message": message}


def _int(text: str | None, default: int) -> int | None:
    if text is None:
        return default
    return int(text) if re.fullmatch(r"\d{1,6}", text) else None
