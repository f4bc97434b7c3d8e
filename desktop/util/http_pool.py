"""``requests``' adapter whose every socket is under the calling thread's deadline (:mod:`desktop.util.deadline`).

urllib3 opens sockets in its connection classes and reuses them from its pools; the subclasses here hand each
socket to the watchdog when it is opened and again each time a request starts on it (a pooled keep-alive
connection changes owner). Only :mod:`desktop.util.http` uses this.
"""

from __future__ import annotations

import logging
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from desktop.util.deadline import current, watch_socket

__all__ = ["DeadlineAdapter"]


class _Watched:
    """Every socket a connection opens or reuses is put under the calling thread's deadline."""

    def _new_conn(self) -> Any:
        sock = super()._new_conn()  # type: ignore[misc]
        watch_socket(sock)
        return sock

    def request(self, *args: Any, **kwargs: Any) -> None:
        sock = getattr(self, "sock", None)
        if sock is not None:  # a keep-alive connection from the pool, or a socket that TLS has just wrapped
            watch_socket(sock)
        super().request(*args, **kwargs)  # type: ignore[misc]


class _WatchedConnection(_Watched, HTTPConnection):
    pass


class _WatchedTLSConnection(_Watched, HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedTLSConnection


_POOLS = {"http": _HTTPPool, "https": _HTTPSPool}


class _QuietHeaderWarnings(logging.Filter):
    """urllib3 logs malformed headers with the full URL (its query may hold a secret) and a traceback. When our
    deadline cut the headers short, the caller gets the timeout and the warning is noise: drop it; otherwise keep
    one plain line."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not str(record.msg).startswith("Failed to parse headers"):
            return True
        window = current()
        if window is not None and window.expired:
            return False
        record.msg, record.args = "a server sent malformed HTTP headers", ()
        record.exc_info = record.exc_text = None
        return True


logging.getLogger("urllib3.connection").addFilter(_QuietHeaderWarnings())


class _NoQueryInLog(logging.Filter):
    """urllib3's pool logs each request's URL at DEBUG, query and all (Pusher's HTTP API carries its signature
    there, other services a code or a token): cut every argument at its ``?``."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and any(isinstance(a, str) and "?" in a for a in record.args):
            record.args = tuple(a.split("?", 1)[0] + "?…" if isinstance(a, str) and "?" in a else a
                                for a in record.args)
        return True


logging.getLogger("urllib3.connectionpool").addFilter(_NoQueryInLog())


class DeadlineAdapter(HTTPAdapter):
    """``requests``' adapter with the watched connections, for direct and proxied requests alike."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOLS

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        manager.pool_classes_by_scheme = _POOLS
        return manager
