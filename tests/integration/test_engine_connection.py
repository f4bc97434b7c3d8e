"""The connection's life: recovering from a server crash, giving up on a fatal error, and a burst of events."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from typing import Any

import pytest
from support.engine import local_authorizer, sdk_session
from support.engine_flow import connect, subscribe
from support.recording import StateRecorder
from support.soketi import Soketi
from support.waiting import wait_until

from desktop.pusher.auth import LocalAuthorizer
from desktop.pusher.core import ChannelEvent, Options, State

pytestmark = pytest.mark.integration

FAST_RETRY = Options(backoff_base=0.2, backoff_cap=1.0)


class RecordingAuthorizer:
    """The local signer, remembering each (socket id, channel) it signed for."""

    blocking = False

    def __init__(self, inner: LocalAuthorizer) -> None:
        self._inner = inner
        self._lock = threading.Lock()
        self.signed: list[tuple[str, str]] = []

    def authorize_channel(self, socket_id: str, channel_name: str) -> dict[str, Any]:
        with self._lock:
            self.signed.append((socket_id, channel_name))
        return self._inner.authorize_channel(socket_id, channel_name)

    def authenticate_user(self, socket_id: str) -> dict[str, Any]:
        return self._inner.authenticate_user(socket_id)


def test_reconnects_and_resubscribes_after_a_server_crash(fresh_soketi: Soketi, make_client) -> None:
    channel = "private-engine-survivor"
    authorizer = RecordingAuthorizer(local_authorizer())
    client = make_client(fresh_soketi, authorizer=authorizer, options=FAST_RETRY)
    states = StateRecorder()
    client.on_state_change(states)
    recorder = connect(client)
    subscribe(client, recorder, channel)
    first_socket = client.socket_id
    assert authorizer.signed == [(first_socket, channel)]
    fresh_soketi.trigger(channel, "before", {"n": 1})
    recorder.wait_for("before", channel)
    seen = len(states.changes)

    fresh_soketi.kill()

    lost = states.wait_for(State.CONNECTING, after=seen)
    assert lost.previous is State.CONNECTED
    assert lost.retry_in is not None
    fresh_soketi.start()
    states.wait_for(State.CONNECTED, after=seen, timeout=30)
    recorder.wait_for("pusher:subscription_succeeded", channel, count=2, timeout=30)
    second_socket = client.socket_id
    assert second_socket is not None
    assert second_socket != first_socket
    # Fresh authorization for the new socket: the old signature would be worthless.
    assert authorizer.signed == [(first_socket, channel), (second_socket, channel)]

    fresh_soketi.trigger(channel, "after", {"n": 2})
    assert recorder.wait_for("after", channel)[0].data == {"n": 2}
    assert client.state is State.CONNECTED
    assert State.FAILED not in states.states


def test_unknown_app_key_fails_for_good(soketi: Soketi, make_client) -> None:
    client = make_client(soketi, key="no-such-app-key")
    states = StateRecorder()
    client.on_state_change(states)

    client.connect()

    failed = states.wait_for(State.FAILED)
    assert "4001" in failed.reason
    assert "4001" in client.last_error
    changes_when_failed = len(states.changes)
    # Proving a negative needs a bounded wait. Had the engine treated the close as retryable, its default
    # backoff would have started the next attempt within 1 s (first retry: at most 0.25 s, or at once for 42xx),
    # so a state change inside this 1.5 s window would show it; none may happen.
    time.sleep(1.5)
    assert states.changes[changes_when_failed:] == []
    assert client.state is State.FAILED
    assert states.states.count(State.CONNECTING) == 1


def test_a_burst_of_5000_events_arrives_complete_and_in_order(soketi: Soketi, make_client) -> None:
    channel = "private-engine-burst-feed"
    publishers, batches_each, per_batch = 5, 100, 10
    total = publishers * batches_each * per_batch
    client = make_client(soketi)
    recorder = connect(client)
    subscribe(client, recorder, channel)
    received: list[ChannelEvent] = []
    lock = threading.Lock()

    def on_batch(events: list[ChannelEvent]) -> None:
        mine = [e for e in events if e.event == "tick"]
        with lock:
            received.extend(mine)

    client.on_batch(on_batch)
    errors: list[BaseException] = []

    def publish(thread_no: int) -> None:
        try:
            with sdk_session(soketi) as sdk:
                for batch_no in range(batches_each):
                    first = batch_no * per_batch
                    sdk.trigger_batch([{"channel": channel, "name": "tick", "data": {"t": thread_no, "n": n}}
                                       for n in range(first, first + per_batch)])
        except BaseException as exc:  # reported by the test thread below
            errors.append(exc)

    threads = [threading.Thread(target=publish, args=(t,), name=f"publisher-{t}") for t in range(publishers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors

    def count() -> int:
        with lock:
            return len(received)

    wait_until(lambda: count() >= total, timeout=60, message=lambda: f"{count()} of {total} events")
    by_thread: dict[int, list[int]] = defaultdict(list)
    for event in received:
        by_thread[event.data["t"]].append(event.data["n"])
    assert sorted(by_thread) == list(range(publishers))
    for thread_no, numbers in by_thread.items():
        assert numbers == list(range(batches_each * per_batch)), f"publisher {thread_no} out of order or lost"
    assert len(received) == total
    assert client.state is State.CONNECTED
    assert not recorder.named("pusher:error")


def test_close_from_inside_a_callback_does_not_deadlock_or_self_join(soketi):
    """pysher's classic bug: disconnecting from a handler joined the socket thread from itself."""
    import threading

    from desktop.pusher.client import PusherClient

    client = PusherClient("app-key", host="127.0.0.1", port=soketi.port, use_tls=False)
    closed = threading.Event()
    errors = []

    def on_subscribed(event):
        try:
            client.close()
        except Exception as exc:
            errors.append(exc)
        closed.set()

    client.subscribe("close-from-callback").bind("pusher:subscription_succeeded", on_subscribed)
    client.connect()
    assert closed.wait(10)
    assert errors == []
    client._loop.thread.join(5)
    assert not client._loop.thread.is_alive()
