"""The window's live connection: restore the sign-in, build the engine off the GUI thread, attach it, watch it,
tear it down.

One connection at a time, by generation: ``begin()`` stops the current one and starts a new generation,
and whatever an older generation produces later (a client that finished building, a failure, a state
change, a library event) is dropped; a client built for an old generation is closed unused. Without this,
saving Settings while a connection was still being built attached two live clients, and every event was
listed and stored twice (issue 9, point 14).

It also turns what the engine reports into what the window shows: the engine thread dying (the client's
``engine_error``), a build that failed, the feed channel refused or subscribed again, and a stored sign-in
that could not be restored (offline: kept, and tried again by itself; refused: a new sign-in is needed).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from desktop.auth.session import RefreshError
from desktop.auth.signin import SignInManager
from desktop.feed.catchup import SeenLogIds
from desktop.feed.events import FeedEvent
from desktop.feed.pipe import FeedPipe
from desktop.pusher.client import PusherClient
from desktop.pusher.errors import describe_subscription_error
from desktop.pusher.qtbridge import PusherBridge, Routes
from desktop.pusher.types import ChannelEvent, State, StateChanged
from desktop.util.tasks import run_task

log = logging.getLogger("desktop.app")

Persist = Callable[[Sequence[FeedEvent]], None]


class Live(QObject):
    """One attached connection: the client, its Qt bridge (the routing adapter) and its feed pipe, and the
    generation it is for.

    A QObject living on the GUI thread, so the engine's queued signals reach the controller through it and
    carry their generation; deleting it (with the bridge and pipe, its children) discards what is queued.
    """

    def __init__(self, owner: Connection, generation: int, client: PusherClient, feed_channel: str,
                 persist: Persist | None, *, dedupe: SeenLogIds | None = None) -> None:
        super().__init__(owner)
        self.generation = generation
        self.client = client
        self.feed_channel = feed_channel
        self.pipe = FeedPipe(feed_channel, persist=persist, parent=self, dedupe=dedupe)
        # The one adapter: the feed channel's events to the pipe, its refusals here, the chat's added by attach_chat.
        self.bridge = PusherBridge(client, parent=self, routes=Routes(feed=feed_channel), feed=self.pipe.on_batch)
        self._owner = owner
        self.bridge.state_changed.connect(self._on_state)
        self.bridge.feed_status.connect(self._on_feed_status)

    @Slot(object)
    def _on_state(self, change: StateChanged) -> None:
        self._owner._state(self, change)

    @Slot(list)
    def _on_feed_status(self, events: list[ChannelEvent]) -> None:
        self._owner._feed_status(self, events)


class Connection(QObject):
    """Owns the current :class:`Live` connection and the generation counter."""

    #: Live: a new connection, before it connects: wire the feed and the chat to it now
    attached = Signal(object)
    #: StateChanged of the current client
    state_changed = Signal(object)
    #: why no connection runs ("Engine stopped: …", "Cannot connect: …")
    stopped = Signal(str)
    #: why the feed channel was refused; "" once it is subscribed again
    feed_problem = Signal(str)
    #: ``restore`` found no usable sign-in: the window asks for one (the reason went to ``stopped``)
    sign_in_needed = Signal()
    #: ``restore`` restored the sign-in: the window connects
    signed_in = Signal()
    #: Live: its feed channel is subscribed (first, and again after every reconnect): time to catch up
    feed_subscribed = Signal(object)

    def __init__(self, persist: Persist | None = None, parent: QObject | None = None, *,
                 dedupe: SeenLogIds | None = None) -> None:
        super().__init__(parent)
        self._persist = persist
        self._dedupe = dedupe
        self.generation = 0
        self.live: Live | None = None
        #: While the sign-in service cannot be reached, the stored sign-in is tried again this often (ms).
        self.restore_retry_ms = 30_000

    @property
    def client(self) -> PusherClient | None:
        return None if self.live is None else self.live.client

    def begin(self) -> int:
        """Stop the current connection (if any) and start a new generation; returns its number."""
        self.stop()
        return self.generation

    def is_current(self, generation: int) -> bool:
        return generation == self.generation

    def restore(self, generation: int, signin: SignInManager) -> None:
        """Restore the stored sign-in off the GUI thread for ``generation`` (see ``restore_problem``)."""
        if self.is_current(generation):
            run_task(signin.restore, self._restored, lambda exc: self._restore_failed(generation, signin, exc),
                     name="restore-signin", current=lambda: self.is_current(generation))

    def build(self, generation: int, build: Callable[[], PusherClient], feed_channel: str) -> None:
        """Run ``build`` off the GUI thread; attach and connect its client if ``generation`` is still current."""
        if not self.is_current(generation):
            return
        # Not ``current=``: a client built for an old generation must still be closed (``_built``).
        run_task(build, lambda client: self._built(generation, client, feed_channel),
                 lambda exc: self._build_failed(generation, exc), name="connect")

    def stop(self) -> None:
        """Detach and close the current connection; anything its generation still produces is dropped."""
        self.generation += 1
        live, self.live = self.live, None
        if live is None:
            return
        live.pipe.close()  # first: the engine thread must never wait for the window while we join it
        live.client.close(timeout=2.0)
        live.pipe.flush_now()  # what was received up to the end is shown, once
        live.deleteLater()
        self.state_changed.emit(StateChanged(live.client.state, State.DISCONNECTED))  # its own is dropped now

    # -- what the generation's threads report, on the GUI thread ------------------------------------------
    def _built(self, generation: int, client: PusherClient, feed_channel: str) -> None:
        if not self.is_current(generation) or self.live is not None:
            log.info("dropped a connection built for settings that have changed since")
            client.close(timeout=0)  # never connected: nothing to wait for
            return
        live = Live(self, generation, client, feed_channel, self._persist, dedupe=self._dedupe)
        self.live = live
        self.attached.emit(live)
        client.subscribe(feed_channel)
        client.connect()

    def _restored(self, session: object) -> None:
        (self.sign_in_needed if session is None else self.signed_in).emit()

    def _restore_failed(self, generation: int, signin: SignInManager, exc: BaseException) -> None:
        text, ask = restore_problem(exc, self.restore_retry_ms / 1000)
        self.stopped.emit(text)
        if ask:
            self.sign_in_needed.emit()
        else:  # offline: again by itself, until a newer generation (Reconnect, new settings) takes over
            QTimer.singleShot(self.restore_retry_ms, self, lambda: self.restore(generation, signin))

    def _build_failed(self, generation: int, exc: BaseException) -> None:
        if self.is_current(generation):
            self.stopped.emit(f"Cannot connect: {exc}")

    def _state(self, live: Live, change: StateChanged) -> None:
        if live is not self.live:
            return
        error = live.client.engine_error
        if error is not None:
            self.stopped.emit(f"Engine stopped: {error}")
        else:
            self.state_changed.emit(change)

    def _feed_status(self, live: Live, events: list[ChannelEvent]) -> None:
        if live is not self.live:
            return
        for event in events:  # the feed channel's library events only (``PusherBridge.feed_status``)
            if event.event == "pusher:subscription_error":
                self.feed_problem.emit(describe_subscription_error(event.data))
            elif event.event == "pusher:subscription_succeeded":
                self.feed_problem.emit("")
                self.feed_subscribed.emit(live)


def restore_problem(exc: BaseException, retry_in: float) -> tuple[str, bool]:
    """What to show when the stored sign-in could not be restored, and whether to ask for a new sign-in.

    Offline (the sign-in service did not answer) is not "sign in again": the refresh token stays in the
    keyring (``SignInManager.restore`` forgets it only when the service refused it), and the window tries
    again every ``retry_in`` seconds (or at once with Reconnect). Refused (expired, revoked) or unusable
    answers ask for a new sign-in.
    """
    if isinstance(exc, RefreshError) and exc.kind == "retry":
        return (f"Cannot reach the sign-in service ({exc}). Your sign-in is kept on this computer: trying "
                f"again every {retry_in:g} s, or Reconnect.", False)
    if isinstance(exc, RefreshError) and exc.kind == "reauth":
        return str(exc), True
    return f"Could not restore the sign-in: {exc}", True
