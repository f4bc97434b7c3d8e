"""Attacks for ``simulate --source log-stream --scenario NAME``, mixed into the normal background (issue 15).

Each scenario is a finite run of Auth0 records that one attack leaves in a tenant log, including Auth0's own
answers to it (an account blocked after ten wrong passwords, an IP throttled after a hundred failures), and
the alerts :mod:`desktop.alerts` should raise for it with its default ``[alerts]``: :attr:`Scenario.expected`,
``(rule, subject)`` pairs, filled in as the records are made. The background (:mod:`desktop.simulate.logstream`)
raises none: its mix has no blocks and no breached passwords, which are exactly what alerts are for, so each
scenario carries its own.

- ``credential-stuffing``: a leaked list of emails (mostly without an account here, some of this tenant's
  people) tried once each from three addresses, each throttled (``limit_mu``) at its 100th failure.
  Expected: ``credential_stuffing`` (subject ``tenant``) and one ``ip_blocked`` per address.
- ``brute-force``: one person's password guessed from two addresses, ten ``fp``, then Auth0 blocks the account
  (``limit_wc``). Expected: ``brute_force`` and ``account_blocked`` for that account.
- ``impossible-travel``: one person logs in from London, and moments later their stolen password logs in from
  Tokyo. The two addresses are in ranges the server's offline GeoIP database places there. Expected:
  ``impossible_travel`` for that user id.
- ``signup-burst``: fifteen signups of made-up people from one address. Expected: ``signup_burst`` for it.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from typing import Any

from desktop.simulate.people import SampleEvents

__all__ = ["ATTACKS", "SCENARIOS", "Scenario"]

Record = dict[str, Any]
Make = Callable[[str, dict[str, Any], str, str], Record]  # (code, person, ip, user agent) -> record
"""How :class:`~desktop.simulate.logstream.LogStreamRecords` makes one record."""

STUFFING_IPS = ("198.51.100.66", "203.0.113.99", "192.0.2.201")  # documentation ranges (RFC 5737)
GUESSING_IPS = ("198.51.100.23", "203.0.113.180")
BURST_IP = "192.0.2.77"
LONDON_IP, TOKYO_IP = "81.2.69.142", "1.0.16.1"  # placed in London and Tokyo by DB-IP's City Lite database
ATTACK_AGENT = "python-requests/2.31.0"
IP_THROTTLE = 100  # Auth0's suspicious IP throttling: failures from one address before limit_mu
ACCOUNT_LIMIT = 10  # Auth0's brute-force protection: failures for one account before limit_wc


class Scenario:
    """One attack's records (:meth:`records`) and the alerts it should raise (complete once they are made)."""

    def __init__(self, name: str, seed: int | str | None, make: Make, people: Iterator[dict[str, Any]]) -> None:
        self.name = name
        self.expected: list[tuple[str, str]] = []
        self.finished = False
        self._rng = random.Random(f"{seed}-{name}")  # noqa: S311 - sample data
        self._make = make
        self._people = people
        self._seed = seed

    def records(self) -> Iterator[Record]:
        """The attack's records (``{}``: a pause, the background goes on); :attr:`finished` is set as the last
        one is handed out (one record of look-ahead, so a run that stops there knows the attack is complete)."""
        inner: Iterator[Record] = getattr(self, "_" + self.name.replace("-", "_"))()
        current = next(inner, None)
        while current is not None:
            following = next(inner, None)
            self.finished = following is None
            yield current
            current = following

    def _credential_stuffing(self) -> Iterator[Record]:
        self.expected.append(("credential_stuffing", "tenant"))
        for ip in STUFFING_IPS:
            self.expected.append(("ip_blocked", ip))
        tried: set[str] = set()
        for attempt in range(IP_THROTTLE * len(STUFFING_IPS)):
            ip = STUFFING_IPS[attempt % len(STUFFING_IPS)]
            person = next(self._people)
            if attempt // len(STUFFING_IPS) == IP_THROTTLE - 1:
                yield self._make("limit_mu", person, ip, ATTACK_AGENT)
            elif person["email"] in tried or self._rng.random() < 0.7:  # a leaked list: each email once, mostly
                # people who have no account here
                stranger = {**person, "user_id": "", "email": f"user{attempt:04d}.{self._rng.randrange(10**6)}"
                                                              "@breach.example"}
                yield self._make("fu", stranger, ip, ATTACK_AGENT)
            else:
                tried.add(person["email"])
                yield self._make("fp", person, ip, ATTACK_AGENT)

    def _brute_force(self) -> Iterator[Record]:
        victim = next(self._people)
        account = victim["email"].lower()
        self.expected += [("brute_force", account), ("account_blocked", account)]
        for attempt in range(ACCOUNT_LIMIT):
            yield self._make("fp", victim, GUESSING_IPS[attempt % len(GUESSING_IPS)], ATTACK_AGENT)
        yield self._make("limit_wc", victim, GUESSING_IPS[0], ATTACK_AGENT)

    def _impossible_travel(self) -> Iterator[Record]:
        victim = next(self._people)
        self.expected.append(("impossible_travel", victim["user_id"]))
        yield self._make("s", victim, LONDON_IP, "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 "
                                                 "Firefox/121.0")
        for _ in range(20):  # the background goes on for a few records
            yield {}
        yield self._make("s", victim, TOKYO_IP, ATTACK_AGENT)

    def _signup_burst(self) -> Iterator[Record]:
        self.expected.append(("signup_burst", BURST_IP))
        newcomers = SampleEvents(f"{self._seed}-signup-burst", signup_ratio=1.0)
        for _ in range(15):
            _, person = next(newcomers)
            yield self._make("ss", person, BURST_IP, ATTACK_AGENT)


ATTACKS = ("credential-stuffing", "brute-force", "impossible-travel", "signup-burst")
SCENARIOS = ("normal", *ATTACKS)
