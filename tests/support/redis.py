"""Run a private Redis (Debian's ``redis-server`` package) on a free loopback port, for soketi clusters in tests.

``redis-server`` runs in the foreground without a configuration file: every setting is on the command line
(no persistence, loopback only), its working directory is a private temporary directory. Readiness is an
inline ``PING`` answered ``+PONG`` (Redis speaks no HTTP), so no Redis client library is needed.
"""

from __future__ import annotations

import shutil
import socket
from typing import ClassVar

from support.server_process import ServerProcess, ServerProcessError

__all__ = ["RedisError", "RedisNotInstalledError", "RedisServer"]


class RedisError(ServerProcessError):
    """Redis could not be started or did not answer PING in time."""


class RedisNotInstalledError(RedisError):
    """Debian's ``redis-server`` package is missing."""


class RedisServer(ServerProcess):
    """One Redis server on 127.0.0.1 (no persistence); ``host``/``port`` for its clients."""

    label: ClassVar[str] = "Redis"
    log_name: ClassVar[str] = "redis"
    workdir_prefix: ClassVar[str] = "redis-"
    env_prefix: ClassVar[str] = "REDIS_"
    ready_path: ClassVar[str] = ""
    error_type: ClassVar[type[ServerProcessError]] = RedisError

    def command(self) -> list[str]:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RedisNotInstalledError("redis-server is not installed: run `make test`, which installs Debian's "
                                         "`redis-server` package")
        return [binary, "--port", str(self.port), "--bind", self.host, "--save", "", "--appendonly", "no",
                "--dir", str(self.log_dir), "--protected-mode", "yes", "--loglevel", "warning"]

    def server_environment(self) -> dict[str, str]:
        return {}

    def _probe_ready(self) -> str | None:
        try:
            with socket.create_connection((self.host, self.port), timeout=1.0) as sock:
                sock.sendall(b"PING\r\n")
                answer = sock.recv(64)
        except OSError as exc:
            return f"{type(exc).__name__}: {exc}"
        return None if answer.startswith(b"+PONG") else f"answered {answer[:60]!r}"
