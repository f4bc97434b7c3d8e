"""Thread-safe records of what the Pusher engine hands to callbacks, with deadline-bound waits."""

from __future__ import annotations

import threading

from desktop.pusher.core import ChannelEvent, State, StateChanged
from support.waiting import DEFAULT_TIMEOUT, wait_until


class EventRecorder:
    """A binding callback (``client.bind_global(recorder)``) that keeps every event it is given."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: list[ChannelEvent] = []

    def __call__(self, event: ChannelEvent) -> None:
        with self._lock:
            self._events.append(event)

    @property
    def events(self) -> list[ChannelEvent]:
        with self._lock:
            return list(self._events)

    def named(self, event: str, channel: object = ...) -> list[ChannelEvent]:
        """Events called ``event`` (on ``channel`` when given; ``None`` means connection-level)."""
        return [e for e in self.events if e.event == event and (channel is ... or e.channel == channel)]

    def wait_for(self, event: str, channel: object = ..., *, count: int = 1,
                 timeout: float = DEFAULT_TIMEOUT) -> list[ChannelEvent]:
        """Wait until at least ``count`` events called ``event`` arrived; return all of them."""
        wait_until(lambda: len(self.named(event, channel)) >= count, timeout,
                   message=lambda: f"{count} x {event!r} on {channel!r}; got {self._summary()}")
        return self.named(event, channel)

    def _summary(self) -> str:
        return ", ".join(f"{e.channel}:{e.event}" for e in self.events[-20:]) or "nothing"


class StateRecorder:
    """``client.on_state_change(recorder)``: every state change, in order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._changes: list[StateChanged] = []

    def __call__(self, change: StateChanged) -> None:
        with self._lock:
            self._changes.append(change)

    @property
    def changes(self) -> list[StateChanged]:
        with self._lock:
            return list(self._changes)

    @property
    def states(self) -> list[State]:
        return [c.current for c in self.changes]

    def wait_for(self, state: State, *, after: int = 0, timeout: float = DEFAULT_TIMEOUT) -> StateChanged:
        """Wait for a change into ``state`` among the changes from index ``after`` on; return it."""
        def found() -> StateChanged | None:
            return next((c for c in self.changes[after:] if c.current is state), None)

        wait_until(lambda: found() is not None, timeout,
                   message=lambda: f"state {state} (after #{after}); got {self.states}")
        change = found()
        assert change is not None
        return change
