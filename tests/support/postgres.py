"""Run a private PostgreSQL cluster (Debian's ``postgresql`` package) on a free loopback port, for tests and benchmarks.

The cluster lives in a temporary directory (data, Unix socket, logs) and disappears with :meth:`PostgresServer.close`.
No Docker and no system service: ``initdb`` and ``postgres`` run as child processes. Facts that shaped this helper:

* PostgreSQL refuses to run as root. As root, both run as the ``postgres`` system user (created by the Debian
  package) through ``setpriv``, which *execs* the server (``runuser`` would stay in between as a parent that
  turns a signal into SIGTERM-then-SIGKILL and leaves the server orphaned when it is itself killed). The
  temporary directory is handed to that user (``chown``). As any other user they run as that user.
* The binaries are not on PATH on Debian: they are in ``/usr/lib/postgresql/<version>/bin`` (the newest is used;
  ``LOGIN_FEED_PG_BIN`` overrides).
* SIGTERM is PostgreSQL's *smart* shutdown, which waits for every client to disconnect (a connection pool never
  does): :meth:`PostgresServer.stop` sends SIGINT, the *fast* shutdown.
* Tests do not need durability: ``fsync``, ``synchronous_commit`` and ``full_page_writes`` are off unless
  ``durable=True`` (the benchmark measures with them on, as production runs).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import signal
import subprocess
from pathlib import Path
from typing import ClassVar

import psycopg
from psycopg import sql

from support.server_process import STOP_TIMEOUT, ServerProcess, ServerProcessError

__all__ = ["PostgresError", "PostgresNotInstalledError", "PostgresServer", "find_postgres_bin"]

PG_BIN_ENV = "LOGIN_FEED_PG_BIN"
_SUPERUSER = "postgres"
_DATABASE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


class PostgresError(ServerProcessError):
    """The cluster could not be created, started, or did not accept connections in time."""


class PostgresNotInstalledError(PostgresError):
    """Debian's ``postgresql`` package (``initdb``, ``postgres``) is missing."""


def find_postgres_bin() -> Path:
    """The directory holding ``initdb`` and ``postgres``; raises :class:`PostgresNotInstalledError` when none does."""
    override = os.environ.get(PG_BIN_ENV)
    candidates = [Path(override)] if override else sorted(
        Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True)
    for directory in candidates:
        if (directory / "initdb").is_file() and (directory / "postgres").is_file():
            return directory
    raise PostgresNotInstalledError(
        "PostgreSQL is not installed (no initdb/postgres under /usr/lib/postgresql/*/bin"
        f"{' or ' + override if override else ''}): run `make test`, which installs Debian's `postgresql` package")


class PostgresServer(ServerProcess):
    """One PostgreSQL cluster on a free loopback port; trust authentication for the superuser ``postgres``.

    ``url`` is the admin database's URL; :meth:`create_database` makes a private database per test.
    """

    label: ClassVar[str] = "PostgreSQL"
    log_name: ClassVar[str] = "postgres"
    workdir_prefix: ClassVar[str] = "postgres-"
    env_prefix: ClassVar[str] = "PG"  # PGHOST, PGPORT... from the caller's environment would confuse the tools
    ready_path: ClassVar[str] = ""
    error_type: ClassVar[type[ServerProcessError]] = PostgresError

    def __init__(self, *, durable: bool = False, ready_timeout: float = 60.0) -> None:
        super().__init__(ready_timeout=ready_timeout)
        self.durable = durable
        self._initialised = False

    @property
    def url(self) -> str:
        return self.database_url(_SUPERUSER)

    def database_url(self, name: str) -> str:
        return f"postgresql://{_SUPERUSER}@{self.host}:{self.port}/{name}"

    @property
    def data_dir(self) -> Path:
        return self.log_dir / "data"

    # ------------------------------------------------------------------ lifecycle

    def _as_server_user(self) -> list[str]:
        """The prefix that runs a command as ``postgres`` when we are root (empty otherwise)."""
        if os.geteuid() != 0:
            return []
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            raise PostgresNotInstalledError("running PostgreSQL as root needs `setpriv` (util-linux) to drop to "
                                            "the postgres user")
        return [setpriv, f"--reuid={_SUPERUSER}", f"--regid={_SUPERUSER}", "--clear-groups", "--"]

    def _initdb(self) -> None:
        directory = self.log_dir
        if os.geteuid() == 0:
            try:
                account = pwd.getpwnam(_SUPERUSER)
            except KeyError:
                raise PostgresNotInstalledError("there is no `postgres` system user (Debian's postgresql package "
                                                "creates it): run `make test`") from None
            os.chown(directory, account.pw_uid, account.pw_gid)
        command = [*self._as_server_user(), str(find_postgres_bin() / "initdb"), "-D", str(self.data_dir),
                   "-A", "trust", "-U", _SUPERUSER, "--no-sync", "-E", "UTF8", "--locale=C.UTF-8"]
        done = subprocess.run(command, cwd=directory, env=self.environment(), capture_output=True, timeout=120,
                              check=False)
        if done.returncode != 0:
            raise PostgresError(f"initdb failed ({done.returncode}): {done.stderr.decode(errors='replace')[-2000:]}")
        self._initialised = True

    def command(self) -> list[str]:
        binary = find_postgres_bin() / "postgres"
        if not self._initialised:
            self._initdb()
        settings = {"listen_addresses": self.host, "port": str(self.port), "unix_socket_directories": str(self.log_dir),
                    "max_connections": "200", "logging_collector": "off"}
        if not self.durable:
            settings.update(fsync="off", synchronous_commit="off", full_page_writes="off")
        options = [item for name, value in settings.items() for item in ("-c", f"{name}={value}")]
        return [*self._as_server_user(), str(binary), "-D", str(self.data_dir), *options]

    def server_environment(self) -> dict[str, str]:
        return {"LC_ALL": "C.UTF-8"}

    def _probe_ready(self) -> str | None:
        try:
            with psycopg.connect(self.url, connect_timeout=2, autocommit=True) as db:
                db.execute("SELECT 1")
        except psycopg.Error as exc:
            return f"{type(exc).__name__}: {exc}"
        return None

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """PostgreSQL's fast shutdown (SIGINT): open connections are closed, not waited for."""
        self._reap(signal.SIGINT, timeout)

    # ------------------------------------------------------------------ databases

    def create_database(self, name: str) -> str:
        """A new, empty database; its URL."""
        if not _DATABASE_NAME.fullmatch(name):
            raise ValueError(f"not a plain database name: {name!r}")
        with psycopg.connect(self.url, autocommit=True) as db:
            db.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.database_url(name)

    def drop_database(self, name: str) -> None:
        """Drop it, closing whatever connections a test left open."""
        with contextlib.suppress(psycopg.OperationalError), psycopg.connect(self.url, autocommit=True) as db:
            db.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
