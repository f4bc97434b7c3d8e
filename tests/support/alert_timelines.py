"""Synthetic tenant-log timelines for the alert detector's tests: v2 events made with the server's own code table.

:func:`background` is ordinary traffic of a mid-sized tenant: 20,000 people, each logging in from their home
city's ISP or an office NAT shared by dozens of colleagues (and sometimes from a phone), mistyping a password
once or twice before getting in, mistyping their email, signing up (sometimes several colleagues from one
office), logging out, failing an MFA code; delivered a little out of order. (``login-feed simulate``'s normal
mix is not used here: it has 2.5 % blocks and breached passwords, which are exactly what should raise alerts.)
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from typing import Any

from desktop.feed.events import format_utc
from desktop.tenantlog.codes import describe_code

T0 = 1_795_237_200.0  # 2026-11-21T05:00:00Z
CITIES = (("US", "New York", 40.71, -74.01), ("US", "Seattle", 47.61, -122.33), ("GB", "London", 51.51, -0.13),
          ("DE", "Berlin", 52.52, 13.40), ("FR", "Paris", 48.86, 2.35), ("ES", "Madrid", 40.42, -3.70),
          ("BR", "São Paulo", -23.55, -46.63), ("IN", "Bengaluru", 12.97, 77.59), ("JP", "Tokyo", 35.68, 139.69),
          ("AU", "Sydney", -33.87, 151.21), ("NG", "Lagos", 6.52, 3.38), ("VN", "Hanoi", 21.03, 105.85),
          ("CA", "Toronto", 43.65, -79.38), ("MX", "Mexico City", 19.43, -99.13), ("PL", "Warsaw", 52.23, 21.01))
_serial = iter(range(1, 10**12))


def log_id() -> str:
    return f"90020261121{next(_serial):045d}"


def event(code: str, at: float, *, user: str | None = "alice@example.com", user_id: str | None = None,
          ip: str | None = "203.0.113.5", country: str | None = None, city: str | None = None,
          log_id_: str | None = None, **extra: Any) -> dict[str, Any]:
    """A v2 event of Auth0 code ``code`` at epoch ``at`` (``user`` is the name typed: an email here)."""
    info = describe_code(code)
    if user_id is None and user and code != "fu":
        user_id = "auth0|" + hashlib.sha256(user.encode()).hexdigest()[:24]
    return {"v": 2, "log_id": log_id_ or log_id(), "code": code, "kind": info.kind, "outcome": info.outcome,
            "label": info.label, "reason": None, "user_id": user_id if code != "fu" else None, "user_name": user,
            "email": user, "ip": ip, "country": country, "city": city, "at": at, **extra}


class _Person:
    __slots__ = ("city", "email", "home_ip", "phone_ip")

    def __init__(self, rng: random.Random, n: int, offices: list[tuple[str, int]]) -> None:
        self.email = f"person{n}@example.com"
        if rng.random() < 0.4:
            self.home_ip, self.city = offices[rng.randrange(len(offices))]
        else:
            self.city = rng.randrange(len(CITIES))
            self.home_ip = f"100.{64 + n % 64}.{n // 256 % 256}.{n % 256}"
        self.phone_ip = f"100.{rng.randrange(64, 128)}.{rng.randrange(256)}.{rng.randrange(256)}"


def background(seconds: float, rate: float = 20.0, *, seed: int = 1, start: float = T0,
               people: int = 20_000) -> Iterator[dict[str, Any]]:
    """``seconds`` of normal traffic at ``rate`` events/s, ``at`` as the store has it (ISO-8601 UTC)."""
    rng = random.Random(seed)
    offices = [(f"198.18.{k}.1", rng.randrange(len(CITIES))) for k in range(60)]
    crowd = [_Person(rng, n, offices) for n in range(people)]
    pending: list[tuple[float, dict[str, Any]]] = []
    delivery: list[dict[str, Any]] = []
    now = start
    for _ in range(int(seconds * rate)):
        now += rng.expovariate(rate)
        person = crowd[rng.randrange(people)]
        country, city, lat, lon = CITIES[person.city]
        ip = person.phone_ip if rng.random() < 0.2 else person.home_ip
        where = {"country": country, "city": city, "lat": lat + rng.uniform(-0.2, 0.2),
                 "lon": lon + rng.uniform(-0.2, 0.2)}
        roll = rng.random()
        batch: list[tuple[float, str, str]] = []  # (delay, code, user)
        if roll < 0.06:  # a mistyped password or two, then in
            tries = rng.choice((1, 1, 1, 2, 3))
            batch = [(8.0 * k, "fp", person.email) for k in range(tries)] + [(8.0 * tries, "s", person.email)]
        elif roll < 0.08:  # a mistyped email, then the right one
            batch = [(0.0, "fu", person.email.replace("@", "@@")[:-3]), (10.0, "s", person.email)]
        elif roll < 0.11:
            new = f"new{rng.randrange(10**9)}@example.net"
            batch = [(0.0, "ss", new), (2.0, "s", new)]
        elif roll < 0.14:
            batch = [(0.0, "slo", person.email)]
        elif roll < 0.16:
            batch = [(0.0, "gd_auth_failed", person.email), (20.0, "gd_auth_succeed", person.email)]
        elif roll < 0.17:
            batch = [(0.0, "scpr", person.email)]
        else:
            batch = [(0.0, "s", person.email)]
        for delay, code, user in batch:
            pending.append((now + delay, event(code, now + delay, user=user, ip=ip, **where)))
        pending.sort(key=lambda item: item[0])
        while pending and pending[0][0] <= now:
            _, ready = pending.pop(0)
            ready["at"] = format_utc(ready["at"])
            delivery.append(ready)
        if len(delivery) >= 20:  # Auth0 delivers in batches, in any order
            rng.shuffle(delivery)
            yield from delivery
            delivery = []
    for _, ready in pending:
        ready["at"] = format_utc(ready["at"])
        delivery.append(ready)
    yield from delivery
