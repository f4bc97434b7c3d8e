"""PusherClient: the engine's public face, and what the core asks for.

The core runs on the engine thread or, inline, on a socket's reader thread (:mod:`.engine_loop`); after each
turn this client carries out the core's effects and calls bindings there. A GUI connects through ``on_batch``
and a queued Qt signal, never by touching widgets from here.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from desktop import __version__
from desktop.pusher import core as c
from desktop.pusher import protocol
from desktop.pusher.auth import Authorizer
from desktop.pusher.auth_batch import batchable, submit_batch, submit_one
from desktop.pusher.bindings import Bindings, ChannelHandle, EventCallback
from desktop.pusher.channels import Channel
from desktop.pusher.core import ChannelEvent, Options, PusherCore, State, StateChanged
from desktop.pusher.engine_loop import EngineLoop
from desktop.pusher.transport import Transport
from desktop.signing.names import SERVER_TO_USER_PREFIX, is_internal_channel, validate_channel_name

log = logging.getLogger("desktop.pusher")

BatchCallback = Callable[[list[ChannelEvent]], None]
StateCallback = Callable[[StateChanged], None]


class PusherClient:
    """A Pusher Channels connection that reconnects, reauthorizes and resubscribes by itself."""

    def __init__(self, app_key: str, *, cluster: str | None = "mt1", host: str | None = None,
                 port: int | None = None, use_tls: bool = True, authorizer: Authorizer | None = None,
                 options: Options | None = None, sslopt: dict[str, Any] | None = None) -> None:
        self.app_key = app_key
        self._host = host or f"ws-{cluster or 'mt1'}.pusher.com"
        self._port = port
        self._sslopt = sslopt
        self.authorizer = authorizer
        self._core = PusherCore(options, use_tls=use_tls)
        #: who hears which event (``ChannelHandle`` binds through it); changed from any thread
        self.bindings = Bindings()
        self._batch_callbacks: list[BatchCallback] = []
        self._state_callbacks: list[StateCallback] = []
        self._workers = ThreadPoolExecutor(max_workers=4, thread_name_prefix="login-feed-auth")
        self._loop = EngineLoop(self._core, self._flush, self._report_death)
        self._queue = self._loop.queue
        self._transports = self._loop.transports
        #: Why the engine thread died ("TypeError: ..."), or None while it runs (see ``_report_death``).
        self.engine_error: str | None = None
        self.user = ChannelHandle(self, None)

    # -- public API (any thread) ----------------------------------------------------------------------
    @property
    def state(self) -> State:
        return State.FAILED if self.engine_error is not None else self._core.state

    @property
    def socket_id(self) -> str | None:
        return self._core.socket_id

    @property
    def last_error(self) -> str:
        return self._core.last_error

    def url(self, use_tls: bool) -> str:
        port = self._port or (443 if use_tls else 80)
        return protocol.build_url(f"{'wss' if use_tls else 'ws'}://{self._host}:{port}", self.app_key, __version__)

    def connect(self) -> None:
        self._call(self._core.connect)  # starts the engine thread on first use

    def disconnect(self) -> None:
        """Close the socket; channels are kept and come back with the next ``connect``."""
        self._call(self._core.disconnect)

    def close(self, timeout: float = 5.0) -> None:
        """Disconnect and stop every thread. Safe from any thread, including a binding's callback."""
        self._loop.stop(timeout)
        self._workers.shutdown(wait=False, cancel_futures=True)
        closer = getattr(self.authorizer, "close", None)
        if callable(closer):
            closer()

    def subscribe(self, channel_name: str) -> ChannelHandle:
        """Subscribe (validating the name now, so a typo fails here and not on the server)."""
        validate_channel_name(channel_name)
        self._call(lambda now: self._core.subscribe(channel_name, now))
        return ChannelHandle(self, channel_name)

    def unsubscribe(self, channel_name: str) -> None:
        self._call(lambda now: self._core.unsubscribe(channel_name, now))

    def channel(self, channel_name: str) -> ChannelHandle | None:
        return ChannelHandle(self, channel_name) if channel_name in self._core.channels else None

    def channel_names(self) -> list[str]:
        return [n for n in list(self._core.channels) if not is_internal_channel(n)]

    def trigger(self, channel_name: str, event: str, data: Any) -> Future[None]:
        """Send a client event; the future fails with ``ClientEventError`` if Pusher would refuse it."""
        future: Future[None] = Future()

        def run(now: float) -> None:
            try:
                self._core.trigger(channel_name, event, data, now)
            except c.ClientEventError as exc:
                future.set_exception(exc)
            else:
                future.set_result(None)

        self._call(run)
        return future

    def signin(self) -> None:
        """Authenticate the user on this connection (and every later one); see ``user.bind``."""
        self._call(self._core.signin)

    def bind(self, event: str, callback: EventCallback) -> None:
        """Connection-level events by name (``pusher:error``, ``pusher:signin_success`` ...)."""
        self.bindings.bind(None, event, callback)

    def unbind(self, event: str | None = None, callback: EventCallback | None = None) -> None:
        self.bindings.unbind(None, event, callback)

    def bind_global(self, callback: EventCallback) -> None:
        """Every event on every channel and connection-level events: ``callback(event)``."""
        self.bindings.bind_global(callback)

    def unbind_global(self, callback: EventCallback | None = None) -> None:
        self.bindings.unbind_global(callback)

    def on_batch(self, callback: BatchCallback, *, may_wait: bool = False) -> None:
        """``callback(events)`` once per batch of frames read together, on the engine thread or the socket's
        reader thread: the fast path for a feed. A callback that may wait (back-pressure) says so: frames are
        then always handled on the engine thread, so the socket is still read while it waits."""
        if may_wait:
            self._loop.inline = False
        self._batch_callbacks.append(callback)

    def on_state_change(self, callback: StateCallback) -> None:
        self._state_callbacks.append(callback)

    def channel_record(self, channel_name: str | None) -> Channel | None:
        """The engine's record of a channel, to read (None: this user's server-to-user channel)."""
        if channel_name is None:
            user_id = self._core.user_id
            channel_name = None if user_id is None else SERVER_TO_USER_PREFIX + user_id
        return None if channel_name is None else self._core.channels.get(channel_name)

    def members(self, channel_name: str) -> dict[str, Any]:
        channel = self.channel_record(channel_name)
        if channel is None or channel.members is None:
            return {}
        return dict(channel.members.by_id)

    def wait_for_state(self, *states: State, timeout: float = 10.0) -> State:
        """Block until the state is one of ``states`` (for the CLI and tests; never on a GUI thread)."""
        reached = threading.Event()
        watcher = lambda change: reached.set() if change.current in states else None  # noqa: E731
        self.on_state_change(watcher)
        try:
            if self.state not in states:
                reached.wait(timeout)
            return self.state
        finally:
            self._state_callbacks.remove(watcher)

    # -- after each turn of the core (engine thread or a reader thread) -------------------------------------
    def _call(self, fn: Callable[[float], None]) -> None:
        self._loop.call(fn)

    def _report_death(self, exc: Exception) -> None:
        """The engine thread is ending on an error: ``state`` says FAILED from now on and state callbacks get
        a last change whose reason starts with "engine stopped". Not re-raised: the traceback is logged
        above, and nothing could catch it on this thread; a fresh client is the only way on."""
        detail = str(exc).strip()
        reason = f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
        self.engine_error = reason[:300]
        change = StateChanged(self._core.state, State.FAILED, f"engine stopped: {self.engine_error}")
        self._tell(self._state_callbacks, change)

    def _flush(self) -> None:
        """Carry out effects (which may add more) and hand delivered events to bindings."""
        core = self._core
        while core.effects:
            effects, core.effects = core.effects, []
            batch = batchable(self.authorizer, effects)
            for effect in effects:
                if batch and effect is batch[0]:
                    submit_batch(self._workers, self.authorizer, batch, self._queue.put)
                elif not (batch and effect in batch):
                    self._apply(effect)
        if core.delivered:
            events, core.delivered = core.delivered, []
            self._tell(self._batch_callbacks, events)
            self.bindings.dispatch(events)

    def _apply(self, effect: c.Effect) -> None:
        match effect:
            case c.Send(text):
                transport = self._transports.get(max(self._transports, default=-1))
                if transport is None or not transport.send(text):
                    log.debug("not connected; dropped an outgoing message")
            case c.Open(generation, use_tls):
                transport = Transport(self.url(use_tls), generation, self._loop.from_reader, sslopt=self._sslopt)
                self._transports[generation] = transport
                transport.start()
            case c.Close(generation, code, reason):
                transport = self._transports.get(generation)
                if transport is not None:
                    transport.close(code, reason)
            case c.Authorize(channel, socket_id, request):
                submit_one(self._workers, self.authorizer, lambda a: a.authorize_channel(socket_id, channel),
                           lambda result: ("auth", channel, request, result), self._queue.put)
            case c.AuthorizeUser(socket_id, request):
                submit_one(self._workers, self.authorizer, lambda a: a.authenticate_user(socket_id),
                           lambda result: ("user-auth", request, result), self._queue.put)
            case c.StateChanged() as change:
                log.info("connection %s -> %s%s", change.previous, change.current,
                         f" ({change.reason})" if change.reason else "")
                self._tell(self._state_callbacks, change)

    @staticmethod
    def _tell(callbacks: Sequence[Callable[[Any], None]], arg: Any) -> None:
        for callback in list(callbacks):  # a copy: a callback may remove itself (``wait_for_state``)
            try:
                callback(arg)
            except Exception:
                log.exception("a Pusher callback raised; the engine goes on")

