"""Common steps of engine integration tests: connect, subscribe and wait for the server's answer."""

from __future__ import annotations

from desktop.pusher.bindings import ChannelHandle
from desktop.pusher.client import PusherClient
from desktop.pusher.core import State
from support.recording import EventRecorder
from support.waiting import wait_until


def connect(client: PusherClient, recorder: EventRecorder | None = None) -> EventRecorder:
    """Record every event of ``client`` (globally), connect and wait for CONNECTED."""
    recorder = recorder or EventRecorder()
    client.bind_global(recorder)
    client.connect()
    assert client.wait_for_state(State.CONNECTED, timeout=10) is State.CONNECTED, client.last_error
    return recorder


def subscribe(client: PusherClient, recorder: EventRecorder, channel: str) -> ChannelHandle:
    """Subscribe and wait for ``pusher:subscription_succeeded`` (fails fast on a subscription error)."""
    handle = client.subscribe(channel)
    wait_until(lambda: recorder.named("pusher:subscription_succeeded", channel)
               or recorder.named("pusher:subscription_error", channel),
               message=f"no answer to the subscription to {channel}")
    errors = recorder.named("pusher:subscription_error", channel)
    assert not errors, f"subscription to {channel} failed: {errors[0].data}"
    assert handle.subscribed
    return handle
