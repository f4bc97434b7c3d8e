"""The one client of the Pusher HTTP API (protocol reference §5): one event, or a batch of up to 10.

Used by the reference server's ``/message`` (chat), its tenant-log publisher, and ``login-feed simulate``.
Requests go through :class:`desktop.util.http.HttpClient` (total deadline, size cap, one error type); the
signing is :func:`desktop.signing.http_api.sign_request`. Events for ``private-encrypted-`` channels are
encrypted here, as the server libraries do, because Pusher only relays what it is given; event data over
Pusher's 10 KB limit is refused before anything is sent. soketi 1.6.1 answers some refusals with ``200 OK``
and the real status in the body: :func:`effective_status` reads it. Errors say what Pusher answered, never the
query (it carries the signature), the secret or a long hex digest.
"""

from __future__ import annotations

import base64
import logging
import re
import time
from collections.abc import Callable, Sequence

import orjson
from nacl.secret import SecretBox
from nacl.utils import random as random_bytes

from desktop.signing.http_api import sign_request
from desktop.signing.names import ChannelKind, channel_kind
from desktop.signing.signatures import shared_secret
from desktop.util.http import HttpClient, HttpError
from desktop.util.text import clean_text

__all__ = ["MAX_BATCH_EVENTS", "MAX_EVENT_DATA_BYTES", "ChannelEncryptor", "PusherHttpApi", "TriggerError",
           "batch_body", "effective_status", "encrypt_event_data", "prepare_data", "scrubbed", "server_says"]

log = logging.getLogger(__name__)

MAX_EVENT_DATA_BYTES = 10 * 1024
"""Pusher refuses event data over 10 KB (HTTP 413)."""
MAX_BATCH_EVENTS = 10
"""Pusher's most events per ``batch_events`` request on multi-tenant clusters."""

_HEX_RUN = re.compile(r"\b[0-9a-fA-F]{32,}\b")
_QUERY = re.compile(r"\?[^\s'\")]*")

Item = tuple[str, str, str]
"""``(channel, event name, data)``: one event to trigger; ``data`` is the JSON text the subscriber receives."""


class TriggerError(Exception):
    """Pusher refused the event or could not be reached.

    ``status`` is Pusher's HTTP status when it answered (None: no answer); ``detail`` what it said (one short,
    scrubbed line, may be empty); ``retry_after`` its ``Retry-After`` seconds; ``location`` a redirect's target.
    """

    def __init__(self, message: str, status: int | None = None, *, detail: str = "",
                 retry_after: float | None = None, location: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.detail = detail
        self.retry_after = retry_after
        self.location = location

    @property
    def retryable(self) -> bool:
        """No answer, 429 or 5xx: the same request may succeed later."""
        return self.status is None or self.status == 429 or self.status >= 500


class ChannelEncryptor:
    """Encrypts event data for one ``private-encrypted-`` channel, as Pusher's server libraries do (§1.10):
    ``{"nonce": b64, "ciphertext": b64}`` with NaCl secretbox under sha256(channel + master key)."""

    def __init__(self, channel: str, master_key: bytes) -> None:
        self._box = SecretBox(shared_secret(channel, master_key))

    def __call__(self, data: str) -> str:
        nonce = random_bytes(SecretBox.NONCE_SIZE)
        ciphertext = self._box.encrypt(data.encode("utf-8"), nonce).ciphertext
        return orjson.dumps({"nonce": base64.b64encode(nonce).decode("ascii"),
                             "ciphertext": base64.b64encode(ciphertext).decode("ascii")}).decode("utf-8")


def encrypt_event_data(channel: str, data: str, master_key: bytes) -> str:
    """``{"nonce", "ciphertext"}`` JSON for an encrypted channel, with the channel's shared secret."""
    return ChannelEncryptor(channel, master_key)(data)


def prepare_data(data: str, encrypt: Callable[[str], str] | None = None) -> str:
    """The data as sent: encrypted when ``encrypt`` is given, and within Pusher's size limit (else a 413)."""
    if encrypt is not None:
        data = encrypt(data)
    if len(data.encode("utf-8")) > MAX_EVENT_DATA_BYTES:
        raise TriggerError(f"the event data is larger than Pusher's {MAX_EVENT_DATA_BYTES // 1024} KB limit", 413)
    return data


def batch_body(items: Sequence[Item]) -> bytes:
    """The exact body of one ``batch_events`` request; ``items`` already prepared (:func:`prepare_data`)."""
    if not 1 <= len(items) <= MAX_BATCH_EVENTS:
        raise ValueError(f"a batch holds 1 to {MAX_BATCH_EVENTS} events, not {len(items)}")
    return orjson.dumps({"batch": [{"channel": channel, "name": name, "data": data}
                                   for channel, name, data in items]})


def effective_status(status: int, body: bytes) -> int:
    """The status, or the ``code`` of an error body sent with 200.

    soketi 1.6.1 writes its CORS headers before the status, so uWebSockets sends ``200 OK`` for every
    refusal decided after that (wrong signature, unknown app, rate limit, bad batch) and the real status only
    appears in the body: ``{"error": "The secret authentication failed", "code": 401}``.
    """
    if status == 200 and b'"error"' in body[:300]:
        try:
            answer = orjson.loads(body)
        except orjson.JSONDecodeError:
            return status
        code = answer.get("code") if isinstance(answer, dict) else None
        if isinstance(code, int) and not isinstance(code, bool) and 400 <= code <= 599:
            return code
    return status


def server_says(body: bytes, limit: int = 200) -> str:
    """What an error body says (its JSON ``error``, else the text), one short line with anything that could be
    a signature, a digest or a query string taken out (Pusher's "invalid signature" quotes the one sent)."""
    raw = body[:2000]
    try:
        decoded = orjson.loads(raw)
        if isinstance(decoded, dict) and isinstance(decoded.get("error"), str):
            raw = decoded["error"].encode()
    except orjson.JSONDecodeError:
        pass
    return scrubbed(raw.decode("utf-8", errors="replace"), limit)


def scrubbed(text: str, limit: int = 200) -> str:
    """``text`` as one short printable line without query strings or hex runs of 32 or more (signatures,
    digests): for anything from a server or an exception that goes into a message or a log."""
    return clean_text(_HEX_RUN.sub("…", _QUERY.sub("", text)), limit)


class PusherHttpApi:
    """``trigger`` one event or ``trigger_batch`` up to 10 through one app's HTTP API; thread-safe.

    ``http`` carries the connections (pass one with a larger pool for many requests in flight); ``what``
    names the service in error messages; refusals are logged at ``refusal_log_level`` with what Pusher said.
    """

    def __init__(self, base_url: str, app_id: str, key: str, secret: str, *, master_key: bytes | None = None,
                 http: HttpClient | None = None, timeout: float = 5.0, clock: Callable[[], float] = time.time,
                 what: str = "Pusher", refusal_log_level: int = logging.WARNING) -> None:
        if not app_id:
            raise ValueError("an app id is required")
        self.base_url = base_url.rstrip("/")
        self.app_id = app_id
        self.key = key
        self._secret = secret
        self._master_key = master_key
        self._encryptors: dict[str, ChannelEncryptor] = {}
        self.what = what
        self._owns_http = http is None
        self.http = http if http is not None else HttpClient(what, timeout=timeout)
        self.timeout = timeout
        self._clock = clock
        self._refusal_log_level = refusal_log_level

    def __repr__(self) -> str:  # never the secret
        return f"PusherHttpApi({self.base_url!r}, app_id={self.app_id!r}, key={self.key!r})"

    def close(self) -> None:
        if self._owns_http:
            self.http.close()

    def url(self, path: str) -> str:
        return self.base_url + path

    def __call__(self, channel: str, event: str, data: str, socket_id: str | None = None) -> None:
        self.trigger(channel, event, data, socket_id)

    def trigger(self, channel: str, event: str, data: str, socket_id: str | None = None) -> None:
        """One signed ``POST /apps/<id>/events``; :class:`TriggerError` when refused or unreachable."""
        payload: dict[str, object] = {"name": event, "channels": [channel], "data": self.prepare(channel, data)}
        if socket_id is not None:
            payload["socket_id"] = socket_id
        self.post(f"/apps/{self.app_id}/events", orjson.dumps(payload), f"{event} on {channel}")
        log.debug("triggered %s on %s", event, channel)

    def trigger_batch(self, events: Sequence[Item]) -> None:
        """``(channel, event, data)`` items in one ``POST /apps/<id>/batch_events`` (Pusher takes at most
        :data:`MAX_BATCH_EVENTS`); all are accepted or the request fails as a whole."""
        if not 0 < len(events) <= MAX_BATCH_EVENTS:
            raise ValueError(f"a batch holds 1 to {MAX_BATCH_EVENTS} events")
        body = batch_body([(channel, event, self.prepare(channel, data)) for channel, event, data in events])
        self.post_batch(body, f"a batch of {len(events)} events")
        log.debug("triggered a batch of %d events", len(events))

    def prepare(self, channel: str, data: str) -> str:
        """The data as sent to ``channel``: encrypted for a ``private-encrypted-`` one, within the size limit."""
        encrypt = None
        if channel_kind(channel) is ChannelKind.ENCRYPTED:
            if self._master_key is None:
                raise TriggerError(f"{channel} is encrypted and no encryption master key is configured")
            encrypt = self._encryptors.get(channel)
            if encrypt is None:
                encrypt = self._encryptors[channel] = ChannelEncryptor(channel, self._master_key)
        return prepare_data(data, encrypt)

    def post_batch(self, body: bytes, what: str = "a batch") -> None:
        """Send a ready ``batch_events`` body (:func:`batch_body`)."""
        self.post(f"/apps/{self.app_id}/batch_events", body, what)

    def post(self, path: str, body: bytes, what: str) -> None:
        """One signed POST of ``body`` to ``path``, signed with the current time; accepted or :class:`TriggerError`."""
        query = sign_request("POST", path, {}, body, key=self.key, secret=self._secret,
                             timestamp=int(self._clock()))
        try:
            answer = self.http.post(self.url(path), params=query, data=body, timeout=self.timeout,
                                    headers={"Content-Type": "application/json"})
        except HttpError as exc:
            raise TriggerError(exc.message) from None
        status = effective_status(answer.status, answer.body)
        if 200 <= status < 300:
            return
        detail = server_says(answer.body)
        log.log(self._refusal_log_level, "Pusher refused %s with HTTP %d: %s", what, status, detail or "(no body)")
        retry = answer.headers.get("Retry-After", "").strip()
        raise TriggerError(f"{self.what} answered HTTP {status}", status, detail=detail,
                           retry_after=float(retry) if retry.isdigit() else None,
                           location=server_says(answer.headers.get("Location", "?").encode()))
