"""After a reconnect the engine authorizes all its channels in one request where the endpoint batches (the real
``login-feed server``), and one request per channel where it does not (a single-channel endpoint): issue 12."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.auth_endpoint import AuthEndpoint
from support.cable import Cable
from support.engine import sdk_client
from support.logstream_server import LogStreamServer, access_token
from support.oidc_provider import OidcProvider
from support.soketi import APP_KEY, Soketi
from support.waiting import wait_until

from desktop.pusher.auth import HttpAuthorizer
from desktop.pusher.client import PusherClient
from desktop.pusher.types import State

pytestmark = pytest.mark.integration
CHANNELS = ("private-login-feed", "private-chat", "private-encrypted-login-feed")



class SingleChannelEndpoint(AuthEndpoint):
    """An app's own ``/pusher/auth`` that knows only ``channel_name``: 400 without it, as such endpoints answer."""

    def _answer(self, form: dict[str, str]) -> tuple[int, str, bytes]:
        if not form.get("channel_name"):
            return 400, "application/json", b'{"error": "channel_name is required"}'
        return super()._answer(form)


def connect_all(client: PusherClient, channels: tuple[str, ...]) -> None:
    handles = [client.subscribe(name) for name in channels]
    client.connect()
    wait_until(lambda: all(h.subscribed for h in handles), 15, message="every channel subscribed")


def reconnect_through(cable: Cable, client: PusherClient, channels: tuple[str, ...]) -> None:
    cable.unplug()
    wait_until(lambda: client.state is not State.CONNECTED, 30, message="the engine noticed the cut")
    cable.plug()
    wait_until(lambda: client.state is State.CONNECTED and all(client.channel(n).subscribed for n in channels),
               20, message="connected and subscribed again")


def test_one_request_for_every_channel_where_the_endpoint_batches(tmp_path: Path, oidc_provider: OidcProvider,
                                                                 soketi: Soketi, cable: Cable) -> None:
    server = LogStreamServer(tmp_path, oidc_provider, soketi, master_key=bytes(range(32)))
    server.start()
    token = access_token(oidc_provider)
    authorizer = HttpAuthorizer(f"{server.base}/pusher/auth",
                                headers_provider=lambda: {"Authorization": f"Bearer {token}"})
    client = PusherClient(APP_KEY, host="127.0.0.1", port=cable.port, use_tls=False, authorizer=authorizer)
    try:
        asked = lambda: sum("/pusher/auth" in line for line in server.process.stderr_lines)  # noqa: E731
        connect_all(client, CHANNELS)
        assert (authorizer.batching, asked()) == (True, 1), server.describe()
        reconnect_through(cable, client, CHANNELS)
        assert asked() == 2, server.describe()  # one more request for all three channels
        print(f"authorization requests for 3 channels: {asked()} over a connect and a reconnect")
    finally:
        client.close()
        server.close()


def test_one_request_per_channel_where_the_endpoint_does_not(soketi: Soketi, cable: Cable) -> None:
    plain = CHANNELS[:2]
    with SingleChannelEndpoint(sdk_client(soketi)) as endpoint:
        authorizer = HttpAuthorizer(endpoint.url)
        client = PusherClient(APP_KEY, host="127.0.0.1", port=cable.port, use_tls=False, authorizer=authorizer)
        try:
            connect_all(client, plain)
            assert authorizer.batching is False  # it asked once, found out, and asked each channel
            first = len(endpoint.requests)
            assert first == 1 + len(plain)
            reconnect_through(cable, client, plain)
            assert sorted(r.form.get("channel_name") for r in endpoint.requests[first:]) == sorted(plain)
        finally:
            client.close()
