"""Run a real soketi server (a Pusher-protocol server) as a subprocess for tests.

soketi comes from the npm test stack (``package.json`` at the repository root, installed by
``npm install``/``make test``). It is started as ``node node_modules/@soketi/soketi/bin/server.js start``
so that the PID held by :class:`Soketi` is the server's own (``npx`` would leave the server orphaned
under another PID).

Things worth knowing about soketi 1.6.1 that shaped this helper:

* Its socket library (uWebSockets.js) listens with ``SO_REUSEPORT``: a second server started on a port that
  is already in use does not fail, it silently *shares* the port with the first one. :meth:`Soketi.start`
  therefore checks that both ports are really free before it starts the server.
* It always opens a second listener (``/``, ``/ready``, ``/usage``, plus ``/metrics`` when metrics are
  enabled) on the metrics port, 9601 on 0.0.0.0 by default, even with metrics disabled. Each instance gets
  its own free loopback port for it.
* It reads a ``.env`` file from its working directory, so it runs in a private temporary directory.

Usage::

    with Soketi(user_authentication=True) as server:
        url = server.ws_url()
        server.trigger("test-public", "greeting", {"hello": "world"})
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, ClassVar

import pusher

from support.server_process import (
    LOOPBACK,
    STOP_TIMEOUT,
    ServerProcess,
    ServerProcessError,
    find_node,
    free_loopback_ports,
)

__all__ = [
    "APP_ID",
    "APP_KEY",
    "APP_SECRET",
    "REPO_ROOT",
    "SOKETI_SERVER_JS",
    "Soketi",
    "SoketiError",
    "SoketiNotInstalledError",
    "soketi_installed",
]

#: The default app soketi serves. The id must be numeric: the Python ``pusher`` library rejects others.
APP_ID = "1"
APP_KEY = "app-key"
APP_SECRET = "app-secret"

#: Repository root (this file is ``<root>/tests/support/soketi.py``).
REPO_ROOT = Path(__file__).resolve().parents[2]
#: The server's entry point inside the npm test stack.
SOKETI_SERVER_JS = REPO_ROOT / "node_modules" / "@soketi" / "soketi" / "bin" / "server.js"


class SoketiError(ServerProcessError):
    """soketi could not be started, or did not become ready in time."""


class SoketiNotInstalledError(SoketiError):
    """The npm test stack (``node_modules/@soketi/soketi``) or ``node`` itself is missing."""


def soketi_installed(server_js: Path = SOKETI_SERVER_JS) -> bool:
    """Return True when soketi's entry point is installed under ``node_modules``."""
    return server_js.is_file()


class Soketi(ServerProcess):
    """One soketi server on a free loopback port, started as a child process.

    The server keeps its ports for the lifetime of this object: :meth:`start` after :meth:`stop` or
    :meth:`kill` brings it back on the same ports, so a client can reconnect to the same URL (used to test
    that a client recovers by itself from a server crash).

    Output (stdout and stderr) goes to log files in a private temporary directory, never to a pipe nobody
    reads. Call :meth:`close` (or use the object as a context manager) to stop the server and delete them.
    The life cycle (start, stop, kill, restart, close, logs) is :class:`~support.server_process.ServerProcess`'s.
    """

    host: str = LOOPBACK
    label: ClassVar[str] = "soketi"
    log_name: ClassVar[str] = "soketi"
    workdir_prefix: ClassVar[str] = "soketi-"
    env_prefix: ClassVar[str] = "SOKETI_"
    ready_path: ClassVar[str] = "/ready"
    error_type: ClassVar[type[ServerProcessError]] = SoketiError
    port_conflict_note: ClassVar[str] = (
        " (soketi listens with SO_REUSEPORT and would silently share them with the other listener)"
    )

    def __init__(
        self,
        *,
        user_authentication: bool = False,
        debug: bool = False,
        extra_env: Mapping[str, str] | None = None,
        ready_timeout: float = 15.0,
        server_js: Path = SOKETI_SERVER_JS,
        redis: tuple[str, int] | None = None,
        cluster: str = "soketi",
    ) -> None:
        """Prepare (but do not start) a server.

        :param user_authentication: set ``SOKETI_DEFAULT_APP_USER_AUTHENTICATION=true`` (``pusher:signin``
            is honoured; a socket that neither signs in nor joins a private/presence channel within
            ``SOKETI_USER_AUTHENTICATION_TIMEOUT`` ms, 30 s by default, is closed with 4009).
        :param debug: set ``SOKETI_DEBUG=true`` (soketi then logs every frame to its log file).
        :param extra_env: more environment variables for the server, e.g.
            ``{"SOKETI_USER_AUTHENTICATION_TIMEOUT": "2000"}``; they override the defaults set here.
        :param ready_timeout: seconds to wait for ``GET /ready`` to answer 200 in :meth:`start`.
        :param server_js: soketi's ``bin/server.js``.
        :param redis: ``(host, port)`` of a Redis: the node joins a cluster through soketi's Redis adapter
            (``SOKETI_ADAPTER_DRIVER=redis``): an event published through any node reaches the subscribers of
            every node, and channel and presence information covers them all.
        :param cluster: the adapter's key prefix (``SOKETI_ADAPTER_REDIS_PREFIX``): nodes with the same prefix on
            one Redis form one cluster, so tests sharing a Redis keep apart.
        """
        super().__init__(extra_env=extra_env, ready_timeout=ready_timeout)
        self.user_authentication = user_authentication
        self.debug = debug
        self.server_js = server_js
        self.redis = redis
        self.cluster = cluster
        self.port, self.metrics_port = free_loopback_ports(2)
        self._pusher: pusher.Pusher | None = None

    # ------------------------------------------------------------------ addresses

    @property
    def http_url(self) -> str:
        """Base URL of the HTTP API (``http://127.0.0.1:PORT``)."""
        return self.base_url

    def ws_url(self, *, client: str = "python-login-feed", version: str = "0.1.0", key: str = APP_KEY) -> str:
        """WebSocket URL of the app, with the protocol-7 query string a Pusher client sends."""
        return f"ws://{self.host}:{self.port}/app/{key}?protocol=7&client={client}&version={version}"

    @property
    def ports(self) -> tuple[int, ...]:
        """The server's own port and its metrics listener's (soketi always opens the latter)."""
        return (self.port, self.metrics_port)

    # ------------------------------------------------------------------ lifecycle

    def command(self) -> list[str]:
        node = find_node("soketi", SoketiNotInstalledError)
        if not soketi_installed(self.server_js):
            raise SoketiNotInstalledError(
                f"soketi is not installed ({self.server_js} is missing): run `make test` "
                "(or `npm install` at the repository root) first"
            )
        return [node, str(self.server_js), "start"]

    def server_environment(self) -> dict[str, str]:
        adapter = {} if self.redis is None else {
            "SOKETI_ADAPTER_DRIVER": "redis",
            "SOKETI_ADAPTER_REDIS_PREFIX": self.cluster,
            "SOKETI_DB_REDIS_HOST": self.redis[0],
            "SOKETI_DB_REDIS_PORT": str(self.redis[1]),
        }
        return adapter | {
            "SOKETI_HOST": self.host,
            "SOKETI_PORT": str(self.port),
            "SOKETI_METRICS_ENABLED": "false",
            "SOKETI_METRICS_HOST": self.host,
            "SOKETI_METRICS_SERVER_PORT": str(self.metrics_port),
            "SOKETI_DEFAULT_APP_ID": APP_ID,
            "SOKETI_DEFAULT_APP_KEY": APP_KEY,
            "SOKETI_DEFAULT_APP_SECRET": APP_SECRET,
            "SOKETI_DEFAULT_APP_ENABLE_CLIENT_MESSAGES": "true",
            "SOKETI_DEFAULT_APP_USER_AUTHENTICATION": "true" if self.user_authentication else "false",
            "SOKETI_SHUTDOWN_GRACE_PERIOD": "100",
            "SOKETI_DEBUG": "true" if self.debug else "false",
            # soketi 1.6.1 pulls in aws-sdk v2, which prints an end-of-support notice on every start.
            "AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE": "1",
        }

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Stop the server gracefully (SIGTERM; SIGKILL if it is still alive after ``timeout`` seconds).

        Connected clients receive ``pusher:error`` 4200 and a close frame 4200 first.
        """
        self._close_http_pools()
        super().stop(timeout)

    def kill(self) -> None:
        """Kill the server with SIGKILL, as a crash would: clients see their TCP connection drop."""
        self._close_http_pools()
        super().kill()

    def close(self) -> None:
        """Stop the server, release the HTTP client and delete the log directory."""
        super().close()
        if self._pusher is not None:
            self._close_http_pools()
            self._pusher = None

    # ------------------------------------------------------------------ triggering (HTTP API)

    def pusher_client(self) -> pusher.Pusher:
        """The server SDK client (``pusher`` package) for this server; one shared instance.

        It stays usable across :meth:`stop`/:meth:`start` (the port does not change).
        """
        if self._pusher is None:
            self._pusher = pusher.Pusher(
                app_id=APP_ID, key=APP_KEY, secret=APP_SECRET, host=self.host, port=self.port, ssl=False
            )
        return self._pusher

    def trigger(
        self,
        channels: str | list[str],
        event: str,
        data: Any,
        socket_id: str | None = None,
    ) -> dict[str, Any]:
        """Publish ``event`` on one channel (or up to 100) through the HTTP API.

        ``data`` that is not a ``str`` is JSON-encoded by the SDK. Returns soketi's answer (``{"ok": true}``).
        """
        result: dict[str, Any] = self.pusher_client().trigger(channels, event, data, socket_id)
        return result

    def trigger_batch(self, events: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
        """Publish up to 10 events in one request (``/batch_events``).

        Each event is a mapping with ``channel``, ``name``, ``data`` and optionally ``socket_id``; the
        mappings are copied, as the SDK rewrites ``data`` in place.
        """
        batch = [dict(event) for event in events]
        result: dict[str, Any] = self.pusher_client().trigger_batch(batch)
        return result

    # ------------------------------------------------------------------ internals

    def _take_new_ports(self) -> None:
        self.port, self.metrics_port = free_loopback_ports(2)
        self._pusher = None

    def _close_http_pools(self) -> None:
        """Drop the SDK's pooled keep-alive connections (they die with the server anyway).

        ``pusher.Pusher`` holds two ``requests`` sessions (REST client and authentication client); closing a
        session only empties its connection pools, so the client keeps working after a restart.
        """
        if self._pusher is None:
            return
        for attribute in ("_pusher_client", "_authentication_client"):
            client = getattr(self._pusher, attribute, None)
            session = getattr(getattr(client, "http", None), "session", None)
            if session is not None:
                session.close()
