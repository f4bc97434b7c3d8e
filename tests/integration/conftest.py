"""Fixtures for the engine's integration tests: clients that are always closed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from support.engine import new_client

from desktop.pusher.client import PusherClient

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
