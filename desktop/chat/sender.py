"""Sending chat messages: through the message endpoint (HTTP) or as client events on the chat channel.

Both senders take ``send(message_id, text, name)`` on the GUI thread and return at once; the outcome
arrives later as ``sent(message_id)`` or ``failed(message_id, reason)``, emitted on the GUI thread: worker
and engine threads hand the outcome over with ``desktop.util.tasks.to_main``, which drops it once the sender
is deleted (the window closed meanwhile).
Reasons are for a person and never carry a token.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal, SignalInstance

from desktop.chat.messages import client_event_name, outgoing_payload
from desktop.util.http import HttpClient, HttpError
from desktop.util.tasks import to_main

if TYPE_CHECKING:
    from desktop.config_schema import ChatConfig
    from desktop.pusher.client import PusherClient

log = logging.getLogger("desktop.chat")

DEFAULT_TIMEOUT = 10.0
_MAX_ANSWER_BYTES = 64 * 1024


class ChatSetupError(ValueError):
    """The configuration does not allow sending (e.g. endpoint mode without an endpoint)."""


class ChatSender(QObject):
    """What the chat panel sends through."""

    #: message id
    sent = Signal(str)
    #: message id, reason for a person
    failed = Signal(str, str)

    #: True when the server sends our own messages back to us (the panel then drops the echo).
    echoes = False
    #: "through the message endpoint", "as client events on private-chat": for tooltips and logs.
    description = ""

    def send(self, message_id: str, text: str, name: str) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Stop; outcomes not yet reported are dropped."""

    def _emit(self, signal: SignalInstance, *args: str) -> None:
        """Emit on the GUI thread, from any thread, unless the sender is gone by then."""
        to_main(signal.emit, *args, owner=self)


class EndpointSender(ChatSender):
    """POSTs the form ``message``, ``name``, ``id`` (and ``socket_id``) with ``Authorization: Bearer``.

    The original chat sample's server reads ``message`` and ``name`` and triggers ``message-added`` on the
    chat channel; extra fields are harmless to it. One worker thread sends in order, off the GUI thread.
    ``bearer`` is called on that thread (it may renew a token or read the keyring).
    """

    echoes = True

    def __init__(self, url: str, bearer: Callable[[], str] | None = None, timeout: float = DEFAULT_TIMEOUT,
                 *, socket_id: Callable[[], str | None] | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.url = url
        self.timeout = timeout
        self.description = "through the message endpoint"
        self._bearer = bearer
        self._socket_id = socket_id
        self._http = HttpClient("the message endpoint", timeout=timeout, max_bytes=_MAX_ANSWER_BYTES)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="login-feed-chat")
        self._closed = False

    def send(self, message_id: str, text: str, name: str) -> None:
        if self._closed:
            self.failed.emit(message_id, "The chat is closed.")
            return
        form = {"message": text, "name": name, "id": message_id}
        socket_id = self._socket_id() if self._socket_id is not None else None
        if socket_id:
            form["socket_id"] = socket_id
        self._pool.submit(self._post, message_id, form)

    def close(self) -> None:
        self._closed = True
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._http.close()

    def _post(self, message_id: str, form: dict[str, str]) -> None:
        try:
            reason = self._post_once(form)
        except Exception as exc:  # a bug must fail the message, not leave it pending forever
            log.exception("sending a chat message failed unexpectedly")
            reason = f"Not sent: an unexpected error ({type(exc).__name__})."
        if reason is None:
            self._emit(self.sent, message_id)
        else:
            self._emit(self.failed, message_id, reason)

    def _post_once(self, form: dict[str, str]) -> str | None:
        headers: dict[str, str] = {}
        if self._bearer is not None:
            try:
                token = self._bearer()
            except Exception as exc:  # e.g. nobody is signed in
                return f"Not sent: no sign-in for the message endpoint ({exc})."
            if token:
                headers["Authorization"] = f"Bearer {token}"
        try:
            answer = self._http.post(self.url, data=form, headers=headers)
        except HttpError as exc:
            return f"Not sent: {exc.message}."
        if answer.ok:
            return None
        status, detail = answer.status, answer.error_detail()
        if status in (401, 403):
            return (f"Not sent: the message endpoint refused it ({status}{detail}). "
                    "Signing in again may help.")
        return f"Not sent: the message endpoint answered {status}{detail}."


class ClientEventSender(ChatSender):
    """Triggers ``client-<event>`` on the chat channel through the engine; no server in between.

    Client events are not echoed to their sender, so the panel's own copy is the only one it shows.
    """

    def __init__(self, client: PusherClient, channel: str, event: str, timeout: float = DEFAULT_TIMEOUT,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.client = client
        self.channel = channel
        self.event_name = client_event_name(event)
        self.timeout = timeout
        self.description = f"as client events on {channel}"
        self._lock = threading.Lock()
        self._outstanding: set[str] = set()

    def send(self, message_id: str, text: str, name: str) -> None:
        with self._lock:
            self._outstanding.add(message_id)
        future = self.client.trigger(self.channel, self.event_name, outgoing_payload(text, name, message_id))
        # The engine completes the future on its thread; a closed engine never does: the timer answers then.
        QTimer.singleShot(round(self.timeout * 1000), self, lambda: self._timed_out(message_id))
        future.add_done_callback(lambda done: self._done(message_id, done))

    def close(self) -> None:
        with self._lock:
            self._outstanding.clear()

    def _claim(self, message_id: str) -> bool:
        with self._lock:
            if message_id not in self._outstanding:
                return False
            self._outstanding.discard(message_id)
            return True

    def _done(self, message_id: str, future: Future[None]) -> None:
        if not self._claim(message_id):
            return
        exc = future.exception()
        if exc is None:
            self._emit(self.sent, message_id)
        else:
            self._emit(self.failed, message_id, f"Not sent: {exc}.")

    def _timed_out(self, message_id: str) -> None:
        if self._claim(message_id):
            self._emit(self.failed, message_id,
                       f"Not sent: the connection did not take the message within {self.timeout:g} s.")


def build_sender(chat: ChatConfig, client: PusherClient, bearer: Callable[[], str] | None = None,
                 parent: QObject | None = None) -> ChatSender:
    """The sender ``[chat] send`` asks for; :class:`ChatSetupError` says why there can be none."""
    if chat.send == "client-events":
        return ClientEventSender(client, chat.channel, chat.event, parent=parent)
    if not chat.message_endpoint:
        raise ChatSetupError('Sending is off: [chat] send = "endpoint" needs [chat] message_endpoint')
    return EndpointSender(chat.message_endpoint, bearer, socket_id=lambda: client.socket_id, parent=parent)

