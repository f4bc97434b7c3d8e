"""``login-feed simulate``: publish realistic v1 feed events through the Pusher HTTP API, for demos and load.

Three parts, each usable (and tested) alone:

* :class:`SampleEvents` is a pure, seeded generator of ``(event_name, payload)`` pairs shaped like our Auth0
  Action's v1 payload: people from many cultures, about one signup in ten, and a pool of returning users so
  the same people log in again and again (with growing ``logins_count``).
* :class:`Publisher` sends one ``POST /apps/<id>/batch_events`` (at most 10 events, Pusher's limit), signed
  with :func:`desktop.signing.http_api.sign_request`; it retries 429, 5xx and network errors with backoff and
  turns any other refusal into :class:`PublishRefused` with a message a person can act on.
* :func:`run` paces batches with a :class:`TokenBucket`, keeps a few requests in flight on a small thread
  pool, reports progress about once a second and always waits for what is in flight before it returns.

:func:`main` wires them to the configuration, the secret store and the signals for the command line.
Nothing here logs or prints a secret, a master key or a request signature (the query string carries one,
so network errors are shown without their URL's query).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import math
import os
import random
import re
import signal
import sys
import threading
import time
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from functools import partial
from types import FrameType
from typing import Any, TextIO

import orjson
import requests
from nacl.secret import SecretBox
from nacl.utils import random as random_bytes

from desktop import __version__
from desktop.config_checks import MASTER_KEY_ENV, PUSHER_SECRET_ENV
from desktop.config_schema import Config
from desktop.secrets import SecretStore
from desktop.signing.http_api import sign_request
from desktop.signing.names import ChannelKind, channel_kind, validate_channel_name
from desktop.signing.signatures import decode_master_key, shared_secret
from desktop.simulate_data import (
    APPLICATIONS,
    ASCII_FOLD,
    CONNECTIONS,
    CULTURES,
    EMAIL_DOMAINS,
    IP_PREFIXES,
    Culture,
    NamePart,
)

__all__ = [
    "MAX_BATCH",
    "ChannelEncryptor",
    "Outcome",
    "Progress",
    "PublishFailed",
    "PublishRefused",
    "Publisher",
    "SampleEvents",
    "TokenBucket",
    "batch_size_for",
    "encode_batch",
    "iso_utc_ms",
    "main",
    "run",
]

Event = tuple[str, dict[str, Any]]

MAX_BATCH = 10
"""Pusher's limit of events per ``batch_events`` request."""
SIGNUP_EVENT = "user-signedUp"
LOGIN_EVENT = "user-loggedIn"
DEFAULT_RATE = 5.0
DEFAULT_CONCURRENCY = 4
MAX_CONCURRENCY = 64
_CONNECT_TIMEOUT = 5.0
_READ_TIMEOUT = 10.0
_SLICE = 0.25  # longest uninterrupted wait of the main loop: signals and progress stay responsive


# ---- sample events (pure) -----------------------------------------------------------------------------------


def iso_utc_ms(epoch_seconds: float) -> str:
    """``2026-11-21T05:01:02.123Z``: ISO-8601 UTC with milliseconds, as the Action sends ``at``."""
    millis = math.floor(epoch_seconds * 1000)
    seconds, ms = divmod(millis, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{ms:03d}Z"


def _ascii(text: str) -> str:
    """Lower-case ASCII spelling of a name for an email address: ``Zoë Müller`` -> ``zoe.muller``."""
    folded = "".join(ASCII_FOLD.get(ch, ch) for ch in unicodedata.normalize("NFKD", text))
    words = ["".join(ch for ch in word if ch.isascii() and (ch.isalnum() or ch == "-")).strip("-")
             for word in folded.lower().split()]
    return ".".join(word for word in words if word)


def _part(part: NamePart) -> tuple[str, str]:
    return part if isinstance(part, tuple) else (part, _ascii(part))


@dataclass(slots=True)
class _User:
    user_id: str
    email: str
    name: str
    nickname: str
    picture: str
    connection: str
    client_name: str
    country: str
    city: str
    ip: str
    logins_count: int


class SampleEvents:
    """An endless, deterministic (for a given ``seed`` and ``clock``) stream of ``(event_name, payload)``.

    ``clock`` returns epoch seconds and stamps ``at``/``updated_at``; ``signup_ratio`` is the chance that an
    event is a signup (the new user then joins the pool of returning users).
    """

    def __init__(self, seed: int | str | None = None, *, clock: Callable[[], float] = time.time,
                 signup_ratio: float = 0.1, pool_size: int = 60, max_pool: int = 400) -> None:
        if not 0.0 <= signup_ratio <= 1.0:
            raise ValueError("signup_ratio must be between 0 and 1")
        self._rng = random.Random(seed)  # noqa: S311 - sample data, not security
        self._clock = clock
        self._signup_ratio = signup_ratio
        self._max_pool = max(1, max_pool)
        self._cultures = CULTURES
        self._culture_weights = [c.weight for c in CULTURES]
        self._emails: set[str] = set()
        self._pool: list[_User] = [self._new_user(returning=True) for _ in range(max(1, pool_size))]

    def __iter__(self) -> Iterator[Event]:
        return self

    def __next__(self) -> Event:
        rng = self._rng
        now = iso_utc_ms(self._clock())
        if rng.random() < self._signup_ratio:
            user = self._new_user(returning=False)
            self._pool.append(user)
            if len(self._pool) > self._max_pool:  # forget someone from the older half
                self._forget(self._pool.pop(rng.randrange(len(self._pool) // 2)))
            return SIGNUP_EVENT, self._payload(user, "signup", now)
        user = rng.choice(self._pool)
        user.logins_count += 1
        roll = rng.random()
        if roll < 0.12:  # a new network (mobile, café, VPN)
            user.ip = self._ip()
        elif roll < 0.2:  # another of the company's applications
            user.client_name = self._weighted(APPLICATIONS)
        return LOGIN_EVENT, self._payload(user, "login", now)

    def take(self, count: int) -> list[Event]:
        return [next(self) for _ in range(count)]

    @staticmethod
    def _payload(user: _User, kind: str, now: str) -> dict[str, Any]:
        return {
            "v": 1, "type": kind, "user_id": user.user_id, "email": user.email, "name": user.name,
            "nickname": user.nickname, "picture": user.picture, "connection": user.connection,
            "client_name": user.client_name, "country": user.country, "city": user.city, "ip": user.ip,
            "logins_count": user.logins_count, "at": now, "updated_at": now,
            "app_metadata": {"signedUp": kind == "signup"},
        }

    # -- people --

    def _weighted(self, table: Sequence[tuple[str, float]]) -> str:
        return self._rng.choices([v for v, _ in table], weights=[w for _, w in table])[0]

    def _ip(self) -> str:
        return f"{self._rng.choice(IP_PREFIXES)}{self._rng.randint(1, 254)}"

    def _name(self, culture: Culture) -> tuple[str, list[str]]:
        """The name as written, and its ASCII words (first name first) for emails and nicknames."""
        rng = self._rng
        if culture.full and (not culture.given or rng.random() < 0.5):
            name, ascii_name = _part(rng.choice(culture.full))
            return name, ascii_name.split(".")
        (given, given_a), (family, family_a) = _part(rng.choice(culture.given)), _part(rng.choice(culture.family))
        given_words, family_words = given_a.split("."), family_a.split(".")
        if culture.family_first:  # "Nguyễn Văn An" is called An: an.nguyen@...
            return f"{family} {given}", [given_words[-1], *family_words]
        return f"{given} {family}", [*given_words, *family_words]

    def _email_local(self, words: list[str]) -> str:
        rng = self._rng
        first, last = words[0] or "user", words[-1] if len(words) > 1 else ""
        styles = [f"{first}.{last}", f"{first}{last}", f"{first[0]}.{last}", f"{first}_{last}",
                  f"{first}.{last}{rng.randint(1, 99)}"] if last else [first, f"{first}{rng.randint(1, 999)}"]
        return rng.choice(styles)

    def _new_user(self, *, returning: bool) -> _User:
        rng = self._rng
        culture = rng.choices(self._cultures, weights=self._culture_weights)[0]
        name, words = self._name(culture)
        local = self._email_local(words)
        domain = self._weighted(EMAIL_DOMAINS)
        email = f"{local}@{domain}"
        while email in self._emails:
            email = f"{local}{rng.randint(2, 9999)}@{domain}"
        self._emails.add(email)
        connection = self._weighted(CONNECTIONS)
        initials = (words[0][:1] + (words[-1][:1] if len(words) > 1 else words[0][1:2])) or "u"
        default_avatar = f"https://cdn.auth0.com/avatars/{initials}.png"
        if connection == "google-oauth2":
            user_id, nickname = f"google-oauth2|{rng.randrange(10**20, 2 * 10**20)}", local
            picture = default_avatar
        elif connection == "github":
            user_id = f"github|{rng.randrange(10**5, 2 * 10**8)}"
            nickname = "-".join(words[:2]) + (str(rng.randint(1, 99)) if rng.random() < 0.3 else "")
            picture = default_avatar
        else:
            user_id, nickname = f"auth0|{rng.getrandbits(96):024x}", local
            digest = hashlib.md5(email.encode(), usedforsecurity=False).hexdigest()
            picture = (f"https://s.gravatar.com/avatar/{digest}?s=480&r=pg&d=https%3A%2F%2Fcdn.auth0.com"
                       f"%2Favatars%2F{initials}.png")
        # Most people log in from where their name suggests; some live elsewhere.
        home = culture if rng.random() < 0.85 else rng.choice(self._cultures)
        country, city = rng.choice(home.places)
        logins = 1 + int(rng.expovariate(1 / 25)) if returning else 1
        return _User(user_id=user_id, email=email, name=name, nickname=nickname, picture=picture,
                     connection=connection, client_name=self._weighted(APPLICATIONS), country=country, city=city,
                     ip=self._ip(), logins_count=logins)

    def _forget(self, user: _User) -> None:
        self._emails.discard(user.email)


# ---- encoding and encryption (pure) ---------------------------------------------------------------------------


class ChannelEncryptor:
    """Encrypts event data for one ``private-encrypted-`` channel, as Pusher's server libraries do (§1.10):
    ``{"nonce": b64, "ciphertext": b64}`` with NaCl secretbox under sha256(channel + master key).
    """

    def __init__(self, channel: str, master_key: bytes) -> None:
        self._box = SecretBox(shared_secret(channel, master_key))

    def __call__(self, data: str) -> str:
        nonce = random_bytes(SecretBox.NONCE_SIZE)
        ciphertext = self._box.encrypt(data.encode("utf-8"), nonce).ciphertext
        return orjson.dumps({"nonce": base64.b64encode(nonce).decode("ascii"),
                             "ciphertext": base64.b64encode(ciphertext).decode("ascii")}).decode("utf-8")


def encode_batch(channel: str, events: Sequence[Event], encrypt: Callable[[str], str] | None = None) -> bytes:
    """The exact body of one ``batch_events`` request (``data`` is a JSON string, as the API requires)."""
    if not 1 <= len(events) <= MAX_BATCH:
        raise ValueError(f"a batch holds 1 to {MAX_BATCH} events, not {len(events)}")
    batch = []
    for name, payload in events:
        data = orjson.dumps(payload).decode("utf-8")
        batch.append({"channel": channel, "name": name, "data": encrypt(data) if encrypt else data})
    return orjson.dumps({"batch": batch})


def batch_size_for(rate: float) -> int:
    """Events per request: full batches when fast (or unlimited); at low rates fewer, so a demo trickles
    evenly instead of arriving in bursts of ten (at most ~10 requests/s below 100 events/s)."""
    if rate <= 0:
        return MAX_BATCH
    return max(1, min(MAX_BATCH, int(rate // 10)))


class TokenBucket:
    """Paces events to ``rate`` per second on a monotonic ``clock``; bursts up to ``capacity`` events.

    :meth:`reserve` takes the tokens at once (the bucket may go into debt) and says how long to wait
    before using them, so waits add up exactly to the rate however they are sliced.
    """

    def __init__(self, rate: float, capacity: float, clock: Callable[[], float] = time.monotonic) -> None:
        if not rate > 0 or not math.isfinite(rate):
            raise ValueError("rate must be a positive number of events per second")
        if capacity < 1:
            raise ValueError("capacity must be at least one event")
        self.rate = float(rate)
        self.capacity = float(capacity)
        self._clock = clock
        self._tokens = self.capacity
        self._last = clock()

    def reserve(self, events: int) -> float:
        """Take ``events`` tokens; return the seconds to wait before sending them (0 when available now)."""
        if events > self.capacity:
            raise ValueError("cannot reserve more events than the bucket holds")
        now = self._clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._last) * self.rate)
        self._last = now
        self._tokens -= events
        return 0.0 if self._tokens >= 0 else -self._tokens / self.rate


# ---- publishing over HTTP -------------------------------------------------------------------------------------


class PublishRefused(Exception):
    """The API refused the request in a way retrying cannot fix (wrong secret, unknown app, bad batch)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class PublishFailed(Exception):
    """A batch could not be delivered even after retries (429, 5xx, network errors); it counts as failed."""


_HEX_RUN = re.compile(r"\b[0-9a-fA-F]{32,}\b")
_QUERY = re.compile(r"\?[^\s'\")]*")
_ERRNO = re.compile(r"\[Errno -?\d+\][^'\")]*")


def _scrub(text: str, limit: int = 200) -> str:
    """One short line of text from outside, with anything that could be a signature or digest removed."""
    text = _HEX_RUN.sub("…", _QUERY.sub("", " ".join(text.split())))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _server_says(response: requests.Response) -> str:
    raw = response.content[:2000]
    try:
        decoded = orjson.loads(raw)
        if isinstance(decoded, dict) and isinstance(decoded.get("error"), str):
            raw = decoded["error"].encode()
    except orjson.JSONDecodeError:
        pass
    text = _scrub(raw.decode("utf-8", errors="replace"))
    return f": {text}" if text else ""


def _network_reason(exc: requests.RequestException) -> str:
    if isinstance(exc, requests.ConnectTimeout):
        return f"no connection within {_CONNECT_TIMEOUT:g} s"
    if isinstance(exc, requests.Timeout):
        return f"no answer within {_READ_TIMEOUT:g} s"
    found = _ERRNO.search(str(exc))
    if found:
        return f"connection failed ({found.group(0).strip()})"
    return f"{type(exc).__name__}: {_scrub(str(exc))}"


def _effective_status(response: requests.Response) -> int:
    """The status, or the ``code`` of an error body sent with 200.

    soketi 1.6.1 writes its CORS headers before the status, so uWebSockets sends ``200 OK`` for every
    refusal decided after that (wrong signature, unknown app, rate limit, bad batch) and the real status only
    appears in the body: ``{"error": "The secret authentication failed", "code": 401}``.
    """
    status = response.status_code
    if status == 200 and b'"error"' in response.content[:300]:
        try:
            body = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            return status
        code = body.get("code") if isinstance(body, dict) else None
        if isinstance(code, int) and not isinstance(code, bool) and 400 <= code <= 599:
            return code
    return status


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    return float(value) if value.strip().isdigit() else None


class Publisher:
    """Sends signed ``batch_events`` requests; thread-safe for use from a small pool (one shared session).

    ``clock`` gives ``auth_timestamp`` (epoch seconds); ``stop`` cuts retry backoff short when set.
    """

    def __init__(self, api_base: str, app_id: str, key: str, secret: str, session: requests.Session, *,
                 clock: Callable[[], float] = time.time, retries: int = 3, backoff: float = 0.25,
                 max_backoff: float = 5.0, timeout: tuple[float, float] = (_CONNECT_TIMEOUT, _READ_TIMEOUT),
                 stop: threading.Event | None = None) -> None:
        if not app_id:
            raise ValueError("an app id is required")
        self.path = f"/apps/{app_id}/batch_events"
        self.url = api_base.rstrip("/") + self.path
        self.app_id = app_id
        self.key = key
        self._secret = secret
        self._session = session
        self._clock = clock
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.timeout = timeout
        self.stop = stop if stop is not None else threading.Event()

    def __repr__(self) -> str:  # never the secret
        return f"<Publisher {self.url} key={self.key}>"

    def signed_query(self, body: bytes) -> dict[str, str]:
        return sign_request("POST", self.path, {}, body, key=self.key, secret=self._secret,
                            timestamp=int(self._clock()))

    def send(self, body: bytes) -> None:
        """Deliver one batch body; raise :class:`PublishRefused` or, after the retries, :class:`PublishFailed`."""
        attempt = 0
        while True:
            reason, retry_after = self._attempt(body)
            if reason is None:
                return
            if attempt >= self.retries:
                raise PublishFailed(reason)
            delay = retry_after if retry_after is not None else self.backoff * 2**attempt
            attempt += 1
            if self.stop.wait(min(delay, self.max_backoff)):
                raise PublishFailed(f"{reason} (not retried: stopping)")

    def _attempt(self, body: bytes) -> tuple[str | None, float | None]:
        try:
            response = self._session.post(self.url, params=self.signed_query(body), data=body,
                                          headers={"Content-Type": "application/json"}, timeout=self.timeout,
                                          allow_redirects=False)
        except requests.RequestException as exc:
            return _network_reason(exc), None
        status = _effective_status(response)
        if 200 <= status < 300:
            return None, None
        if status == 429 or status >= 500:
            return f"HTTP {status}{_server_says(response)}", _retry_after(response)
        raise PublishRefused(self._refusal(status, response), status)

    def _refusal(self, status: int, response: requests.Response) -> str:
        says = _server_says(response)
        if status == 401:
            return (f"the Pusher HTTP API refused the app secret ({status}){says}; check the secret for key "
                    f"{self.key} ({PUSHER_SECRET_ENV} or the keyring) and [pusher] app_id")
        if status == 403:
            return f"the Pusher HTTP API refused the request ({status}){says}; is the app disabled or over quota?"
        if status == 404:
            return f"the Pusher HTTP API has no app {self.app_id} at {self.url} ({status}){says}; check [pusher] app_id"
        if status == 413:
            return f"the Pusher HTTP API found a batch too large ({status}){says}; this is a bug in login-feed simulate"
        if 300 <= status < 400:
            where = _scrub(response.headers.get("Location", "?"))
            return f"the Pusher HTTP API redirects to {where} ({status}); check [pusher] host, port and tls"
        return f"the Pusher HTTP API refused the request ({status}){says}"


# ---- the run loop ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """How a run ended: counts, duration, and why it stopped early (if it did)."""

    sent: int
    failed: int
    elapsed: float
    stopped: bool  # asked to stop (a signal) before the count was reached
    error: str | None  # a refusal or "gave up": the run could not go on

    @property
    def rate(self) -> float:
        return self.sent / self.elapsed if self.elapsed > 0 else 0.0


class Progress:
    """About once a second: sent, failed and the rate achieved, on one line (rewritten in place on a TTY)."""

    def __init__(self, stream: TextIO | None = None, *, interval: float = 1.0,
                 clock: Callable[[], float] = time.monotonic, live: bool | None = None) -> None:
        self._stream = stream if stream is not None else sys.stderr
        self._interval = interval
        self._clock = clock
        self._live = self._stream.isatty() if live is None else live
        self._start = self._last = clock()
        self._last_sent = 0
        self._dirty = False

    def start(self) -> None:
        self._start = self._last = self._clock()

    def tick(self, sent: int, failed: int, last_failure: str = "") -> None:
        now = self._clock()
        if now - self._last < self._interval:
            return
        recent = (sent - self._last_sent) / (now - self._last)
        overall = sent / (now - self._start) if now > self._start else 0.0
        self._last, self._last_sent = now, sent
        text = f"simulate: {sent} sent, {failed} failed, {recent:.0f} events/s now, {overall:.0f} events/s overall"
        if failed and last_failure:
            text += f" (last failure: {last_failure})"
        if self._live:
            self._stream.write(f"\r\x1b[K{text}")
            self._dirty = True
        else:
            self._stream.write(text + "\n")
        self._stream.flush()

    def line(self, text: str) -> None:
        """A line of its own (e.g. the summary), after any in-place progress line."""
        if self._dirty:
            self._stream.write("\n")
            self._dirty = False
        self._stream.write(text + "\n")
        self._stream.flush()


def run(events: Iterator[Event], publisher: Publisher, channel: str, *, stop: threading.Event, rate: float = 0.0,
        count: int | None = None, concurrency: int = DEFAULT_CONCURRENCY,
        encrypt: Callable[[str], str] | None = None, progress: Progress | None = None,
        clock: Callable[[], float] = time.monotonic, max_failed_in_a_row: int = 5) -> Outcome:
    """Publish ``count`` events (None: until ``stop`` is set) at ``rate`` events/s (0: as fast as possible).

    Batches go out on a pool of ``concurrency`` threads. Setting ``stop`` ends the run after the requests in
    flight are done; a refusal, or ``max_failed_in_a_row`` batches failing one after the other, ends it with
    :attr:`Outcome.error` set.
    """
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    if count is not None and count < 0:
        raise ValueError("count must not be negative")
    runner = _Runner(publisher, stop=stop, concurrency=concurrency, progress=progress, clock=clock,
                     max_failed_in_a_row=max_failed_in_a_row)
    return runner.run(events, channel, rate=rate, count=count, encrypt=encrypt)


class _Runner:
    """The state of one :func:`run`: counters shared with the pool's threads, under one lock."""

    def __init__(self, publisher: Publisher, *, stop: threading.Event, concurrency: int,
                 progress: Progress | None, clock: Callable[[], float], max_failed_in_a_row: int) -> None:
        self._publisher = publisher
        self._stop = stop
        self._concurrency = concurrency
        self._progress = progress
        self._clock = clock
        self._max_failed_in_a_row = max_failed_in_a_row
        self._slots = threading.Semaphore(concurrency)
        self._lock = threading.Lock()
        self._pending: set[Future[None]] = set()
        self._sent = 0
        self._failed = 0
        self._failed_in_a_row = 0
        self._last_failure = ""
        self._error: str | None = None

    def run(self, events: Iterator[Event], channel: str, *, rate: float, count: int | None,
            encrypt: Callable[[str], str] | None) -> Outcome:
        size = batch_size_for(rate)
        bucket = TokenBucket(rate, capacity=size, clock=self._clock) if rate > 0 else None
        produced = 0
        started = self._clock()
        if self._progress is not None:
            self._progress.start()
        with ThreadPoolExecutor(max_workers=self._concurrency, thread_name_prefix="simulate") as pool:
            while not self._stop.is_set() and (count is None or produced < count):
                n = size if count is None else min(size, count - produced)
                if bucket is not None and not self._pause(bucket.reserve(n)):
                    break
                if not self._take_slot():
                    break
                body = encode_batch(channel, [next(events) for _ in range(n)], encrypt)
                produced += n
                future = pool.submit(self._publisher.send, body)
                with self._lock:
                    self._pending.add(future)
                future.add_done_callback(partial(self._finished, events_in_batch=n))
                self._tick()
            self._drain()
        with self._lock:
            return Outcome(sent=self._sent, failed=self._failed, elapsed=self._clock() - started,
                           stopped=self._stop.is_set() and self._error is None, error=self._error)

    def _tick(self) -> None:
        if self._progress is not None:
            with self._lock:
                sent, failed, last = self._sent, self._failed, self._last_failure
            self._progress.tick(sent, failed, last)

    def _pause(self, seconds: float) -> bool:
        """Wait (in slices, showing progress); False when stopped meanwhile."""
        deadline = self._clock() + seconds
        while (left := deadline - self._clock()) > 0:
            if self._stop.wait(min(left, _SLICE)):
                return False
            self._tick()
        return not self._stop.is_set()

    def _take_slot(self) -> bool:
        """Wait for room in flight; False when stopped meanwhile."""
        while not self._slots.acquire(timeout=_SLICE):
            self._tick()
            if self._stop.is_set():
                return False
        if self._stop.is_set():
            self._slots.release()
            return False
        return True

    def _drain(self) -> None:
        """Let what is in flight finish (the publisher's timeouts and retries bound this)."""
        while True:
            with self._lock:
                waiting = list(self._pending)
            if not waiting:
                return
            wait(waiting, timeout=_SLICE, return_when=FIRST_COMPLETED)
            self._tick()

    def _fail(self, message: str) -> None:
        """The run cannot go on (caller holds the lock): remember the first reason and stop."""
        self._error = self._error or message
        self._stop.set()

    def _finished(self, future: Future[None], events_in_batch: int) -> None:
        """Runs on a pool thread (or at once if already done): count the batch and free its slot."""
        try:
            future.result()
        except PublishRefused as exc:
            with self._lock:
                self._failed += events_in_batch
                self._fail(str(exc))
        except PublishFailed as exc:
            with self._lock:
                self._failed += events_in_batch
                self._failed_in_a_row += 1
                self._last_failure = str(exc)
                if self._failed_in_a_row >= self._max_failed_in_a_row:
                    self._fail(f"gave up after {self._failed_in_a_row} batches in a row failed (last: {exc}); "
                               f"is the Pusher HTTP API at {self._publisher.url} reachable?")
        except Exception as exc:  # a bug: stop rather than spin
            with self._lock:
                self._failed += events_in_batch
                self._fail(f"unexpected {type(exc).__name__} while publishing: {_scrub(str(exc))}")
        else:
            with self._lock:
                self._sent += events_in_batch
                self._failed_in_a_row = 0
        finally:
            with self._lock:
                self._pending.discard(future)
            self._slots.release()


# ---- the command ----------------------------------------------------------------------------------------------


class _Usage(Exception):
    """A problem with the command line or the set-up: exit 2 with this message."""


def _options(args: argparse.Namespace) -> tuple[float, int | None, int, float]:
    rate = getattr(args, "rate", None)
    rate = DEFAULT_RATE if rate is None else rate
    if not math.isfinite(rate) or rate < 0:
        raise _Usage("--rate must be a number of events per second, 0 or more (0: as fast as possible)")
    count = getattr(args, "count", None)
    if count is not None and count < 1:
        raise _Usage("--count must be at least 1 (leave it out to run until Ctrl+C)")
    concurrency = getattr(args, "concurrency", None) or DEFAULT_CONCURRENCY
    if not 1 <= concurrency <= MAX_CONCURRENCY:
        raise _Usage(f"--concurrency must be between 1 and {MAX_CONCURRENCY}")
    ratio = getattr(args, "signup_ratio", None)
    ratio = 0.1 if ratio is None else ratio
    if not 0.0 <= ratio <= 1.0:
        raise _Usage("--signup-ratio must be between 0 and 1")
    return rate, count, concurrency, ratio


def _channel(args: argparse.Namespace, config: Config) -> str:
    channel = getattr(args, "channel", None) or config.feed.channel
    try:
        return validate_channel_name(channel)
    except ValueError as exc:
        raise _Usage(f"--channel: {exc}") from None


def _encryptor(channel: str, store: SecretStore) -> ChannelEncryptor:
    b64 = store.encryption_master_key()
    if not b64:
        raise _Usage(f"simulate: {channel} is an encrypted channel and needs the encryption master key: "
                     f"set {MASTER_KEY_ENV} or store it in the keyring")
    try:
        return ChannelEncryptor(channel, decode_master_key(b64))
    except ValueError as exc:
        raise _Usage(f"simulate: {exc}") from None


def _session(api_base: str, concurrency: int) -> requests.Session:
    """Keep-alive connections, one per request in flight (soketi 1.6.1 closes every HTTP API connection
    after the answer anyway; Pusher keeps them open).

    requests re-reads the environment (proxies, CA bundle, .netrc) on every request, which costs more CPU
    than the rest of a request at high rates: it is read once here instead.
    """
    session = requests.Session()
    proxies = requests.utils.get_environ_proxies(api_base)
    session.trust_env = False
    session.proxies.update(proxies)
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if bundle:
        session.verify = bundle
    adapter = requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=concurrency, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = f"login-feed-simulate/{__version__}"
    return session


def _install_signal_handlers(stop: threading.Event, received: list[str]) -> Callable[[], None]:
    """The first SIGINT/SIGTERM stops after the requests in flight; a second one quits at once."""

    def handler(signum: int, _frame: FrameType | None) -> None:
        if received:
            print("simulate: stopping now, without waiting for the requests in flight", file=sys.stderr, flush=True)
            os._exit(130)
        received.append(signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}

    def restore() -> None:
        for sig, old in previous.items():
            signal.signal(sig, old)

    return restore


def main(config: Config, args: argparse.Namespace, *, stderr: TextIO | None = None) -> int:
    """``login-feed simulate``: 0 when done or stopped by a signal, 1 on a refusal or failed events, 2 on set-up."""
    err = stderr if stderr is not None else sys.stderr
    try:
        rate, count, concurrency, ratio = _options(args)
        pusher = config.require_pusher()
        if not pusher.app_id:
            where = str(config.path) if config.path else "the config file"
            raise _Usage(f"simulate needs [pusher] app_id (the app's id from the Pusher dashboard): set it in "
                         f"{where} or LOGIN_FEED_PUSHER_APP_ID")
        channel = _channel(args, config)
        store = SecretStore(os.environ)
        secret = store.pusher_secret(pusher.key)
        if not secret:
            raise _Usage(f"simulate needs the Pusher app secret: set {PUSHER_SECRET_ENV} or store it in the keyring")
        kind = channel_kind(channel)
        encrypt = _encryptor(channel, store) if kind is ChannelKind.ENCRYPTED else None
    except _Usage as exc:
        print(f"login-feed: {exc}", file=err, flush=True)
        return 2
    if kind is ChannelKind.PUBLIC:
        print(f"simulate: warning: {channel} is a public channel: anyone who has the app key can read it",
              file=err, flush=True)

    stop = threading.Event()
    received: list[str] = []
    progress = Progress(err)
    events = SampleEvents(getattr(args, "seed", None), signup_ratio=ratio)
    what = f"{count} events" if count is not None else "events until Ctrl+C"
    pace = f"{rate:g} events/s" if rate > 0 else "as fast as possible"
    progress.line(f"simulate: publishing {what} to {channel} via {pusher.http_api_base} (app {pusher.app_id}), "
                  f"{pace}, {concurrency} requests in flight")
    session = _session(pusher.http_api_base, concurrency)
    restore = _install_signal_handlers(stop, received)
    try:
        publisher = Publisher(pusher.http_api_base, pusher.app_id, pusher.key, secret, session, stop=stop)
        outcome = run(events, publisher, channel, stop=stop, rate=rate, count=count, concurrency=concurrency,
                      encrypt=encrypt, progress=progress)
    finally:
        restore()
        session.close()
    totals = (f"{outcome.sent} events sent to {channel} in {outcome.elapsed:.2f} s "
              f"({outcome.rate:.0f} events/s), {outcome.failed} failed")
    if outcome.error is not None:
        progress.line(f"simulate: stopped: {totals}")
        progress.line(f"login-feed: {outcome.error}")
        return 1
    if received:
        progress.line(f"simulate: stopped by {received[0]}: {totals}")
        return 0
    progress.line(f"simulate: done: {totals}")
    return 1 if outcome.failed else 0
