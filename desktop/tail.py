"""``login-feed tail``: the live feed on stdout, one line per event, for scripts and terminals.

The engine thread hands over batches; this (main) thread normalises and writes them, so a slow reader of
our stdout slows only the writing, never the socket: nothing received is lost.
"""

from __future__ import annotations

import queue
import signal
import sys
from collections.abc import Callable
from types import FrameType
from typing import TextIO

from desktop.feed.events import FEED_EVENT_NAMES, normalise, to_json_dict, to_text_line
from desktop.history.export import json_line
from desktop.log import status
from desktop.pusher.client import PusherClient
from desktop.pusher.core import ChannelEvent, State, StateChanged
from desktop.signing.names import ChannelKind, channel_kind


class _Stop(Exception):
    def __init__(self, code: int, message: str = "") -> None:
        self.code = code
        self.message = message


def run_tail(client: PusherClient, channel: str, fmt: str, out: TextIO | None = None) -> int:
    """Subscribe to ``channel`` and print its events until a signal or a fatal error; return the exit code."""
    out = out or sys.stdout
    inbox: queue.SimpleQueue[list[ChannelEvent] | _Stop] = queue.SimpleQueue()
    kind = channel_kind(channel)
    if kind is ChannelKind.PUBLIC:
        status(f"warning: {channel} is a public channel: anyone who has the app key can read it")

    def on_batch(events: list[ChannelEvent]) -> None:
        mine = [e for e in events if e.channel == channel]
        if mine:
            inbox.put(mine)

    outage: list[bool] = []  # an outage was reported: say when it ends

    def on_state(change: StateChanged) -> None:
        # The engine retries about once a second while the server is away; one line per outage, not per try.
        if change.current is State.FAILED:
            inbox.put(_Stop(1, f"login-feed: cannot connect: {change.reason}"))
        elif change.previous is change.current:
            return
        elif change.current is State.CONNECTING and change.retry_in is not None:
            outage.append(True)
            status(f"connection lost ({change.reason}); reconnecting")
        elif change.current is State.UNAVAILABLE:
            outage.append(True)
            status(f"Pusher is unavailable ({change.reason}); still trying")
        elif change.current is State.CONNECTED and outage:
            outage.clear()
            status("reconnected")

    client.on_batch(on_batch)
    client.on_state_change(on_state)
    handle = client.subscribe(channel)
    write = _json_writer(out) if fmt == "jsonl" else _text_writer(out)
    restore = _install_signal_handlers(inbox)
    client.connect()
    try:
        return _pump(inbox, channel, kind, write, out)
    except BrokenPipeError:  # `login-feed tail | head`: the reader left; that is not an error
        _silence_stdout()
        return 0
    finally:
        restore()
        client.close()
        del handle


def _pump(inbox: queue.SimpleQueue[list[ChannelEvent] | _Stop], channel: str, kind: ChannelKind,
          write: Callable[[ChannelEvent], None], out: TextIO) -> int:
    while True:
        item = inbox.get()
        if isinstance(item, _Stop):
            if item.message:
                status(item.message)
            return item.code
        for event in item:
            name = event.event
            if name == "pusher:subscription_succeeded":
                encrypted = " (end-to-end encrypted)" if kind is ChannelKind.ENCRYPTED else ""
                status(f"subscribed to {channel}{encrypted}")
            elif name == "pusher:subscription_error":
                data = event.data if isinstance(event.data, dict) else {}
                # The engine's sentence says who refused and why (an HTTP status, a Pusher code ...).
                status(f"login-feed: cannot subscribe to {channel}: {data.get('reason') or data.get('error')}")
                return 1
            elif not name.startswith("pusher:"):
                write(event)
        out.flush()
        if hasattr(out, "buffer"):
            out.buffer.flush()


def _json_writer(out: TextIO) -> Callable[[ChannelEvent], None]:
    """One JSON object per line, the shape ``login-feed export`` prints (one encoder serves both)."""
    buffer = getattr(out, "buffer", None)
    emit: Callable[[bytes], object] = buffer.write if buffer is not None else (
        lambda data: out.write(data.decode("utf-8")))

    def write(event: ChannelEvent) -> None:
        line = to_json_dict(normalise(event.event, event.channel or "", event.data, event.received_at))
        line["event"] = event.event
        if event.user_id is not None:
            line["user_id_sender"] = event.user_id
        emit(json_line(line, event.data))
    return write


def _text_writer(out: TextIO) -> Callable[[ChannelEvent], None]:
    def write(event: ChannelEvent) -> None:
        out.write(to_text_line(normalise(event.event, event.channel or "", event.data, event.received_at)) + "\n")
    return write


def _install_signal_handlers(inbox: queue.SimpleQueue[list[ChannelEvent] | _Stop]) -> Callable[[], None]:
    """SIGINT and SIGTERM end the tail cleanly with exit code 0."""
    def stop(signum: int, frame: FrameType | None) -> None:
        inbox.put(_Stop(0))

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}

    def restore() -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return restore


def _silence_stdout() -> None:
    import os  # noqa: PLC0415 - only on this rare path

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


__all__ = ["FEED_EVENT_NAMES", "run_tail"]
