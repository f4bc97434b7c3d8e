"""The server's catch-up from Auth0, on its own thread while the server serves.

Why a thread: a catch-up after a long stop, and a backfill even more, can wait minutes or hours on Auth0's rate
limits, and the log stream must be received meanwhile (the store keeps one row per ``log_id``, so the two may
overlap). Why read the newest ``log_id`` in :func:`start_catch_up`, before the server takes requests: once the log
stream delivers a fresh event, the newest stored id jumps past the gap. A catch-up stopped half-way keeps its
checkpoint file next to the database, and the next start resumes from there rather than from the newest id.

A failure here (Auth0 unreachable, refused credentials) is logged and leaves the server running: the catch-up
is a repair, not something the live feed depends on.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable, Mapping
from datetime import date, datetime
from pathlib import Path

from desktop.authserver.logstream import TenantLog
from desktop.config_checks import AUTH0_CLIENT_SECRET_ENV
from desktop.config_schema import Config
from desktop.secrets import SecretStore, SecretsUnavailable
from desktop.tenantlog.backfill import FileCheckpoint, Progress, Sink, backfill_since, catch_up, format_progress
from desktop.tenantlog.management import ManagementClient, ManagementError, ManagementSettings, Stopped

__all__ = ["CatchUpRunner", "management_client", "settings_from_config", "start_catch_up"]

log = logging.getLogger(__name__)

PROGRESS_EVERY = 30.0
"""Seconds between progress lines in the server's log (and one for every wait of 5 s or more)."""


class CatchUpRunner:
    """One catch-up or backfill on a daemon thread; :meth:`stop` ends it at the next request or wait."""

    def __init__(self, client: ManagementClient, work: Callable[[ManagementClient], Progress], what: str) -> None:
        self.client, self.what = client, what
        self.result: Progress | None = None
        self.error: str | None = None
        self._work = work
        self._thread = threading.Thread(target=self._run, name="auth0-catch-up", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the end; True when it has ended."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def stop(self, timeout: float = 35.0) -> None:
        """Stop (a request in flight ends within the HTTP deadline), then close the client."""
        self.client.stop()
        if self.join(timeout):
            self.client.close()

    def _run(self) -> None:
        try:
            self.result = self._work(self.client)
        except Stopped:
            log.info("%s stopped; the next start resumes where it stood", self.what)
        except ManagementError as exc:
            self.error = str(exc)
            log.error("%s failed (the server goes on without it): %s", self.what, exc)
        except Exception as exc:  # the store, the checkpoint file: say so, keep serving
            self.error = type(exc).__name__
            log.error("%s failed (the server goes on without it): %s", self.what, type(exc).__name__)


def settings_from_config(config: Config) -> ManagementSettings | None:
    """``[auth0_management]`` as the client's settings; None unless both domain and client_id are set."""
    section = config.auth0_management
    if not section.domain or not section.client_id:
        return None
    return ManagementSettings(section.domain, section.client_id, section.audience)


def start_catch_up(settings: ManagementSettings | None, tenant_log: TenantLog, state_dir: Path | None = None, *,
                   backfill_from: date | datetime | None = None, env: Mapping[str, str] | None = None,
                   secrets: SecretStore | None = None, client: ManagementClient | None = None,
                   clock: Callable[[], float] = time.monotonic) -> CatchUpRunner | None:
    """Start the catch-up (or, with ``backfill_from``, the backfill) and return its runner; None when there is
    nothing to start (no ``[auth0_management]``, or no client secret: logged). Call before the server serves.
    The checkpoint files go to ``state_dir``, by default the directory of the store's database.

    :raises ManagementError: a backfill was asked for but cannot run (not configured, no secret).
    """
    if client is None:
        client = _client(settings, env, secrets, required=backfill_from is not None)
        if client is None:
            return None
    if state_dir is None:
        state_dir = Path(getattr(tenant_log.store, "path", "tenant-log")).parent
    progress = _Logger(clock)
    if backfill_from is not None:
        # A backfill seeds old history: stored and served by /events, never pushed live to every open window.
        sink: Sink = functools.partial(tenant_log.ingest_records, publish=False)
        checkpoint = FileCheckpoint(state_dir / "auth0-backfill.json", f"backfill-since:{backfill_from.isoformat()}")
        what = f"the backfill from Auth0 since {backfill_from.isoformat()}"
        runner = CatchUpRunner(client, lambda c: backfill_since(c, backfill_from, sink, progress, checkpoint), what)
    else:
        # A gap left while the server was stopped is recent: published, so windows that stayed connected see it.
        sink = tenant_log.ingest_records
        newest = tenant_log.store.newest_log_id()
        checkpoint = FileCheckpoint(state_dir / "auth0-catch-up.json", "catch-up")
        runner = CatchUpRunner(client, lambda c: catch_up(c, newest, sink, progress, checkpoint=checkpoint),
                               "the catch-up from Auth0")
    log.info("%s starts (%s)", runner.what, client.base_url)
    runner.start()
    return runner


def management_client(settings: ManagementSettings | None, env: Mapping[str, str] | None = None,
                      secrets: SecretStore | None = None) -> ManagementClient | None:
    """A client for the server's own look-ups (``/users/{id}/events``); None when not configured (logged)."""
    return _client(settings, env, secrets, required=False)


def _client(settings: ManagementSettings | None, env: Mapping[str, str] | None, secrets: SecretStore | None, *,
            required: bool) -> ManagementClient | None:
    def off(reason: str) -> None:
        if required:
            raise ManagementError(f"--backfill-since needs {reason}")
        log.info("no catch-up from Auth0 at start: %s", reason)

    if settings is None:
        off("[auth0_management] domain and client_id")
        return None
    try:
        secret = (secrets or SecretStore(env)).auth0_management_secret(settings.client_id)
    except SecretsUnavailable as exc:
        off(f"the Management API client secret ({exc})")
        return None
    if not secret:
        off(f"the Management API client secret in {AUTH0_CLIENT_SECRET_ENV} or the keyring")
        return None
    return ManagementClient(settings, secret)


class _Logger:
    """Progress into the log: every :data:`PROGRESS_EVERY` seconds, every long wait, and the end."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.last = clock()

    def __call__(self, state: Progress) -> None:
        now = self.clock()
        if state.done or state.waiting >= 5 or now - self.last >= PROGRESS_EVERY:
            self.last = now
            log.info("Auth0 catch-up: %s", format_progress(state))
