"""Fixtures for the integration tests: engine clients that are always closed, the Auth0 Management API stand-in
and a tenant log on a fresh SQLite store."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from support.auth0_management_standin import ManagementStandin
from support.engine import new_client

from desktop.authserver.logstream import TenantLog
from desktop.pusher.client import PusherClient
from desktop.tenantlog.sqlite_store import SqliteEventStore

ClientFactory = Callable[..., PusherClient]


@pytest.fixture
def make_client() -> Iterator[ClientFactory]:
    """``make_client(server, authorizer=..., key=..., options=...)``: a client closed when the test ends."""
    created: list[PusherClient] = []

    def make(server: Any, **kwargs: Any) -> PusherClient:
        client = new_client(server, **kwargs)
        created.append(client)
        return client

    yield make
    for client in reversed(created):
        client.close()


@pytest.fixture
def api() -> Iterator[ManagementStandin]:
    """The Auth0 Management API stand-in, on a free loopback port."""
    with ManagementStandin() as standin:
        yield standin


@pytest.fixture
def tenant_log(tmp_path: Path) -> Iterator[TenantLog]:
    """The server's tenant log on a fresh SQLite store in ``tmp_path / "data"``, no stream token, no publisher."""
    log = TenantLog(SqliteEventStore(tmp_path / "data" / "tenant-log.sqlite3"), token=None)
    yield log
    log.close()
