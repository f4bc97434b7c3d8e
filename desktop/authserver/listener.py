"""The authorization server's HTTP listener: uvicorn, limited so that slow or idle clients cannot exhaust it.

uvicorn alone caps header size but never times out a connection that is still sending its request: a client that
connects and sends nothing, or drips its headers one byte at a time, holds a socket (and a file descriptor)
forever, and its keep-alive timer is reset by every byte. Once the process runs out of file descriptors asyncio
logs a traceback for each failed ``accept()``. So:

- a **header deadline**: from the moment a connection opens, or the next request's first byte arrives, the
  request line and headers must be complete within ``header_timeout`` seconds, however they trickle in; then the
  connection is closed (:class:`HeaderDeadlineProtocol`, uvicorn's h11 protocol plus one timer, watching h11's
  public ``their_state``);
- the **body deadline** is the application's (``body_timeout`` in :mod:`.app`), idle keep-alive connections
  close after ``keep_alive`` seconds (uvicorn);
- at most ``max_connections`` open connections (uvicorn's ``limit_concurrency``: more get 503 and are closed)
  and a bounded listen backlog;
- **quiet under pressure**: running out of file descriptors is one warning line without a traceback, and it,
  uvicorn's repeated warnings and errors (the concurrency limit, bad requests) and the event loop's errors are
  each logged at most once a minute per kind, with a count of what was left out (:class:`QuietLog`, a token
  bucket from :mod:`.ratelimit`).

In production, put a reverse proxy (nginx, Caddy) in front for TLS and its own connection limits, and start the
server with ``--proxy-headers`` so the access log shows the real client (see the README).
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
import time
from collections.abc import Callable
from typing import Any

import h11
import uvicorn
from starlette.types import ASGIApp
from uvicorn.protocols.http.h11_impl import H11Protocol

from desktop.authserver.ratelimit import TokenBuckets

__all__ = [
    "BACKLOG",
    "HEADER_TIMEOUT",
    "KEEP_ALIVE",
    "HeaderDeadlineProtocol",
    "QuietLog",
    "build_server",
]

log = logging.getLogger(__name__)

HEADER_TIMEOUT = 10.0
KEEP_ALIVE = 5.0
BACKLOG = 256
MAX_HEADER_BYTES = 16 * 1024
_OUT_OF_RESOURCES = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})


class QuietLog:
    """``allow(kind, now)`` -> how many ``kind`` messages were left out since the last one shown, or None to
    leave this one out too: at most ``burst`` at once and then one per ``interval`` seconds, per kind.
    Pure (the caller passes the time); used from the event loop thread only."""

    def __init__(self, interval: float = 60.0, burst: int = 1) -> None:
        self._buckets = TokenBuckets(1.0 / interval, burst, max_keys=1000)
        self._suppressed: dict[str, int] = {}

    def allow(self, kind: str, now: float) -> int | None:
        if self._buckets.take(kind, now) > 0:
            self._suppressed[kind] = self._suppressed.get(kind, 0) + 1
            return None
        return self._suppressed.pop(kind, 0)


def _suffix(left_out: int) -> str:
    return f" ({left_out} more like this not logged)" if left_out else ""


class _QuietFilter(logging.Filter):
    """Limits repeated uvicorn messages (e.g. "Exceeded concurrency limit.") by their format string."""

    def __init__(self, quiet: QuietLog, clock: Callable[[], float]) -> None:
        super().__init__()
        self.quiet = quiet
        self.clock = clock

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        left_out = self.quiet.allow(f"uvicorn:{record.msg}", self.clock())
        if left_out is None:
            return False
        if left_out:
            record.msg = f"{record.msg}{_suffix(left_out)}"
        return True


def _exception_handler(quiet: QuietLog, clock: Callable[[], float]) -> Callable[[asyncio.AbstractEventLoop,
                                                                                 dict[str, Any]], None]:
    """The event loop's exception handler: out of file descriptors is one warning line, rate limited, without a
    traceback; anything else goes to asyncio's default handler, rate limited by its message."""

    def handle(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        if isinstance(exc, OSError) and exc.errno in _OUT_OF_RESOURCES:
            left_out = quiet.allow("accept", clock())
            if left_out is not None:
                log.warning("cannot accept connections: %s; new clients wait until connections close (raise the "
                            "file limit, lower [authserver] max_connections, or put a proxy in front)%s",
                            exc.strerror or exc, _suffix(left_out))
            return
        left_out = quiet.allow(f"loop:{context.get('message')}", clock())
        if left_out is not None:
            loop.default_exception_handler(context)

    return handle


class HeaderDeadlineProtocol(H11Protocol):
    """uvicorn's h11 protocol, plus a deadline for a request's line and headers (see the module docstring)."""

    header_timeout: float = HEADER_TIMEOUT
    quiet: QuietLog | None = None

    _header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._watch_headers()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._watch_headers()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_timer()
        super().connection_lost(exc)

    def _watch_headers(self) -> None:
        """Armed while h11 waits for a request (state IDLE) on an open connection, cancelled once it has one."""
        waiting = self.conn.their_state is h11.IDLE and not self.transport.is_closing()
        if waiting and self._header_timer is None:
            self._header_timer = self.loop.call_later(self.header_timeout, self._headers_too_slow)
        elif not waiting:
            self._cancel_header_timer()

    def _cancel_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if self.conn.their_state is not h11.IDLE or self.transport.is_closing():
            return
        left_out = self.quiet.allow("headers", time.monotonic()) if self.quiet is not None else 0
        if left_out is not None:
            log.info("closed a connection that sent no complete request within %g s%s", self.header_timeout,
                     _suffix(left_out))
        self.transport.close()


class _Server(uvicorn.Server):
    """uvicorn's server with the quiet exception handler and log filter installed while it serves."""

    def __init__(self, config: uvicorn.Config, quiet: QuietLog, clock: Callable[[], float]) -> None:
        super().__init__(config)
        self.quiet = quiet
        self.clock = clock

    async def serve(self, sockets: list[socket.socket] | None = None) -> None:
        asyncio.get_running_loop().set_exception_handler(_exception_handler(self.quiet, self.clock))
        uvicorn_log = logging.getLogger("uvicorn.error")
        quiet_filter = _QuietFilter(self.quiet, self.clock)
        uvicorn_log.addFilter(quiet_filter)
        try:
            await super().serve(sockets)
        finally:
            uvicorn_log.removeFilter(quiet_filter)


def build_server(app: ASGIApp, host: str, port: int, *, max_connections: int, header_timeout: float = HEADER_TIMEOUT,
                 keep_alive: float = KEEP_ALIVE, backlog: int = BACKLOG, **options: Any) -> uvicorn.Server:
    """A uvicorn server for ``app`` with the limits above; ``options`` are passed on to ``uvicorn.Config`` (e.g.
    ``proxy_headers``, ``forwarded_allow_ips``, ``timeout_graceful_shutdown``)."""
    quiet = QuietLog()
    protocol = type("AuthServerProtocol", (HeaderDeadlineProtocol,), {"header_timeout": header_timeout,
                                                                      "quiet": quiet})
    config = uvicorn.Config(
        app, host=host, port=port, http=protocol, ws="none", lifespan="off", log_config=None, access_log=False,
        server_header=False, limit_concurrency=max_connections, backlog=backlog, timeout_keep_alive=keep_alive,  # type: ignore[arg-type]  # a float works (call_later)
        h11_max_incomplete_event_size=MAX_HEADER_BYTES, **options)
    return _Server(config, quiet, time.monotonic)
