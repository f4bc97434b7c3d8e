"""``login-feed server`` as a real process for the tenant-log tests: its config, data dir, stream token and port.

The server verifies access tokens against the test OpenID provider and publishes to a test soketi. It can be
killed with SIGKILL and started again on the same port and data directory, as a crash and a restart would.
"""

from __future__ import annotations

import base64
import signal
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import requests

from desktop.tenantlog.store import is_postgres_url
from support.cli_process import CliProcess, cli_environment
from support.oidc_provider import DEVICE_CODE_GRANT, OidcProvider
from support.server_process import free_loopback_port
from support.soketi import APP_ID, APP_KEY, APP_SECRET, Soketi
from support.waiting import wait_until

STREAM_TOKEN = "Bearer log-stream-3f9c2a7e51d04b8c"
ALERT_SWITCHES = ("credential_stuffing", "brute_force", "impossible_travel", "blocks", "breached_passwords",
                  "signup_burst")
TIMEOUT = 10.0
SCOPE = "openid profile email offline_access"


def access_token(idp: OidcProvider, sub: str = "auth0|support-sam", permissions: list[str] | None = None) -> str:
    """A real access token from the provider's device flow, approved as ``sub`` with ``permissions``."""
    with requests.Session() as http:
        response = http.post(idp.device_authorization_endpoint, timeout=TIMEOUT,
                             data={"client_id": idp.client_id, "scope": SCOPE, "audience": idp.audience})
        with response:
            assert response.status_code == 200, response.text
            grant = response.json()
        idp.approve(grant["user_code"], sub,
                    permissions=["read:login-feed"] if permissions is None else permissions)
        response = http.post(idp.token_endpoint, timeout=TIMEOUT,
                             data={"grant_type": DEVICE_CODE_GRANT, "device_code": grant["device_code"],
                                   "client_id": idp.client_id})
        with response:
            assert response.status_code == 200, response.text
            token: str = response.json()["access_token"]
    return token


class LogStreamServer:
    """One ``login-feed server`` process (restartable), its config file and data directory under ``tmp_path``."""

    def __init__(self, tmp_path: Path, idp: OidcProvider, soketi: Soketi, *, channel: str = "private-login-feed",
                 master_key: bytes | None = None, database: str | None = None, alerts: bool = False) -> None:
        """``database``: a ``postgresql://`` URL (a replica of several on one store) or a SQLite file; by default
        ``tenant-log.sqlite3`` in ``data_dir``. ``alerts``: the alert rules on (issue 15); off by default, so the
        tests of the ingest find exactly the events they posted (25 wrong passwords are a brute force)."""
        tmp_path.mkdir(parents=True, exist_ok=True)
        self.data_dir = tmp_path / "data"
        self.config = tmp_path / "config.toml"
        self.database = database
        self.config.write_text(
            f'[auth0]\nissuer = "{idp.issuer}"\naudience = "{idp.audience}"\n\n'
            f'[pusher]\nkey = "{APP_KEY}"\nhost = "127.0.0.1"\nport = {soketi.port}\ntls = false\n'
            f'app_id = "{APP_ID}"\n\n[feed]\nchannel = "{channel}"\n'
            + (f'\n[server]\ndatabase = "{database}"\n' if database else "")
            + ("" if alerts else "\n[alerts]\n" + "".join(f"{rule} = false\n" for rule in ALERT_SWITCHES)),
            encoding="utf-8")
        extra = {"LOGIN_FEED_PUSHER_SECRET": APP_SECRET, "LOGIN_FEED_LOG_STREAM_TOKEN": STREAM_TOKEN}
        if master_key is not None:
            extra["LOGIN_FEED_ENCRYPTION_MASTER_KEY"] = base64.b64encode(master_key).decode()
        self.env = cli_environment(extra)
        self.port = free_loopback_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process: CliProcess | None = None
        self.runs: list[CliProcess] = []

    def start(self) -> LogStreamServer:
        assert self.process is None or self.process.process.poll() is not None
        self.process = CliProcess(["--data-dir", self.data_dir, "--config", self.config, "server", "--port",
                                   str(self.port)], self.env)
        self.runs.append(self.process)
        process = self.process
        wait_until(lambda: self._healthy() or process.process.poll() is not None, 30, message=process.describe)
        assert process.process.poll() is None, process.describe()
        return self

    def kill(self) -> None:
        """SIGKILL, as a crash: no clean-up runs."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(20)

    def close(self) -> None:
        for run in self.runs:
            run.close()

    def describe(self) -> str:
        return "\n".join(run.describe() for run in self.runs)

    def post(self, body: bytes, authorization: str | None = STREAM_TOKEN) -> requests.Response:
        headers = {"Content-Type": "application/json"}
        if authorization is not None:
            headers["Authorization"] = authorization
        with requests.post(f"{self.base}/auth0/log-stream", data=body, headers=headers, timeout=TIMEOUT) as answer:
            answer.content  # noqa: B018 - read it before the connection closes
            return answer

    def get(self, path: str, token: str) -> Any:
        with requests.get(f"{self.base}{path}", headers={"Authorization": f"Bearer {token}"},
                          timeout=TIMEOUT) as answer:
            assert answer.status_code == 200, answer.text
            return answer.json()

    def unpublished(self) -> int:
        """Events in the store not yet published (read straight from the database, as a second reader)."""
        if self.database and is_postgres_url(self.database):
            with psycopg.connect(self.database, connect_timeout=10) as pg:
                row = pg.execute("SELECT count(*) FROM events WHERE NOT published").fetchone()
            return int(row[0]) if row else 0
        database = Path(self.database) if self.database else self.data_dir / "tenant-log.sqlite3"
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=10) as db:
            count = int(db.execute("SELECT count(*) FROM events WHERE published = 0").fetchone()[0])
        db.close()
        return count

    def _healthy(self) -> bool:
        try:
            with requests.get(f"{self.base}/healthz", timeout=1) as response:
                return response.status_code == 200
        except requests.ConnectionError:
            return False


StartServer = Callable[..., LogStreamServer]


@pytest.fixture
def start_log_stream_server(tmp_path: Path, oidc_provider: OidcProvider, soketi: Soketi) -> Iterator[StartServer]:
    """``start_log_stream_server(**options)``: a started ``login-feed server`` on the session's soketi and OpenID
    provider, in a folder of its own under ``tmp_path`` (options as :class:`LogStreamServer`'s); all closed at the
    end of the test."""
    started: list[LogStreamServer] = []

    def start(**options: Any) -> LogStreamServer:
        server = LogStreamServer(tmp_path / f"server-{len(started)}", oidc_provider, soketi, **options)
        started.append(server)
        return server.start()

    try:
        yield start
    finally:
        for server in started:
            server.close()
