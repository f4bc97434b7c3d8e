"""Who runs the core, and when: one lock, the engine thread, and sockets' reader threads inline.

:class:`PusherCore` runs under one lock, one thread at a time. The engine thread drains a queue that worker
threads (HTTP authorization) and callers post to, and runs timers. A socket's reader thread runs the core on
the frames it has just read, inline, when the lock is free and nothing it handed over earlier still waits in
the queue (so nothing overtakes); otherwise it queues them for the engine thread. Inline saves a hand-off
between threads per read: ``tail`` spends ~10% less CPU per event in ``bench/burst.py``. A batch callback
that may wait (the window's back-pressure) turns inline off, so a reader never waits on it: it keeps
draining the socket into the queue.

After each turn the owner's ``after_turn`` carries out the core's effects and hands delivered events to the
callbacks, on whichever thread ran the turn: callbacks run on the engine thread or a reader thread, never
two at once.
"""

from __future__ import annotations

import logging
import math
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from desktop.pusher.core import PusherCore
from desktop.pusher.transport import Transport

log = logging.getLogger("desktop.pusher")

Message = tuple[Any, ...]


class EngineLoop:
    """The engine thread and the inline path of reader threads, over one :class:`PusherCore`.

    Messages: ``("call", fn)`` runs ``fn(now)``; ``("auth", ...)``/``("user-auth", ...)`` are authorization
    answers; a reader's ``("open" | "frames" | "closed", generation, ...)`` (see :mod:`.transport`).
    """

    def __init__(self, core: PusherCore, after_turn: Callable[[], None],
                 on_death: Callable[[Exception], None]) -> None:
        self.core = core
        self._after_turn = after_turn
        self._on_death = on_death
        self.queue: queue.SimpleQueue[Message] = queue.SimpleQueue()
        #: the open sockets by generation (the core's effects open and close them)
        self.transports: dict[int, Transport] = {}
        self.thread = threading.Thread(target=self._run, name="login-feed-engine", daemon=True)
        self.stopped = threading.Event()
        #: Reader threads run the core inline unless a batch callback may wait (``PusherClient.on_batch``).
        self.inline = True
        self._lock = threading.RLock()
        self._owner: int | None = None  # the thread running a turn, so ``stop`` never waits for itself
        self._engine_wakes_at = -math.inf  # the sleeping engine thread's next timer (-inf while it is awake)
        self._started = False

    def call(self, fn: Callable[[float], None]) -> None:
        """Run ``fn(now)`` on the engine thread (started on first use)."""
        if not self._started:
            self._started = True
            self.thread.start()
        self.queue.put(("call", fn))

    def stop(self, timeout: float) -> None:
        """Disconnect and end the engine thread; waits for it unless called from a callback."""
        if self._started and not self.stopped.is_set():
            self.queue.put(("stop",))
            if threading.get_ident() not in (self.thread.ident, self._owner):
                self.thread.join(timeout)

    def from_reader(self, transport: Transport, message: Message) -> None:
        """A reader thread's message: handled here and now when inline is on, the core is free and none of
        this reader's queued messages waits; else queued for the engine thread, in order."""
        lock = self._lock
        if self.inline and transport.queued == transport.handled and lock.acquire(blocking=False):
            try:
                if transport.queued == transport.handled and not self.stopped.is_set():
                    self._run_inline(message)
                    return
            finally:
                lock.release()
        transport.queued += 1
        self.queue.put(("reader", transport, message))

    def _run_inline(self, message: Message) -> None:
        """On a reader thread, holding the lock: what the engine thread would do with ``message``."""
        core = self.core
        self._owner = threading.get_ident()
        try:
            now = time.monotonic()
            core.wall_offset = time.time() - now
            self._handle(message, now)
            self._after_turn()
            deadline = core.next_deadline()
            if deadline is not None and deadline < self._engine_wakes_at:  # an earlier timer: wake the engine
                self.queue.put(("wake",))
        except Exception as exc:  # the engine's bug, found on this thread: the engine thread stops on it
            self.inline = False
            self.queue.put(("raise", exc))
        finally:
            self._owner = None

    def _run(self) -> None:
        core = self.core
        get, get_nowait = self.queue.get, self.queue.get_nowait
        lock = self._lock
        stopping = False
        try:
            while not stopping:
                with lock:
                    deadline = core.next_deadline()
                    self._engine_wakes_at = math.inf if deadline is None else deadline
                timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
                items: list[Message] = []
                try:
                    items.append(get(timeout=timeout) if timeout != 0.0 else get_nowait())
                    while True:
                        items.append(get_nowait())
                except queue.Empty:
                    pass
                with lock:
                    self._engine_wakes_at = -math.inf
                    self._owner = threading.get_ident()
                    now = time.monotonic()
                    core.wall_offset = time.time() - now
                    for item in items:
                        if item[0] == "stop":
                            stopping = True
                            core.disconnect(now)
                        elif item[0] == "reader":  # ("reader", transport, message), queued by a reader thread
                            self._handle(item[2], now)
                            item[1].handled += 1
                        else:
                            self._handle(item, now)
                    core.tick(now)
                    self._after_turn()
                    self._owner = None
        except Exception as exc:  # a bug in the engine: say so to everyone listening, instead of going silent
            log.exception("the Pusher engine stopped on an unexpected error")
            self._on_death(exc)
        finally:
            with lock:
                self._owner = None
                self.stopped.set()
                transports = list(self.transports.values())
            for transport in transports:
                transport.shutdown()

    def _handle(self, item: Message, now: float) -> None:
        kind = item[0]
        core = self.core
        if kind == "frames":
            core.frames_received(item[1], item[2], item[3])
        elif kind == "call":
            try:
                item[1](now)
            except Exception:  # a caller's mistake must not stop the engine for everyone
                log.exception("an engine call failed; the engine goes on")
        elif kind == "auth":
            core.authorized(item[1], item[2], item[3], now)
        elif kind == "user-auth":
            core.user_authorized(item[1], item[2], now)
        elif kind == "open":
            core.socket_opened(item[1], now)
        elif kind == "closed":
            self.transports.pop(item[1], None)
            core.socket_closed(item[1], item[2], item[3], now)
        elif kind == "raise":  # see _run_inline
            raise item[1]
