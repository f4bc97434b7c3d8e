"""``login-feed simulate --source log-stream``: POST realistic Auth0 log-stream deliveries to a server.

The pure part (:class:`LogStreamRecords`, :class:`Deliveries`) makes tenant-log records with a believable mix
(mostly ``s``; some ``ss``, ``fp``, ``fu``, ``f``; a few ``gd_auth_failed``, ``scp``, ``scpr``, ``slo``) for the
sample people of :mod:`desktop.simulate.people`, and packs them the way Auth0 delivers: the three body formats,
records out of order within and across deliveries, and now and then a record sent again (at least once). The
normal mix has no blocks (``limit_wc``, ``limit_mu``) and no breached passwords (``pwd_leak``): each of those
raises an alert (issue 15), so they come with the attacks that cause them. ``--scenario`` mixes one attack of
:mod:`desktop.simulate.scenarios` into this background, from the ``attack_after``-th record on (a third of
``--count``). ``--time-step S`` dates the records S seconds apart from now (or ``--start``), not by the clock: ten
minutes of a tenant's traffic in a second, for the alert tests (the detector goes by the events' time).
The driver sends each delivery with the stream token
(``LOGIN_FEED_LOG_STREAM_TOKEN`` or the keyring) and, like Auth0, sends it again after anything but a 200;
SIGINT or SIGTERM ends it after the delivery in hand (and what was held back), with the totals.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from typing import Any, TextIO

from desktop.config_checks import LOG_STREAM_TOKEN_ENV
from desktop.config_schema import Config
from desktop.secrets import SecretStore
from desktop.simulate.pacing import TokenBucket
from desktop.simulate.people import SampleEvents, iso_utc_ms
from desktop.simulate.scenarios import Scenario
from desktop.util.http import HttpClient, HttpError
from desktop.util.signals import stop_signals

__all__ = ["DEFAULT_URL", "Deliveries", "Delivery", "LogStreamRecords", "main"]

DEFAULT_URL = "http://127.0.0.1:8765/auth0/log-stream"
_MIX = (("s", 62), ("ss", 7), ("fp", 9), ("fu", 4), ("f", 2), ("slo", 5), ("scpr", 2), ("scp", 2),
        ("gd_auth_failed", 3), ("fs", 1), ("w", 0.5))
_DESCRIPTIONS = {"fp": "Wrong email or password.", "fu": "Wrong email or password.",
                 "f": "Callback URL mismatch. https://app.example/callback is not in the list of allowed callback URLs",
                 "fs": "The user already exists.", "limit_wc": "Too many failed login attempts for this account.",
                 "limit_mu": "Too many failed login attempts from this IP.", "w": "Unable to update last login.",
                 "pwd_leak": "This login attempt has been blocked because the password you're using was previously "
                             "disclosed through a data breach (not in this application)."}
_AGENTS = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/120.0.0.0 Safari/537.36",
           "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
           "Version/17.1 Mobile/15E148 Safari/604.1",
           "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0",
           "Chrome 120.0.0 / Mac OS X 10.15.7")


class LogStreamRecords:
    """An endless, deterministic (per ``seed``) stream of ``{"log_id", "data"}`` records."""

    def __init__(self, seed: int | str | None = None, *, scenario: str = "normal", clock: Any = time.time,
                 attack_after: int = 100, time_step: float | None = None, start: float | None = None) -> None:
        self._rng = random.Random(seed)  # noqa: S311 - sample data, not security
        self._people = SampleEvents(seed, clock=clock)
        self._clock = clock
        self._start = clock() if start is None else start
        self._time_step = time_step
        self._sequence = 0  # records handed out
        self._made = 0  # records made (an attack makes one ahead): the unique tail of each log_id
        self._attack_after = attack_after
        self.scenario = None if scenario == "normal" else Scenario(
            scenario, seed, self._record, (person for _, person in self._people))
        self._attack = self.scenario.records() if self.scenario is not None else None

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return self

    def __next__(self) -> dict[str, Any]:
        self._sequence += 1
        if self._attack is not None and self._sequence > self._attack_after and self._rng.random() < 0.5:
            attack = next(self._attack, None)
            if attack is None:
                self._attack = None
            elif attack:  # {}: the attack waits, the background goes on
                return attack
        _, person = next(self._people)
        code = self._rng.choices([c for c, _ in _MIX], weights=[w for _, w in _MIX])[0]
        if person["type"] == "signup":
            code = "ss"
        return self._record(code, person, person["ip"], self._rng.choice(_AGENTS))

    def _record(self, code: str, person: dict[str, Any], ip: str, agent: str) -> dict[str, Any]:
        now = self._clock() if self._time_step is None else self._start + self._sequence * self._time_step
        self._made += 1
        log_id = f"900{int(now * 1000):017d}{self._made:036d}"
        data: dict[str, Any] = {
            "date": iso_utc_ms(now), "type": code, "description": _DESCRIPTIONS.get(code, ""),
            "connection": person["connection"], "client_id": "aI61p8I8aFjmYRliLWgvM9ev97kCCNDB",
            "client_name": person["client_name"], "ip": ip, "user_agent": agent,
            "user_id": person["user_id"] if code != "fu" else "", "user_name": person["email"],
            "strategy": "auth0" if person["connection"].startswith("Username") else person["connection"],
            "strategy_type": "database" if person["connection"].startswith("Username") else "social",
            "hostname": "acme.eu.auth0.com", "log_id": log_id,
            "details": {"session_id": f"{self._rng.getrandbits(128):032x}"},
        }
        if code == "s":
            data["details"]["stats"] = {"loginsCount": person["logins_count"]}
        elif code in _DESCRIPTIONS:
            data["details"]["error"] = {"message": _DESCRIPTIONS[code]}
        elif code == "gd_auth_failed":
            data["details"]["error"] = {"message": "Wrong or expired code."}
        return {"log_id": log_id, "data": data}


@dataclass
class Delivery:
    body: bytes
    log_ids: list[str]
    repeats: int  #: records in it that were delivered before


@dataclass
class Deliveries:
    """Packs records as Auth0 would: format by turn, shuffled, some held back, some sent twice."""

    seed: int | str | None = None
    duplicate_ratio: float = 0.05
    late_ratio: float = 0.05
    _rng: random.Random = field(init=False)
    _sent: list[dict[str, Any]] = field(default_factory=list, init=False)
    _held: list[dict[str, Any]] = field(default_factory=list, init=False)
    _turn: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(f"{self.seed}-deliveries")  # noqa: S311 - sample data

    def pack(self, records: list[dict[str, Any]]) -> list[Delivery]:
        """The deliveries for ``records`` (some held back for the next call; ``[]`` flushes them)."""
        rng = self._rng
        late = [r for r in records if records and rng.random() < self.late_ratio]
        late_ids = {id(r) for r in late}
        batch = [*self._held, *(r for r in records if id(r) not in late_ids)]
        self._held = late
        repeats = [r for r in self._sent[-200:] if rng.random() < self.duplicate_ratio / 10][:5]
        repeat_ids = {id(r) for r in repeats}
        self._sent = [*self._sent[-800:], *batch]
        batch += repeats
        rng.shuffle(batch)
        self._turn += 1
        if not batch:
            return []
        form = self._turn % 3
        if form == 0:
            bodies = [json.dumps(batch).encode()]
        elif form == 1:
            bodies = [b"\n".join(json.dumps(r).encode() for r in batch) + b"\n"]
        else:  # one object per request
            return [Delivery(json.dumps(r).encode(), [r["log_id"]], int(id(r) in repeat_ids)) for r in batch]
        return [Delivery(bodies[0], [r["log_id"] for r in batch], len(repeats))]


class Refused(Exception):
    """The server refused the stream token: sending more cannot help."""


@dataclass
class Totals:
    records: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: int = 0
    retries: int = 0
    failed: int = 0


def send(http: HttpClient, url: str, token: str, delivery: Delivery, totals: Totals, *,
         attempts: int = 3, pause: float = 1.0) -> None:
    """POST one delivery; after anything but a 200, send it again (Auth0 tries three times)."""
    for attempt in range(1, attempts + 1):
        try:
            answer = http.post(url, data=delivery.body,
                               headers={"Authorization": token, "Content-Type": "application/json"})
            if answer.status == 200:
                counts = answer.json_object()
                totals.stored += int(counts.get("stored", 0))
                totals.duplicates += int(counts.get("duplicates", 0))
                totals.rejected += int(counts.get("rejected", 0))
                totals.records += len(delivery.log_ids)
                return
            reason = f"HTTP {answer.status}"
            if answer.status == 401:
                raise Refused(f"the server refused the stream token (HTTP 401): check {LOG_STREAM_TOKEN_ENV}")
        except (HttpError, ValueError) as exc:
            reason = exc.message if isinstance(exc, HttpError) else type(exc).__name__
        if attempt < attempts:
            totals.retries += 1
            time.sleep(pause * attempt)
    totals.failed += len(delivery.log_ids)
    print(f"simulate: gave up on a delivery of {len(delivery.log_ids)} records ({reason})", file=sys.stderr)


def main(config: Config, args: argparse.Namespace, *, stderr: TextIO | None = None) -> int:
    err = stderr if stderr is not None else sys.stderr
    url = getattr(args, "url", None) or DEFAULT_URL
    rate = getattr(args, "rate", None)
    rate = 20.0 if rate is None else rate
    count = getattr(args, "count", None)
    scenario = getattr(args, "scenario", None) or "normal"
    if rate < 0 or (count is not None and count < 1):
        print("login-feed: --rate must be 0 or more and --count at least 1", file=err)
        return 2
    token = SecretStore().log_stream_token()
    if not token:
        print(f"login-feed: simulate --source log-stream needs the stream token: set {LOG_STREAM_TOKEN_ENV} "
              "or store it in the keyring", file=err)
        return 2
    time_step = getattr(args, "time_step", None)
    if time_step is not None and not 0 < time_step <= 3600:
        print("login-feed: --time-step must be more than 0 and at most 3600 seconds", file=err)
        return 2
    start = getattr(args, "start", None)
    records = LogStreamRecords(getattr(args, "seed", None), scenario=scenario, time_step=time_step,
                               attack_after=count // 3 if count else 100,
                               start=start.timestamp() if start is not None else None)
    deliveries = Deliveries(getattr(args, "seed", None))
    batch_size = max(1, min(100, int(rate // 5))) if rate > 0 else 100
    bucket = TokenBucket(rate, max(batch_size, 1)) if rate > 0 else None
    totals = Totals()
    started = time.monotonic()
    print(f"simulate: posting {count or 'endless'} tenant-log records ({scenario}) to {url}, "
          f"{f'{rate:g}/s' if rate else 'as fast as possible'}", file=err, flush=True)
    made = 0
    stop = threading.Event()
    try:
        with stop_signals(lambda _name: stop.set()), closing(HttpClient("the login-feed server", timeout=30.0)) as http:
            while (count is None or made < count) and not stop.is_set():
                size = batch_size if count is None else min(batch_size, count - made)
                if bucket is not None and stop.wait(bucket.reserve(size)):
                    break
                fresh = [next(records) for _ in range(size)]
                made += size
                for delivery in deliveries.pack(fresh):
                    send(http, url, token, delivery, totals)
            for delivery in deliveries.pack([]):  # whatever was held back
                send(http, url, token, delivery, totals)
    except Refused as exc:
        print(f"login-feed: {exc}", file=err, flush=True)
        return 1
    elapsed = time.monotonic() - started
    print(f"simulate: done: {made} records in {elapsed:.2f} s ({made / elapsed if elapsed else 0:.0f}/s): "
          f"{totals.stored} stored, {totals.duplicates} duplicates, {totals.rejected} rejected, "
          f"{totals.retries} retries, {totals.failed} failed", file=err, flush=True)
    attack = records.scenario
    if attack is not None:
        expected = ", ".join(f"{rule} ({subject})" for rule, subject in attack.expected) or "nothing yet"
        print(f"simulate: {attack.name} {'complete' if attack.finished else 'cut short (raise --count)'}; "
              f"the alerts it should raise: {expected}", file=err, flush=True)
    return 1 if totals.failed else 0
