"""The Qt bridge delivers the engine's batches on the GUI thread, through the event loop (unrouted: all "other")."""

import threading

import pytest

from desktop.pusher.client import PusherClient
from desktop.pusher.core import State
from desktop.pusher.qtbridge import PusherBridge

pytestmark = pytest.mark.integration


def test_events_reach_the_gui_thread_in_batches(qtbot, soketi):
    client = PusherClient("app-key", host="127.0.0.1", port=soketi.port, use_tls=False)
    bridge = PusherBridge(client)
    received, threads, states = [], set(), []

    def on_events(events):
        threads.add(threading.current_thread())
        received.extend(e for e in events if e.event == "user-loggedIn")

    bridge.other_events.connect(on_events)  # no routes given: every event is "other"
    bridge.state_changed.connect(lambda change: states.append(change.current))
    try:
        client.subscribe("qt-bridge-feed")
        with qtbot.waitSignal(bridge.other_events, timeout=10_000,
                              check_params_cb=lambda evs: any(e.event == "pusher:subscription_succeeded"
                                                              for e in evs)):
            client.connect()
        soketi.trigger_batch([{"channel": "qt-bridge-feed", "name": "user-loggedIn", "data": {"n": i}}
                              for i in range(10)])
        qtbot.waitUntil(lambda: len(received) == 10, timeout=10_000)
        assert [e.data["n"] for e in received] == list(range(10))
        assert threads == {threading.main_thread()}
        assert State.CONNECTED in states
    finally:
        client.close()
