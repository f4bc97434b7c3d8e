"""Pysher 1.0.8 subscriber for bench/burst.py.

    .venv/bin/python bench/pysher_subscriber.py PORT [CHANNEL] [EVENT]

Connects with Pysher (``custom_host='127.0.0.1'``, ``port=PORT``, ``secure=False``, ``secret=`` so that private
channels are signed locally), subscribes to CHANNEL (default ``private-login-feed``) once
``pusher:connection_established`` has given it a socket id, prints ``SUBSCRIBED`` on stderr when
``pusher_internal:subscription_succeeded`` arrives on the channel, and prints one line per EVENT (default
``user-loggedIn``) on stdout: the data string Pysher hands to the callback, as is (Pysher does not decode it).

Output choice: each line is written to the (buffered) ``sys.stdout`` and flushed at once, i.e. one ``write(2)`` per
event. That keeps Pysher's latency honest (a timed flush would add up to its period to every event); the cost
is a few microseconds per event, small next to Pysher's own per-event cost. pusher-js batches per event-loop turn.

Compatibility: Pysher 1.0.8's websocket callbacks take ``*args``, so it works with websocket-client 1.9 as
shipped; no monkeypatch is needed (checked: ``_on_open(self, *args)``, ``_on_message(self, *args)``).
Pysher's logger is set to WARNING: at its default (INFO) it builds a log record for every frame, which no
production user would leave on; its eager ``"..." % message`` formatting still runs, as that is in Pysher's code.

SIGTERM / SIGINT: flush, disconnect, exit 0.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading

import pysher

APP_KEY = "app-key"
APP_SECRET = "app-secret"


def main() -> int:
    if len(sys.argv) < 2:
        print("usage: pysher_subscriber.py PORT [CHANNEL] [EVENT]", file=sys.stderr)
        return 2
    port = int(sys.argv[1])
    channel_name = sys.argv[2] if len(sys.argv) > 2 else "private-login-feed"
    event_name = sys.argv[3] if len(sys.argv) > 3 else "user-loggedIn"

    stop = threading.Event()
    out = sys.stdout
    write = out.write
    flush = out.flush

    client = pysher.Pusher(
        APP_KEY,
        secret=APP_SECRET,
        custom_host="127.0.0.1",
        port=port,
        secure=False,
        log_level=logging.WARNING,
    )

    def on_event(data: str) -> None:
        write(data)
        write("\n")
        flush()

    def on_subscribed(_data: object) -> None:
        print("SUBSCRIBED", file=sys.stderr, flush=True)

    def on_connected(_data: object) -> None:
        print("connected", file=sys.stderr, flush=True)
        channel = client.subscribe(channel_name)
        channel.bind("pusher_internal:subscription_succeeded", on_subscribed)
        channel.bind(event_name, on_event)

    client.connection.bind("pusher:connection_established", on_connected)

    def on_signal(_signum: int, _frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    client.connect()
    while not stop.wait(0.2):
        if not client.connection.is_alive():
            print("pysher connection thread ended", file=sys.stderr, flush=True)
            return 1
    try:
        flush()
    finally:
        client.disconnect(timeout=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
