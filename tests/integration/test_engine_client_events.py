"""Client events between two engine clients, the rules Pusher enforces on them, and user sign-in."""

from __future__ import annotations

import pytest
from support.engine import local_authorizer
from support.engine_flow import connect, subscribe
from support.recording import EventRecorder
from support.soketi import Soketi

from desktop.pusher.core import ClientEventError, State

pytestmark = pytest.mark.integration

FUTURE_TIMEOUT = 5.0


def test_client_events_reach_the_other_client_but_not_the_sender(soketi: Soketi, make_client) -> None:
    channel = "private-engine-chat"
    ada = make_client(soketi, authorizer=local_authorizer(user={"id": "u1"}))
    bob = make_client(soketi, authorizer=local_authorizer(user={"id": "u2"}))
    ada_events, bob_events = connect(ada), connect(bob)
    ada_chat = subscribe(ada, ada_events, channel)
    subscribe(bob, bob_events, channel)

    assert ada_chat.trigger("client-typing", {"who": "Ada", "typing": True}).result(FUTURE_TIMEOUT) is None

    typing = bob_events.wait_for("client-typing", channel)
    assert [e.data for e in typing] == [{"who": "Ada", "typing": True}]
    # A server event sent after it reaches Ada: had the server echoed her own event, it would be here first.
    soketi.trigger(channel, "marker", {})
    ada_events.wait_for("marker", channel)
    assert not ada_events.named("client-typing")


def test_client_event_rules_fail_the_future(soketi: Soketi, make_client) -> None:
    public, private = "engine-public-lobby", "private-engine-rules"
    client = make_client(soketi)
    recorder = connect(client)
    lobby = subscribe(client, recorder, public)
    room = subscribe(client, recorder, private)

    with pytest.raises(ClientEventError, match="private or presence"):
        lobby.trigger("client-hello", {}).result(FUTURE_TIMEOUT)
    with pytest.raises(ClientEventError, match="client-"):
        room.trigger("hello", {}).result(FUTURE_TIMEOUT)
    with pytest.raises(ClientEventError, match="bytes"):
        room.trigger("client-big", "x" * (10 * 1024 + 1)).result(FUTURE_TIMEOUT)
    # Exactly 10 KB is still allowed.
    assert room.trigger("client-fits", "x" * (10 * 1024)).result(FUTURE_TIMEOUT) is None
    assert client.state is State.CONNECTED


def test_the_eleventh_client_event_in_one_second_fails(soketi: Soketi, make_client) -> None:
    channel = "private-engine-burst"
    sender = make_client(soketi, authorizer=local_authorizer(user={"id": "u1"}))
    listener = make_client(soketi, authorizer=local_authorizer(user={"id": "u2"}))
    sender_events, listener_events = connect(sender), connect(listener)
    room = subscribe(sender, sender_events, channel)
    subscribe(listener, listener_events, channel)

    futures = [room.trigger("client-tick", {"n": n}) for n in range(11)]

    for future in futures[:10]:
        assert future.result(FUTURE_TIMEOUT) is None
    with pytest.raises(ClientEventError, match="10 client events per second"):
        futures[10].result(FUTURE_TIMEOUT)
    ticks = listener_events.wait_for("client-tick", channel, count=10)
    assert [e.data["n"] for e in ticks] == list(range(10))
    assert sender.state is State.CONNECTED


def test_signin_then_events_sent_to_the_user_arrive(soketi: Soketi, make_client) -> None:
    user_id = "engine-signin-user"
    client = make_client(soketi, authorizer=local_authorizer(user={"id": user_id, "user_info": {"name": "Ada"}}))
    recorder = connect(client)
    notes = EventRecorder()
    client.user.bind("note", notes)

    client.signin()

    success = recorder.wait_for("pusher:signin_success", None)
    assert success[0].data["id"] == user_id
    recorder.wait_for("pusher:subscription_succeeded", f"#server-to-user-{user_id}")
    assert client.user.subscribed
    soketi.trigger(f"#server-to-user-{user_id}", "note", {"text": "hello Ada"})
    received = notes.wait_for("note")
    assert [e.data for e in received] == [{"text": "hello Ada"}]
    assert not recorder.named("pusher:signin_error")
    # The user's own channel is the engine's business, not one of the app's channels.
    assert client.channel_names() == []
