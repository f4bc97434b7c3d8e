"""Sample people and their v1 feed events for ``login-feed simulate``: pure and seeded.

:class:`SampleEvents` generates ``(event_name, payload)`` pairs shaped like our Auth0 Action's v1 payload:
people from many cultures (:mod:`desktop.simulate.data`), about one signup in ten, and a pool of returning
users so the same people log in again and again (with growing ``logins_count``). The log-stream source
(:mod:`desktop.simulate.logstream`) builds its tenant-log records on the same people.
"""

from __future__ import annotations

import hashlib
import math
import random
import time
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from desktop.simulate.data import (
    APPLICATIONS,
    ASCII_FOLD,
    CONNECTIONS,
    CULTURES,
    EMAIL_DOMAINS,
    IP_PREFIXES,
    Culture,
    NamePart,
)

__all__ = ["LOGIN_EVENT", "SIGNUP_EVENT", "Event", "SampleEvents", "iso_utc_ms"]

Event = tuple[str, dict[str, Any]]

SIGNUP_EVENT = "user-signedUp"
LOGIN_EVENT = "user-loggedIn"


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
