"""Sending ``login-feed simulate``'s batches: the retry policy over the one Pusher HTTP API client.

:func:`encode_batch` makes the exact body of one ``batch_events`` request (at most 10 events, each within
Pusher's 10 KB limit, encrypted for a ``private-encrypted-`` channel) with
:mod:`desktop.signing.pusher_http`; :class:`Publisher` sends it through
:class:`~desktop.signing.pusher_http.PusherHttpApi`, retries 429, 5xx and network errors with backoff and turns
any other refusal into :class:`PublishRefused` with a message a person can act on. Nothing here shows a secret
or a request signature (the client's errors never carry the query).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

import orjson

from desktop.config_checks import PUSHER_SECRET_ENV
from desktop.signing.pusher_http import (
    MAX_BATCH_EVENTS,
    ChannelEncryptor,
    PusherHttpApi,
    TriggerError,
    batch_body,
    prepare_data,
)
from desktop.simulate.people import Event
from desktop.util.backoff import doubling

__all__ = ["MAX_BATCH", "ChannelEncryptor", "PublishFailed", "PublishRefused", "Publisher", "encode_batch"]

MAX_BATCH = MAX_BATCH_EVENTS
"""Pusher's limit of events per ``batch_events`` request."""


class PublishRefused(Exception):
    """The API refused the request in a way retrying cannot fix (wrong secret, unknown app, bad batch)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class PublishFailed(Exception):
    """A batch could not be delivered even after retries (429, 5xx, network errors); it counts as failed."""


def encode_batch(channel: str, events: Sequence[Event], encrypt: Callable[[str], str] | None = None) -> bytes:
    """The exact body of one ``batch_events`` request (``data`` is a JSON string, as the API requires)."""
    return batch_body([(channel, name, prepare_data(orjson.dumps(payload).decode("utf-8"), encrypt))
                       for name, payload in events])


class Publisher:
    """Sends ready batch bodies through ``api``; thread-safe for use from a small pool (its pooled connections).

    Each attempt is signed with the client's clock; ``stop`` cuts a retry backoff short when set.
    """

    def __init__(self, api: PusherHttpApi, *, retries: int = 3, backoff: float = 0.25, max_backoff: float = 5.0,
                 stop: threading.Event | None = None) -> None:
        self.api = api
        self.url = api.url(f"/apps/{api.app_id}/batch_events")
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.stop = stop if stop is not None else threading.Event()

    def __repr__(self) -> str:  # never the secret
        return f"<Publisher {self.url} key={self.api.key}>"

    def send(self, body: bytes) -> None:
        """Deliver one batch body; raise :class:`PublishRefused` or, after the retries, :class:`PublishFailed`."""
        attempt = 0
        while True:
            try:
                self.api.post_batch(body)
            except TriggerError as exc:
                if not exc.retryable:
                    raise PublishRefused(self._refusal(exc), exc.status) from None
                reason = exc.args[0] if exc.status is None else f"HTTP {exc.status}{_says(exc)}"
                if attempt >= self.retries:
                    raise PublishFailed(reason) from None
                delay = exc.retry_after if exc.retry_after is not None else doubling(self.backoff, attempt,
                                                                                     self.max_backoff)
                attempt += 1
                if self.stop.wait(min(delay, self.max_backoff)):
                    raise PublishFailed(f"{reason} (not retried: stopping)") from None
            else:
                return

    def _refusal(self, exc: TriggerError) -> str:
        status, says = exc.status, _says(exc)
        if status == 401:
            return (f"the Pusher HTTP API refused the app secret ({status}){says}; check the secret for key "
                    f"{self.api.key} ({PUSHER_SECRET_ENV} or the keyring) and [pusher] app_id")
        if status == 403:
            return f"the Pusher HTTP API refused the request ({status}){says}; is the app disabled or over quota?"
        if status == 404:
            return (f"the Pusher HTTP API has no app {self.api.app_id} at {self.url} ({status}){says}; "
                    f"check [pusher] app_id")
        if status == 413:
            return f"the Pusher HTTP API found a batch too large ({status}){says}; this is a bug in login-feed simulate"
        if status is not None and 300 <= status < 400:
            return f"the Pusher HTTP API redirects to {exc.location} ({status}); check [pusher] host, port and tls"
        return f"the Pusher HTTP API refused the request ({status}){says}"


def _says(exc: TriggerError) -> str:
    return f": {exc.detail}" if exc.detail else ""
