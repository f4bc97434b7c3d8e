"""Trigger events through the Pusher HTTP API (protocol reference §5): one (chat) or a batch of up to 10 (tenant log).

Blocking (``requests``): the app calls it from a worker thread. Events for ``private-encrypted-`` channels are
encrypted here, as the server libraries do, because Pusher only relays what it is given. Errors say what
Pusher answered, never the query (it carries the signature) or the secret.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import time
from collections.abc import Callable, Sequence

import requests
from nacl.secret import SecretBox
from nacl.utils import random as random_bytes

from desktop.auth.common import clean_text
from desktop.signing.http_api import sign_request
from desktop.signing.names import ChannelKind, channel_kind
from desktop.signing.signatures import encode_json_compact, shared_secret

__all__ = ["MAX_BATCH_EVENTS", "MAX_EVENT_DATA_BYTES", "PusherTrigger", "TriggerError", "encrypt_event_data"]

log = logging.getLogger(__name__)

MAX_EVENT_DATA_BYTES = 10 * 1024
"""Pusher refuses event data over 10 KB (HTTP 413)."""
MAX_BATCH_EVENTS = 10
"""Pusher's most events per ``batch_events`` request on multi-tenant clusters."""

_MAX_ERROR_BYTES = 2048
_HEX_DIGEST = re.compile(r"[0-9a-fA-F]{32,}")


class TriggerError(Exception):
    """Pusher refused the event or could not be reached; ``status`` is Pusher's HTTP status when it answered."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def encrypt_event_data(channel: str, data: str, master_key: bytes) -> str:
    """``{"nonce", "ciphertext"}`` JSON for an encrypted channel, with the channel's shared secret."""
    box = SecretBox(shared_secret(channel, master_key))
    nonce = random_bytes(SecretBox.NONCE_SIZE)
    ciphertext = box.encrypt(data.encode("utf-8"), nonce).ciphertext
    return encode_json_compact({"nonce": base64.b64encode(nonce).decode("ascii"),
                                "ciphertext": base64.b64encode(ciphertext).decode("ascii")})


class PusherTrigger:
    """``trigger(channel, event, data, socket_id=None)``: one signed ``POST /apps/<id>/events``."""

    def __init__(
        self,
        base_url: str,
        app_id: str,
        key: str,
        secret: str,
        *,
        master_key: bytes | None = None,
        session: requests.Session | None = None,
        timeout: float = 5.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.app_id = app_id
        self.key = key
        self._secret = secret
        self._master_key = master_key
        self._session = session if session is not None else requests.Session()
        self._owns_session = session is None
        self.timeout = timeout
        self._clock = clock

    def __repr__(self) -> str:
        return f"PusherTrigger({self.base_url!r}, app_id={self.app_id!r}, key={self.key!r})"

    def close(self) -> None:
        if self._owns_session:
            self._session.close()

    def __call__(self, channel: str, event: str, data: str, socket_id: str | None = None) -> None:
        self.trigger(channel, event, data, socket_id)

    def trigger(self, channel: str, event: str, data: str, socket_id: str | None = None) -> None:
        payload: dict[str, object] = {"name": event, "channels": [channel], "data": self._prepare(channel, data)}
        if socket_id is not None:
            payload["socket_id"] = socket_id
        self._post(f"/apps/{self.app_id}/events", payload, f"{event} on {channel}")
        log.debug("triggered %s on %s", event, channel)

    def trigger_batch(self, events: Sequence[tuple[str, str, str]]) -> None:
        """``(channel, event, data)`` items in one ``POST /apps/<id>/batch_events`` (Pusher takes at most
        :data:`MAX_BATCH_EVENTS`); all are accepted or the request fails as a whole."""
        if not 0 < len(events) <= MAX_BATCH_EVENTS:
            raise ValueError(f"a batch holds 1 to {MAX_BATCH_EVENTS} events")
        batch = [{"channel": channel, "name": event, "data": self._prepare(channel, data)}
                 for channel, event, data in events]
        self._post(f"/apps/{self.app_id}/batch_events", {"batch": batch}, f"a batch of {len(batch)} events")
        log.debug("triggered a batch of %d events", len(batch))

    def _prepare(self, channel: str, data: str) -> str:
        """The data as sent: encrypted for a ``private-encrypted-`` channel, and within Pusher's size limit."""
        if channel_kind(channel) is ChannelKind.ENCRYPTED:
            if self._master_key is None:
                raise TriggerError(f"{channel} is encrypted and no encryption master key is configured")
            data = encrypt_event_data(channel, data, self._master_key)
        if len(data.encode("utf-8")) > MAX_EVENT_DATA_BYTES:
            raise TriggerError(f"the event data is larger than Pusher's {MAX_EVENT_DATA_BYTES // 1024} KB limit", 413)
        return data

    def _post(self, path: str, payload: dict[str, object], what: str) -> None:
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        query = sign_request("POST", path, {}, body, key=self.key, secret=self._secret,
                             timestamp=int(self._clock()))
        try:
            response = self._session.post(self.base_url + path, params=query, data=body, timeout=self.timeout,
                                          headers={"Content-Type": "application/json"}, allow_redirects=False)
        except requests.Timeout:
            raise TriggerError(f"Pusher did not answer within {self.timeout:g} s") from None
        except requests.RequestException as exc:
            raise TriggerError(f"could not reach Pusher ({type(exc).__name__})") from None
        with response:
            status = response.status_code
            detail = response.content[:_MAX_ERROR_BYTES].decode("utf-8", "replace") if status != 200 else ""
        if status != 200:
            # Pusher's "invalid signature" answers quote the signature sent: keep hex digests out of the log.
            log.warning("Pusher refused %s with HTTP %d: %s", what, status,
                        clean_text(_HEX_DIGEST.sub("***", detail), 200) or "(no body)")
            raise TriggerError(f"Pusher answered HTTP {status}", status)
