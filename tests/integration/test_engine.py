"""The Pusher engine against a real soketi: public, private, presence and encrypted channels.

Each test drives :class:`PusherClient` the way the app does and checks what a binding sees.
"""

from __future__ import annotations

import time

import pytest
from support.engine import local_authorizer, sdk_session
from support.engine_flow import connect, subscribe
from support.recording import EventRecorder
from support.soketi import Soketi
from support.waiting import wait_until

from desktop.pusher.core import State

pytestmark = pytest.mark.integration

MASTER_KEY = bytes(range(32))
OTHER_MASTER_KEY = bytes(range(100, 132))


def test_public_channel_delivers_decoded_json_and_plain_strings(soketi: Soketi, make_client) -> None:
    channel = "engine-public-news"
    client = make_client(soketi)
    recorder = connect(client)
    handle = subscribe(client, recorder, channel)
    greetings = EventRecorder()
    handle.bind("greeting", greetings)
    before = time.time()

    soketi.trigger(channel, "greeting", {"hello": "world", "n": [1, 2], "nested": {"ok": True}})
    soketi.trigger(channel, "note", "just a plain sentence, not JSON")

    note = recorder.wait_for("note", channel)[0]
    greeting = recorder.wait_for("greeting", channel)[0]
    assert greeting.data == {"hello": "world", "n": [1, 2], "nested": {"ok": True}}
    assert note.data == "just a plain sentence, not JSON"
    assert greeting.user_id is None
    assert before - 1 <= greeting.received_at <= time.time() + 1
    # The per-event binding on the handle heard the greeting only.
    wait_until(lambda: greetings.events)
    assert [e.event for e in greetings.events] == ["greeting"]


def test_private_channel_with_the_local_signer(soketi: Soketi, make_client) -> None:
    channel = "private-engine-orders"
    client = make_client(soketi)
    recorder = connect(client)
    handle = subscribe(client, recorder, channel)
    assert handle.state == "subscribed"
    orders = EventRecorder()
    handle.bind("order-placed", orders)

    soketi.trigger(channel, "order-placed", {"id": 42})

    orders.wait_for("order-placed", channel)
    assert orders.events[0].data == {"id": 42}
    assert client.state is State.CONNECTED


def test_presence_members_join_and_leave(soketi: Soketi, make_client) -> None:
    channel = "presence-engine-room"
    ada = make_client(soketi, authorizer=local_authorizer(user={"id": "u1", "user_info": {"name": "Ada"}}))
    bob = make_client(soketi, authorizer=local_authorizer(user={"id": "u2", "user_info": {"name": "Bob"}}))
    ada_events = connect(ada)
    ada_room = subscribe(ada, ada_events, channel)
    assert ada_room.me == "u1"
    assert ada_room.members == {"u1": {"name": "Ada"}}

    bob_events = connect(bob)
    bob_room = subscribe(bob, bob_events, channel)

    # Bob sees both, himself included, in the roster and in the subscription_succeeded data.
    assert bob_room.me == "u2"
    assert bob_room.members == {"u1": {"name": "Ada"}, "u2": {"name": "Bob"}}
    snapshot = bob_events.named("pusher:subscription_succeeded", channel)[0].data
    assert snapshot["count"] == 2
    assert snapshot["me"] == {"id": "u2", "info": {"name": "Bob"}}
    assert sorted(m["id"] for m in snapshot["members"]) == ["u1", "u2"]
    # Ada is told that Bob joined.
    added = ada_events.wait_for("pusher:member_added", channel)
    assert [e.data for e in added] == [{"id": "u2", "info": {"name": "Bob"}}]
    assert ada_room.members == {"u1": {"name": "Ada"}, "u2": {"name": "Bob"}}

    bob.close()

    removed = ada_events.wait_for("pusher:member_removed", channel)
    assert [e.data for e in removed] == [{"id": "u2", "info": {"name": "Bob"}}]
    assert ada_room.members == {"u1": {"name": "Ada"}}
    assert not bob_events.named("pusher:member_added", channel)


def test_encrypted_channel_decrypts_and_drops_what_it_cannot_open(soketi: Soketi, make_client, caplog) -> None:
    channel = "private-encrypted-engine-vault"
    client = make_client(soketi, authorizer=local_authorizer(master_key=MASTER_KEY))
    recorder = connect(client)
    subscribe(client, recorder, channel)

    with sdk_session(soketi, master_key=MASTER_KEY) as good, sdk_session(soketi, master_key=OTHER_MASTER_KEY) as bad:
        good.trigger(channel, "secret", {"card": "4242", "owner": "Ada"})
        first = recorder.wait_for("secret", channel)[0]
        assert first.data == {"card": "4242", "owner": "Ada"}

        good.trigger(channel, "whisper", "plain words, encrypted")
        assert recorder.wait_for("whisper", channel)[0].data == "plain words, encrypted"

        bad.trigger(channel, "forged", {"card": "0000"})  # encrypted with a key the client cannot derive
        good.trigger(channel, "after", {"still": "here"})

        # The good event sent after the forged one arrives, so the forged one has been dealt with: dropped.
        assert recorder.wait_for("after", channel)[0].data == {"still": "here"}
        assert not recorder.named("forged")
        # ... and it really reached the client, which could not open it even with a fresh key.
        assert any(r.getMessage().startswith("dropped 1 event(s) on " + channel) for r in caplog.records)
        assert client.state is State.CONNECTED

        good.trigger(channel, "later", {"n": 3})
        assert recorder.wait_for("later", channel)[0].data == {"n": 3}
    assert not recorder.named("pusher:subscription_error")
    assert [e.event for e in recorder.events if e.channel == channel] == [
        "pusher:subscription_succeeded", "secret", "whisper", "after", "later"]
