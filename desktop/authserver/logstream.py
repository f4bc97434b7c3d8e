"""The tenant log's routes: Auth0's log stream in, the stored events out (product contract, "The tenant log").

- ``POST /auth0/log-stream``: the Custom Webhook log stream's target. ``Authorization`` must equal the stream token
  byte for byte (Auth0 sends the configured value verbatim; compared in constant time; 401 otherwise, 503 while no
  token is configured). Body: at most 5 MB (413), read with a total deadline; unparseable -> 400 and nothing
  stored. The records are normalised to event v2 and committed in one transaction *before* the answer
  ``200 {"stored", "duplicates", "rejected"}``, so whatever Auth0 does not see acknowledged it sends again, and
  nothing is half-stored. Then the publisher is woken; Pusher being slow or down never delays the answer.
- ``GET /events?after=CURSOR&limit=N`` and ``GET /users/{user_id}/events?limit=N``: the stored events, behind the
  same bearer token, rate limit and permission checks as the other routes (the app passes its own check in).

Alerts (issue 15): :class:`~desktop.tenantlog.alerting.AlertFollower` runs the detector over the store on its
own thread (woken after each commit) and stores its alerts as events, which the publisher and ``/events`` carry
like the others; ``[alerts]`` with every rule off runs no detector.

The work (parsing, GeoIP and user-agent lookups, SQLite) runs in the thread pool, never on the event loop.
"""

from __future__ import annotations

import hmac
import logging
import sqlite3
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from desktop.authserver.params import ApiError, read_body
from desktop.config_checks import LOG_STREAM_TOKEN_ENV
from desktop.config_schema import Config
from desktop.secrets import SecretStore, SecretsUnavailable
from desktop.signing.pusher_http import PusherHttpApi
from desktop.tenantlog.alerting import AlertFollower, any_rule_on
from desktop.tenantlog.body import BodyError, decode_body, read_records
from desktop.tenantlog.enrich import GeoIpLocator, Locator, no_location
from desktop.tenantlog.normalize import normalize
from desktop.tenantlog.publisher import Publisher
from desktop.tenantlog.sqlite_store import DATABASE_FILE_NAME, SqliteEventStore
from desktop.tenantlog.store import MAX_PAGE, EventStore, StoreError, is_postgres_url
from desktop.tenantlog.userstory import UserLogs, merge_user_events

__all__ = ["DEFAULT_LIMIT", "MAX_STREAM_BODY_BYTES", "STREAM_BODY_TIMEOUT", "IngestResult", "TenantLog",
           "build_tenant_log"]

log = logging.getLogger(__name__)

MAX_STREAM_BODY_BYTES = 5 * 1024 * 1024
STREAM_BODY_TIMEOUT = 60.0
"""Seconds Auth0 has to send a whole delivery (5 MB over a slow link)."""
DEFAULT_LIMIT = 100
PUBLISH_WORKERS = 2
REPLICA_OUTBOX_CHECK = 2.0
"""Seconds between outbox checks of a replica on PostgreSQL (an indexed, empty query when all is published)."""
"""Pusher requests in flight while the outbox drains a backlog: 2 publish ~1.5x faster than 1 on the 2-core machine
(bench/scale.py); more took CPU from the ingest there."""
_MAX_USER_ID_CHARS = 256
Authenticate = Callable[[Request], Awaitable[Any]]


@dataclass(frozen=True)
class IngestResult:
    stored: int
    duplicates: int
    rejected: int


class TenantLog:
    """The store, the stream token and the publisher, and the routes that use them."""

    def __init__(self, store: EventStore, token: str | None, publisher: Publisher | None = None, *,
                 locate: Locator = no_location, clock: Callable[[], float] = time.time,
                 body_timeout: float = STREAM_BODY_TIMEOUT) -> None:
        self.store = store
        self._token = token.encode("utf-8") if token else None
        self.publisher = publisher
        self.locate = locate
        self.clock = clock
        self.body_timeout = body_timeout
        self.alerts: AlertFollower | None = None
        """The alert detector following the store (:mod:`desktop.tenantlog.alerting`); woken after each commit."""
        self.user_logs: UserLogs | None = None
        """Auth0's Management API user logs (``[auth0_management]``), for users the store knows too little of."""
        self._authenticate: Authenticate | None = None

    def __repr__(self) -> str:  # never the token
        return f"TenantLog({self.store!r}, token={'set' if self._token else 'unset'})"

    def routes(self, authenticate: Authenticate) -> list[Route]:
        """The routes; ``authenticate(request)`` is the app's bearer-token, rate-limit and permission check."""
        self._authenticate = authenticate
        return [
            Route("/auth0/log-stream", self.log_stream, methods=["POST"]),
            Route("/events", self.events, methods=["GET"]),
            Route("/users/{user_id}/events", self.user_events, methods=["GET"]),
        ]

    async def healthz(self, request: Request) -> Response:
        """``GET /healthz`` for a load balancer: 200 ``{"ok": true}`` while the store answers, 503 ``{"ok": false}``
        when it does not (a replica that cannot store must not receive Auth0's deliveries). No authentication;
        the reason goes to the log, not to the caller."""
        try:
            await run_in_threadpool(self.store.check)
        except (StoreError, sqlite3.Error, OSError) as exc:
            log.warning("health check failed: the tenant-log store does not answer: %s", exc)
            return JSONResponse({"ok": False}, status_code=503)
        return JSONResponse({"ok": True})

    def start(self) -> None:
        """Start publishing (first whatever an earlier run left unpublished)."""
        if self.publisher is not None:
            self.publisher.start()
        if self.alerts is not None:
            self.alerts.start()

    def close(self) -> None:
        if self.alerts is not None:
            self.alerts.stop()
        if self.publisher is not None:
            self.publisher.stop()
        self.store.close()
        close_locator = getattr(self.locate, "close", None)
        if callable(close_locator):
            close_locator()

    # ---- the log stream ------------------------------------------------------------------------------------

    def ingest(self, body: bytes, *, publish: bool = True) -> IngestResult:
        """Parse one log-stream delivery and :meth:`ingest_records` its records (blocking).

        :raises BodyError: the body cannot be parsed (nothing stored).
        """
        return self.ingest_records(decode_body(body), publish=publish)

    def ingest_records(self, documents: Iterable[Any], *, publish: bool = True) -> IngestResult:
        """Check, normalise and commit already decoded records (a delivery's, or the Management API's pages for
        the catch-up and backfill: a :data:`~desktop.tenantlog.backfill.Sink`) in one transaction (blocking);
        wakes the publisher after the commit. The one way events get into the store. ``publish=False`` stores
        without publishing (old events from a backfill: served by ``/events`` only)."""
        parsed = read_records(documents)
        now = self.clock()
        events = [normalize(record, now, locate=self.locate) for record in parsed.records]
        stored, duplicates = self.store.add(events, now, published=not publish)
        if self.publisher is not None and stored and publish:
            self.publisher.wake()
        if self.alerts is not None and stored:
            self.alerts.wake()
        if parsed.problems:
            log.warning("log stream: %d record(s) rejected, e.g. %s", parsed.rejected, "; ".join(parsed.problems))
        return IngestResult(stored, duplicates, parsed.rejected)

    async def log_stream(self, request: Request) -> Response:
        if self._token is None:
            raise ApiError(503, "not_configured", "the log stream token is not configured on this server "
                                                  "(LOGIN_FEED_LOG_STREAM_TOKEN or the keyring)")
        sent = request.headers.get("authorization", "").encode("latin-1")  # the bytes as sent
        if not hmac.compare_digest(sent, self._token):
            raise ApiError(401, "unauthorized", "the Authorization header does not match the log stream token")
        body = await read_body(request, self.body_timeout, MAX_STREAM_BODY_BYTES)
        try:
            result = await run_in_threadpool(self.ingest, body)
        except BodyError as exc:
            raise ApiError(400, "invalid_request", f"the log stream body cannot be parsed: {exc}") from None
        except (StoreError, sqlite3.Error, OSError) as exc:
            log.error("the tenant-log store failed; Auth0 will retry: %s", exc)
            raise ApiError(503, "temporarily_unavailable", "the events could not be stored; try again",
                           {"Retry-After": "10"}) from None
        log.info("log stream: %d stored, %d duplicates, %d rejected", result.stored, result.duplicates,
                 result.rejected)
        return JSONResponse({"stored": result.stored, "duplicates": result.duplicates, "rejected": result.rejected})

    # ---- serving it back ------------------------------------------------------------------------------------

    async def _check(self, request: Request) -> None:
        if self._authenticate is None:
            raise RuntimeError("TenantLog.routes() was not given the app's token check")
        await self._authenticate(request)

    async def events(self, request: Request) -> Response:
        await self._check(request)
        after = request.query_params.get("after")
        limit = _limit(request.query_params.get("limit"))
        try:
            page = await run_in_threadpool(self.store.page, after if after not in (None, "") else None, limit)
        except ValueError as exc:
            raise ApiError(400, "invalid_request", str(exc)) from None
        return JSONResponse({"events": page.events, "next": page.next, "more": page.more})

    async def user_events(self, request: Request) -> Response:
        await self._check(request)
        user_id = request.path_params["user_id"]
        if not user_id or len(user_id) > _MAX_USER_ID_CHARS or not user_id.isprintable():
            raise ApiError(400, "invalid_request", "the user id is not valid")
        limit = _limit(request.query_params.get("limit"))
        events = await run_in_threadpool(self.store.for_user, user_id, limit)
        if len(events) < limit and self.user_logs is not None:
            events = await run_in_threadpool(self._with_auth0, user_id, limit, events)
        return JSONResponse({"events": events})

    def _with_auth0(self, user_id: str, limit: int, stored: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The stored events topped up from Auth0; Auth0 failing only leaves the stored ones (logged)."""
        assert self.user_logs is not None
        try:
            fetched = self.user_logs(user_id, limit)
        except Exception as exc:  # the Management API's own error type, the HTTP boundary's, a stop
            log.warning("user look-up: Auth0's user logs are unavailable (%s); serving the stored events",
                        type(exc).__name__ if not str(exc) else exc)
            return stored
        return merge_user_events(stored, fetched, limit, self.clock(), locate=self.locate)


def _limit(text: str | None) -> int:
    """``limit``: 1 to 1000 (larger values are served as 1000, the most one page holds); 100 by default."""
    if text is None or text == "":
        return DEFAULT_LIMIT
    if not text.isascii() or not text.isdigit() or int(text) < 1:
        raise ApiError(400, "invalid_request", f"'limit' must be a whole number from 1 to {MAX_PAGE}")
    return min(int(text) if len(text) <= 9 else MAX_PAGE, MAX_PAGE)


def build_tenant_log(config: Config, data_dir: Path | None, trigger: PusherHttpApi | None,
                     env: Mapping[str, str] | None = None, secrets: SecretStore | None = None) -> TenantLog:
    """The store (``[server] database``, else ``tenant-log.sqlite3`` in the data directory), the stream token,
    the GeoIP database and the publisher (when the server can publish: ``[pusher] app_id``). Not started.

    :raises StoreError: the database cannot be opened (the server must not start without its store).
    """
    from desktop.resources import data_dir as make_data_dir  # noqa: PLC0415 - platformdirs only when needed

    database = config.authserver.database
    store: EventStore
    if is_postgres_url(database):  # several replicas share it (tenantlog/pgstore.py)
        from desktop.tenantlog.pgstore import PostgresEventStore  # noqa: PLC0415 - psycopg only when used

        store = PostgresEventStore(str(database), config.authserver.retention_days)
        where = f"PostgreSQL {store.where}"
    else:
        path = Path(database).expanduser() if database else make_data_dir(data_dir) / DATABASE_FILE_NAME
        store = SqliteEventStore(path, config.authserver.retention_days)
        where = str(path)
    try:
        token = (secrets or SecretStore(env)).log_stream_token()
    except SecretsUnavailable as exc:
        log.warning("the log stream stays closed: %s", exc)
        token = None
    if token is None:
        log.warning("no log stream token (%s or the keyring): POST /auth0/log-stream answers 503",
                    LOG_STREAM_TOKEN_ENV)
    try:
        locate: Locator = GeoIpLocator()
    except (ImportError, OSError, ValueError) as exc:  # e.g. a bundle built without the database
        log.warning("no GeoIP database (%s): events carry no country or city", type(exc).__name__)
        locate = no_location
    publisher = None
    if trigger is not None:
        # on a shared PostgreSQL, another replica may have committed events it could not publish (it died, or its
        # Pusher failed): look at the outbox every few seconds, not only after this replica's own commits
        options: dict[str, Any] = {"workers": PUBLISH_WORKERS}
        if is_postgres_url(database):
            options["idle_check"] = REPLICA_OUTBOX_CHECK
        publisher = Publisher(store, trigger.trigger_batch, config.feed.channel, **options)
    else:
        log.warning("[pusher] app_id is not set: tenant-log events are stored and served but not published")
    log.info("tenant log in %s (kept %d days), published to %s", where, config.authserver.retention_days,
             config.feed.channel if publisher else "nowhere")
    tenant_log = TenantLog(store, token, publisher, locate=locate)
    if any_rule_on(config.alerts):
        tenant_log.alerts = AlertFollower(store, config.alerts, publisher.wake if publisher else lambda: None)
    else:
        log.info("[alerts]: every rule is off; no alerts are raised")
    return tenant_log
