"""The asking half of catch-up and of the user look-up: ``GET /events?after=`` page after page, and
``GET /users/{id}/events``, through :class:`~desktop.util.http.HttpClient` (the one HTTP boundary: total deadline,
size cap, no redirects, TLS on). Blocking: run it off the GUI thread (``run_task``) or on ``tail``'s own
catch-up thread. The decisions are :mod:`desktop.feed.catchup`'s.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from desktop.feed.catchup import CatchUpPager, PageError
from desktop.util.http import Answer, HttpClient, HttpError

if TYPE_CHECKING:
    from desktop.auth.signin import SignInManager
    from desktop.config_schema import Config

__all__ = ["PAGE_BYTES", "Headers", "auth_headers", "fetch_missed", "fetch_user_events", "tenant_log_client"]

PAGE_BYTES = 16 * 1024 * 1024
"""A page of 1,000 events of at most 10 KB each fits, with room; a larger answer is refused, not read."""
WHAT = "the tenant log"
Headers = Callable[[], Mapping[str, str]]
"""Called before every request (off the GUI thread): the bearer token, renewed ahead of expiry, and any
``[authorization] headers``."""


def tenant_log_client(timeout: float = 20.0) -> HttpClient:
    return HttpClient(WHAT, timeout=timeout, max_bytes=PAGE_BYTES)


def auth_headers(config: Config, signin: SignInManager | None) -> tuple[Headers, Callable[[], None] | None]:
    """The tenant log is asked as channel authorization is: the ``[authorization] headers`` and the signed-in
    user's bearer token (renewed ahead of expiry; ``renew`` forces it after a 401)."""
    fixed = dict(config.authorization.headers)

    def headers() -> dict[str, str]:
        if signin is None:
            return fixed
        return {**fixed, "Authorization": f"Bearer {signin.access_token()}"}

    renew = None if signin is None else (lambda: signin.access_token(force_refresh=True) and None)
    return headers, renew


def _get(http: HttpClient, url: str, params: dict[str, str], headers: Headers,
         renew: Callable[[], None] | None) -> Any:
    answer: Answer = http.get(url, params=params, headers=dict(headers()))
    if answer.status == 401 and renew is not None:  # the token expired in flight: renew once, ask again
        renew()
        answer = http.get(url, params=params, headers=dict(headers()))
    if not answer.ok:
        raise HttpError(f"{WHAT} answered HTTP {answer.status}{answer.error_detail()}", answer.status)
    return answer.json()


def fetch_missed(http: HttpClient, url: str, pager: CatchUpPager, headers: Headers,
                 on_page: Callable[[list[dict[str, Any]]], None], *, stop: Callable[[], bool] = lambda: False,
                 renew: Callable[[], None] | None = None) -> CatchUpPager:
    """Ask for pages until ``pager`` is done (or ``stop()`` says the connection is gone), handing each page of
    events (oldest first) to ``on_page`` as it comes; returns the pager (its ``cursor``, ``fetched``).

    :raises HttpError: the server could not be reached or refused (the message says which, never the token);
        pages handed over before that stay handed over.
    """
    while not pager.done and not stop():
        try:
            page = pager.take(_get(http, url, pager.params(), headers, renew))
        except PageError as exc:
            raise HttpError(f"{WHAT}'s answer is not a page of events ({exc})") from None
        if page:
            on_page(page)
    return pager


def fetch_user_events(http: HttpClient, url: str, headers: Headers, *, limit: int = 100,
                      renew: Callable[[], None] | None = None) -> list[dict[str, Any]]:
    """One user's recent events from ``GET /users/{id}/events`` (``url``), as the server sends them.

    :raises HttpError: unreachable, refused, or not ``{"events": [...]}``.
    """
    answer = _get(http, url, {"limit": str(limit)}, headers, renew)
    events = answer.get("events") if isinstance(answer, dict) else None
    if not isinstance(events, list):
        raise HttpError(f"{WHAT}'s answer has no 'events' list")
    return [event for event in events if isinstance(event, Mapping)]
