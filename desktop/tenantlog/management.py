"""Auth0's Management API, for the tenant log's catch-up: a pure checkpoint-paging core and a thin HTTP driver.

Why the Management API: the log stream delivers at least once, but only while the server is there to receive it;
what happened while it was stopped is filled in from ``GET /api/v2/logs?from=LOG_ID&take=100`` (checkpoint
paging, ordered by ``log_id``, unbounded; each later page from the ``Link`` header's ``rel="next"`` URL, and an
empty page once caught up). Auth0's rate limits are tight (Read Logs: burst 10, 100/minute on Essentials), so a
429 waits until ``x-ratelimit-reset`` (UTC epoch seconds), and so does a page that says ``x-ratelimit-remaining:
0``. The token (client-credentials grant, scopes ``read:logs read:logs_users``) is kept until shortly before it
expires, and fetched again once if the API refuses it.

:class:`~desktop.tenantlog.paging.CheckpointPager` decides (no IO, no clock); :class:`ManagementClient` asks. The
client secret is held by the client only: never in a log line, a URL or an exception message.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from desktop.config_values import is_loopback_host
from desktop.tenantlog.paging import (
    TAKE,
    WHAT,
    CheckpointPager,
    ManagementError,
    Step,
    TokenCache,
    rate_limit_wait,
    wrap,
)
from desktop.util.http import Answer, HttpClient, HttpError
from desktop.util.text import clean_text

__all__ = ["ManagementClient", "ManagementError", "ManagementSettings", "Step", "Stopped"]

log = logging.getLogger(__name__)

MAX_PAGE_BYTES = 8 * 1024 * 1024
"""100 logs whose ``details`` can hold request bodies: generous, but bounded."""
HTTP_TIMEOUT = 30.0
LISTING_ATTEMPTS = 6
"""A search or a user's logs is one request; a person may be waiting, so rate limits are waited out only so often."""


class Stopped(Exception):
    """:meth:`ManagementClient.stop` was called: the catch-up ends where it stands (its checkpoint is kept)."""


@dataclass(frozen=True, slots=True)
class ManagementSettings:
    """``[auth0_management]``: the tenant's domain (``tenant.eu.auth0.com``; a full ``https://`` URL, or
    ``http://`` on a loopback host for tests) and the Machine-to-Machine application's client id."""

    domain: str
    client_id: str
    audience: str | None = None  #: default ``https://DOMAIN/api/v2/`` (custom domains still use the tenant's)

    @property
    def base_url(self) -> str:
        text = self.domain.strip().rstrip("/")
        url = text if "://" in text else f"https://{text}"
        try:
            parts = urlsplit(url)
            host, _ = parts.hostname, parts.port
        except ValueError:
            host = None
        if not host or parts.path or parts.query or parts.username or parts.password:
            raise ManagementError(f"[auth0_management] domain is not a host name: {clean_text(text, 100)}")
        if parts.scheme != "https" and not (parts.scheme == "http" and is_loopback_host(host)):
            raise ManagementError("[auth0_management] domain must use https (plain http only on a loopback host)")
        return url

    @property
    def token_audience(self) -> str:
        return self.audience or self.base_url + "/api/v2/"


# ---- the driver ---------------------------------------------------------------------------------------------

class ManagementClient:
    """Blocking calls to one tenant's Management API (thread-safe: one token for all). ``clock`` is epoch seconds, as
    ``x-ratelimit-reset`` and token lifetimes are; :meth:`stop` (any thread) ends waits and further requests."""

    def __init__(self, settings: ManagementSettings, secret: str, *, http: HttpClient | None = None,
                 clock: Callable[[], float] = time.time, min_wait: float = 1.0, max_wait: float = 120.0) -> None:
        if not secret:
            raise ManagementError("the Auth0 Management API client secret is not set "
                                  "(LOGIN_FEED_AUTH0_CLIENT_SECRET or the keyring)")
        self.settings, self.base_url = settings, settings.base_url
        self._secret = secret
        self.http = http or HttpClient(WHAT, timeout=HTTP_TIMEOUT, max_bytes=MAX_PAGE_BYTES)
        self.clock, self.min_wait, self.max_wait = clock, min_wait, max_wait
        self.tokens = TokenCache()
        self.token_requests = 0
        self._stop = threading.Event()
        self._token_lock = threading.Lock()

    def __repr__(self) -> str:  # never the secret
        return f"ManagementClient({self.base_url!r}, client_id={self.settings.client_id!r})"

    def stop(self) -> None:
        self._stop.set()

    def close(self) -> None:
        self.http.close()

    def wait(self, seconds: float) -> None:
        """Sleep, unless :meth:`stop` comes first (then :class:`Stopped`)."""
        if (seconds > 0 and self._stop.wait(seconds)) or self._stop.is_set():
            raise Stopped("stopped")

    def pager(self, after: str) -> CheckpointPager:
        return CheckpointPager(self.base_url, after, min_wait=self.min_wait, max_wait=self.max_wait)

    def access_token(self) -> str:
        with self._token_lock:  # two threads needing a token at once fetch it once
            token = self.tokens.get(self.clock())
            return token if token is not None else self._new_token()

    def _new_token(self) -> str:
        form = {"grant_type": "client_credentials", "client_id": self.settings.client_id,
                "client_secret": self._secret, "audience": self.settings.token_audience}
        for attempt in range(1, 6):
            self.token_requests += 1
            answer = self._send(lambda: self.http.post(self.base_url + "/oauth/token", data=form,
                                                       what="Auth0's token endpoint", max_bytes=64 * 1024))
            if answer.status != 429 or attempt == 5:
                break
            self.wait(rate_limit_wait({k.lower(): v for k, v in answer.headers.items()}, self.clock(),
                                      self.min_wait * attempt, self.max_wait))
        if answer.status in (401, 403):
            raise ManagementError(
                f"Auth0 refused the Management API credentials of client {clean_text(self.settings.client_id, 80)} "
                f"(HTTP {answer.status}{self._scrub(answer.error_detail())}): check [auth0_management] client_id, "
                "the secret in LOGIN_FEED_AUTH0_CLIENT_SECRET or the keyring, and that the application is "
                "authorized for the Management API with read:logs and read:logs_users", answer.status)
        if not answer.ok:
            raise ManagementError(f"Auth0's token endpoint answered HTTP {answer.status}", answer.status)
        body = self._json(answer)
        token, expires_in = body.get("access_token") if isinstance(body, dict) else None, None
        if isinstance(body, dict) and isinstance(body.get("expires_in"), int | float):
            expires_in = float(body["expires_in"])
        if not isinstance(token, str) or not token or expires_in is None or expires_in <= 0:
            raise ManagementError("Auth0's token endpoint answered without an access token and its lifetime")
        self.tokens.put(token, expires_in, self.clock())
        log.info("Management API token obtained, valid for %d s", expires_in)
        return token

    def fetch(self, pager: CheckpointPager) -> Step:
        """Ask for ``pager``'s next page (a refused token is replaced once here) and say what it means."""
        while True:
            answer = self._get(pager.next_url, {})
            step = pager.answer(answer.status, answer.headers, self._json(answer), self.clock())
            if not step.reauth:
                return step
            self.tokens.forget()

    def search(self, q: str, *, sort: str = "date:1", per_page: int = TAKE, page: int = 0) -> list[dict[str, Any]]:
        """Search mode (Lucene ``q``; Auth0 pages through at most 1,000 results), as log-stream records."""
        return self._listing(self.base_url + "/api/v2/logs",
                             {"q": q, "sort": sort, "per_page": str(per_page), "page": str(page)})

    def user_logs(self, user_id: str, *, per_page: int = 50, page: int = 0) -> list[dict[str, Any]]:
        """One user's logs, newest first (``read:logs_users``), as log-stream records."""
        return self._listing(f"{self.base_url}/api/v2/users/{quote(user_id, safe='')}/logs",
                             {"sort": "date:-1", "per_page": str(per_page), "page": str(page)})

    def _listing(self, url: str, params: dict[str, str]) -> list[dict[str, Any]]:
        pager = CheckpointPager(self.base_url, "", min_wait=self.min_wait, max_wait=self.max_wait)
        for _ in range(LISTING_ATTEMPTS):  # the pager's rules for 401/429/5xx (not its page logic: no checkpoints)
            answer = self._get(url, params)
            body = self._json(answer)
            if answer.status == 200:
                if not isinstance(body, list):
                    raise ManagementError(f"{WHAT}'s answer is not a JSON array", answer.status)
                return [r for r in map(wrap, body) if r is not None]
            step = pager.answer(answer.status, answer.headers, body, self.clock())
            if step.reauth:
                self.tokens.forget()
            self.wait(step.wait)
        raise ManagementError(f"{WHAT} kept refusing (HTTP {answer.status}); try again later", answer.status)

    def _get(self, url: str, params: Mapping[str, str]) -> Answer:
        if self._stop.is_set():
            raise Stopped("stopped")
        headers = {"Authorization": f"Bearer {self.access_token()}"}
        return self._send(lambda: self.http.get(url, params=params, headers=headers))

    def _send(self, request: Callable[[], Answer]) -> Answer:
        try:
            return request()
        except HttpError as exc:
            raise ManagementError(self._scrub(exc.message), exc.status) from None

    def _json(self, answer: Answer) -> Any:
        try:
            return answer.json()
        except HttpError:
            if answer.ok:
                raise ManagementError(f"{answer.what}'s answer is not JSON", answer.status) from None
            return None  # an error page in HTML: the status says enough

    def _scrub(self, text: str) -> str:
        return text.replace(self._secret, "***")
