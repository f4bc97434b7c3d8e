"""``login-feed tail``: the live feed on stdout, one line per event, for scripts and terminals.

The engine hands over batches (on the socket's reader thread, see :mod:`desktop.pusher.engine_loop`); they are
encoded right there (:func:`render`) and queued as bytes, and this (main) thread only writes them, so a slow
reader of our stdout slows only the writing, never the socket: nothing received is lost. Encoding where the
batch arrives leaves the main thread next to no Python to run, so the two threads hardly contend for the GIL
(``bench/burst.py``: lower CPU per event and p99 than normalising on the main thread). Each batch (with any
batches queued behind it) goes out in one ``write`` and is flushed at once: one system call per batch instead
of one per event (``sys.stdout`` is unbuffered under ``PYTHONUNBUFFERED=1``), and never an event held back.
"""

from __future__ import annotations

import contextlib
import queue
import sys
from collections.abc import Callable
from typing import TextIO

from desktop.feed.alert_line import alert_line, is_alert
from desktop.feed.events import FEED_EVENT_NAMES, normalise, to_json_dict, to_text_line
from desktop.feed.serialise import json_line, jsonl_line
from desktop.log import status
from desktop.pusher.client import PusherClient
from desktop.pusher.core import ChannelEvent, State, StateChanged
from desktop.signing.names import ChannelKind, channel_kind
from desktop.tail_catchup import TailCatchUp
from desktop.util.signals import install_stop_handler


class _Stop(Exception):
    def __init__(self, code: int, message: str = "") -> None:
        self.code = code
        self.message = message


Rendered = list[bytes | ChannelEvent]
"""A batch ready to write: its lines, encoded and joined per run, and the channel's ``pusher:`` events between."""


def render(events: list[ChannelEvent], encode: Callable[[ChannelEvent], bytes]) -> Rendered:
    """``events`` encoded on the calling thread, in order; ``pusher:`` events (subscribed, refused) kept as they
    are, for the writer to report."""
    rendered: Rendered = []
    lines: list[bytes] = []
    for event in events:
        if event.event.startswith("pusher:"):
            if lines:
                rendered.append(b"".join(lines))
                lines = []
            rendered.append(event)
        else:
            lines.append(encode(event))
    if lines:
        rendered.append(b"".join(lines))
    return rendered


def run_tail(client: PusherClient, channel: str, fmt: str, out: TextIO | None = None, *,
             catch_up: TailCatchUp | None = None, alerts_only: bool = False) -> int:
    """Subscribe to ``channel`` and print its events until a signal or a fatal error; return the exit code.
    ``catch_up`` (remote mode) prints what the server's tenant log holds that a disconnection made us miss;
    ``alerts_only`` prints only the server's alerts (kind ``alert``), each new one and each update."""
    out = out or sys.stdout
    inbox: queue.SimpleQueue[Rendered | _Stop] = queue.SimpleQueue()
    kind = channel_kind(channel)
    if kind is ChannelKind.PUBLIC:
        status(f"warning: {channel} is a public channel: anyone who has the app key can read it")
    encoding = (getattr(out, "encoding", None) if hasattr(out, "buffer") else None) or "utf-8"
    encode = _json_encoder(alerts_only) if fmt == "jsonl" else _text_encoder(encoding, alerts_only)

    def deliver(events: list[ChannelEvent]) -> None:  # the engine's thread, or the catch-up's
        inbox.put(render(events, encode))

    def on_batch(events: list[ChannelEvent]) -> None:
        mine = [e for e in events if e.channel == channel]
        if catch_up is not None:  # an event v2 already printed is left out; a subscription starts a catch-up
            mine = catch_up.filter(mine, deliver)
        if mine:
            deliver(mine)

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
    restore = install_stop_handler(lambda _name: inbox.put(_Stop(0)))  # SIGINT/SIGTERM: a clean exit 0
    client.connect()
    try:
        return _pump(inbox, channel, kind, out)
    except BrokenPipeError:  # `login-feed tail | head`: the reader left; that is not an error
        _silence_stdout()
        return 0
    finally:
        restore()
        client.close()
        del handle


#: At most this many queued batches go into one write (bounds the memory of a catch-up write).
MAX_BATCHES_PER_WRITE = 64


def _pump(inbox: queue.SimpleQueue[Rendered | _Stop], channel: str, kind: ChannelKind, out: TextIO) -> int:
    emit = _emitter(out)
    while True:
        items = [inbox.get()]
        # Batches queued while we wrote the last ones go out together: a reader that fell behind catches up
        # in large writes. Never waits for more: what has arrived is written now.
        with contextlib.suppress(queue.Empty):
            while len(items) < MAX_BATCHES_PER_WRITE:
                items.append(inbox.get_nowait())
        lines: list[bytes] = []
        try:
            for item in items:
                if isinstance(item, _Stop):
                    if item.message:
                        status(item.message)
                    return item.code
                for event in item:
                    if type(event) is bytes:
                        lines.append(event)
                        continue
                    name = event.event
                    if name == "pusher:subscription_succeeded":
                        encrypted = " (end-to-end encrypted)" if kind is ChannelKind.ENCRYPTED else ""
                        status(f"subscribed to {channel}{encrypted}")
                    elif name == "pusher:subscription_error":
                        data = event.data if isinstance(event.data, dict) else {}
                        # The engine's sentence says who refused and why (an HTTP status, a Pusher code ...).
                        status(f"login-feed: cannot subscribe to {channel}: {data.get('reason') or data.get('error')}")
                        return 1
        finally:  # what was read before a stop or a refusal is still written
            if lines:
                emit(b"".join(lines))


def _emitter(out: TextIO) -> Callable[[bytes], None]:
    """``emit(chunk)``: one write of ``chunk`` to ``out``'s bytes, flushed; partial writes are completed."""
    buffer = getattr(out, "buffer", None)
    if buffer is None:
        def emit_text(chunk: bytes) -> None:
            out.write(chunk.decode("utf-8"))
            out.flush()
        return emit_text
    out.flush()  # anything written as text before goes first

    def emit(chunk: bytes) -> None:
        view = memoryview(chunk)
        while view:
            written = buffer.write(view)  # a raw (unbuffered) stream may take part of it
            view = view[written or 0:]
        buffer.flush()
    return emit


def _json_encoder(alerts_only: bool = False) -> Callable[[ChannelEvent], bytes]:
    """One JSON object per line, the shape ``login-feed export`` prints (one encoder serves both); an alert's
    own fields (rule, severity, ips, log_ids ...) are in its ``data``. Nothing for what ``alerts_only`` skips."""
    def encode(event: ChannelEvent) -> bytes:
        ev = normalise(event.event, event.channel or "", event.data, event.received_at)
        if alerts_only and not is_alert(ev):
            return b""
        if event.user_id is None and ev.event == event.event:  # nearly always: the event's fields as they are
            return jsonl_line(ev)
        line = to_json_dict(ev)
        line["event"] = event.event
        if event.user_id is not None:
            line["user_id_sender"] = event.user_id
        return json_line(line, event.data)
    return encode


def _text_encoder(encoding: str = "utf-8", alerts_only: bool = False) -> Callable[[ChannelEvent], bytes]:
    """One human line per event, in the terminal's encoding (what it cannot show becomes ``?``); an alert's
    line is :func:`~desktop.feed.alert_line.alert_line`. Nothing for what ``alerts_only`` skips."""
    def encode(event: ChannelEvent) -> bytes:
        ev = normalise(event.event, event.channel or "", event.data, event.received_at)
        if is_alert(ev):
            line = alert_line(ev)
        elif alerts_only:
            return b""
        else:
            line = to_text_line(ev)
        return (line + "\n").encode(encoding, "replace")
    return encode


def _silence_stdout() -> None:
    import os  # noqa: PLC0415 - only on this rare path

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


__all__ = ["FEED_EVENT_NAMES", "run_tail"]
