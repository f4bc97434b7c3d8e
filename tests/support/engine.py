"""Build engine clients and server SDK clients for integration tests, and release them afterwards."""

from __future__ import annotations

import base64
import contextlib
from collections.abc import Iterator, Mapping
from typing import Any

import pusher

from desktop.pusher.auth import Authorizer, LocalAuthorizer
from desktop.pusher.client import PusherClient
from desktop.pusher.core import Options
from support.soketi import APP_ID, APP_KEY, APP_SECRET, Soketi

DEFAULT_USER: Mapping[str, Any] = {"id": "u1", "user_info": {"name": "Ada"}}


def local_authorizer(*, secret: str = APP_SECRET, master_key: bytes | None = None,
                     user: Mapping[str, Any] | None = DEFAULT_USER) -> LocalAuthorizer:
    return LocalAuthorizer(APP_KEY, secret, master_key=master_key, user=user)


def new_client(server: Soketi, *, authorizer: Authorizer | None = None, key: str = APP_KEY,
               options: Options | None = None) -> PusherClient:
    """A client for ``server`` (not connected yet); signs locally as user ``u1`` unless told otherwise."""
    return PusherClient(key, host=server.host, port=server.port, use_tls=False,
                        authorizer=authorizer if authorizer is not None else local_authorizer(), options=options)


def sdk_client(server: Soketi, *, master_key: bytes | None = None) -> pusher.Pusher:
    """A server SDK client of its own (close it with :func:`close_sdk_client`)."""
    extra: dict[str, Any] = {}
    if master_key is not None:
        extra["encryption_master_key_base64"] = base64.b64encode(master_key).decode()
    return pusher.Pusher(app_id=APP_ID, key=APP_KEY, secret=APP_SECRET, host=server.host, port=server.port,
                         ssl=False, **extra)


def close_sdk_client(client: pusher.Pusher) -> None:
    """Close the SDK's two ``requests`` sessions (REST and authentication), as ``Soketi`` does for its own."""
    for attribute in ("_pusher_client", "_authentication_client"):
        inner = getattr(client, attribute, None)
        session = getattr(getattr(inner, "http", None), "session", None)
        if session is not None:
            session.close()


@contextlib.contextmanager
def sdk_session(server: Soketi, *, master_key: bytes | None = None) -> Iterator[pusher.Pusher]:
    client = sdk_client(server, master_key=master_key)
    try:
        yield client
    finally:
        close_sdk_client(client)
