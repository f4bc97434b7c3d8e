"""Refused authorizations fail one channel, never the connection: bad signatures and the HTTP authorizer."""

from __future__ import annotations

import pytest
from support.auth_endpoint import AuthEndpoint
from support.engine import local_authorizer, sdk_client
from support.engine_flow import connect, subscribe
from support.recording import StateRecorder
from support.soketi import Soketi

from desktop.pusher.auth import HttpAuthorizer
from desktop.pusher.core import State

pytestmark = pytest.mark.integration


def test_bad_signature_fails_the_channel_only(soketi: Soketi, make_client) -> None:
    private, public = "private-engine-badsig", "engine-public-after-badsig"
    client = make_client(soketi, authorizer=local_authorizer(secret="not-the-app-secret"))
    states = StateRecorder()
    client.on_state_change(states)
    recorder = connect(client)
    handle = client.subscribe(private)

    error = recorder.wait_for("pusher:subscription_error", private)[0]
    assert error.data["type"] == "ServerRefused"  # our signer signed; the server refused the signature
    assert error.data["status"] == 401
    assert error.data["reason"].startswith("the server refused the subscription (status 401): ")
    assert handle.state == "failed"
    assert handle.failure == error.data["reason"]  # still there when no event is looked at any more
    assert not handle.subscribed
    # The same connection still works for a public channel.
    news = subscribe(client, recorder, public)
    soketi.trigger(public, "headline", {"text": "still connected"})
    assert recorder.wait_for("headline", public)[0].data == {"text": "still connected"}
    assert news.subscribed
    assert client.state is State.CONNECTED
    assert states.states == [State.CONNECTING, State.CONNECTED]
    assert not recorder.named("pusher:subscription_succeeded", private)


@pytest.fixture
def auth_endpoint(soketi: Soketi):
    with AuthEndpoint(sdk_client(soketi)) as endpoint:
        yield endpoint


def test_http_authorizer_posts_the_form_and_reports_refusals(soketi: Soketi, make_client,
                                                             auth_endpoint: AuthEndpoint) -> None:
    ok, forbidden, garbage = "private-engine-http-ok", "private-engine-http-forbidden", "private-engine-http-garbage"
    headers = {"X-Team": "support", "X-Client-Build": "tests"}
    client = make_client(soketi, authorizer=HttpAuthorizer(auth_endpoint.url, headers=headers))
    states = StateRecorder()
    client.on_state_change(states)
    recorder = connect(client)

    # 1. A signed answer: the channel works, and the endpoint got the form pusher-js would send.
    subscribe(client, recorder, ok)
    [request] = auth_endpoint.requests
    assert request.method == "POST"
    assert request.path == "/pusher/auth"
    assert request.form == {"socket_id": client.socket_id, "channel_name": ok}
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert request.headers["X-Team"] == "support"
    assert request.headers["X-Client-Build"] == "tests"

    # 2. The endpoint says 403.
    client.subscribe(forbidden)
    refused = recorder.wait_for("pusher:subscription_error", forbidden)[0]
    assert refused.data["type"] == "AuthError"
    assert refused.data["status"] == 403
    assert "403" in refused.data["error"]

    # 3. The endpoint says 200 but its body is not JSON.
    client.subscribe(garbage)
    broken = recorder.wait_for("pusher:subscription_error", garbage)[0]
    assert broken.data["status"] == 200
    assert "JSON" in broken.data["error"]

    assert [r.form["channel_name"] for r in auth_endpoint.requests] == [ok, forbidden, garbage]
    # The connection stayed up throughout, and the good channel still receives.
    soketi.trigger(ok, "ping-me", {"n": 1})
    assert recorder.wait_for("ping-me", ok)[0].data == {"n": 1}
    assert client.state is State.CONNECTED
    assert states.states == [State.CONNECTING, State.CONNECTED]
    assert not recorder.named("pusher:subscription_succeeded", forbidden)
    assert not recorder.named("pusher:subscription_succeeded", garbage)


def test_http_authorizer_endpoint_unreachable(soketi: Soketi, make_client) -> None:
    """A dead endpoint (nothing listens) is a subscription error without an HTTP status, not a crash."""
    channel = "private-engine-http-unreachable"
    with AuthEndpoint(sdk_client(soketi)) as endpoint:
        url = endpoint.url  # a port that was just free; nothing listens on it once the endpoint is gone
    client = make_client(soketi, authorizer=HttpAuthorizer(url, timeout=2.0))
    recorder = connect(client)

    client.subscribe(channel)

    error = recorder.wait_for("pusher:subscription_error", channel)[0]
    assert error.data["status"] is None
    assert "could not reach" in error.data["error"]
    assert client.state is State.CONNECTED
