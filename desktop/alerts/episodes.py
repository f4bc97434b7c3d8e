"""One alert per pattern: the open episodes of each rule and subject, their ids, and the alert events they emit.

**Ids.** An alert's ``log_id`` is ``alert-`` and 32 hex digits of SHA-256 over the rule, the subject (an account,
an IP, or ``tenant``) and the start of the window the pattern was first seen in (the trigger's ``at`` rounded down
to the rule's window). Nothing else goes in: no counter, no clock, no process. So two server replicas running the
same detector over the same store, in the store's order, compute the same ids for the same patterns, and the
store's unique ``log_id`` keeps one alert. A detector restarted mid-attack takes the open alerts up from the
store (:meth:`Episodes.resume`) and goes on updating them. Out-of-order arrival within the lateness moves the trigger
by seconds, which rounds to the same window start except right at a window's edge.

**Updates.** While the pattern goes on, further events join the same episode: the alert is emitted again with the
same ``log_id``, a higher ``updates`` counter, ``last_at`` and the new totals, at most every
``update_every_seconds`` of event time, and once more when the episode closes (``quiet_seconds`` without news)
if anything was not yet told. The store should keep the alert with the highest ``updates`` for a ``log_id``.

**Floods.** Above ``max_open_per_rule`` open episodes of one rule, new subjects join a single ``*`` episode.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import orjson

from desktop.feed.events import format_utc

__all__ = ["MAX_LISTED", "MAX_LISTED_IDS", "RULES", "Episode", "Episodes", "Explain", "alert_id", "counted", "listing",
           "more"]

MAX_LISTED_IDS = 50
MAX_LISTED = 10
"""IPs and accounts an alert lists at most: a list this long may have left some out (see :func:`counted`)."""
MAX_ALERT_BYTES = 7 * 1024
RULES: dict[str, tuple[str, str]] = {  # rule: (label, severity)
    "credential_stuffing": ("Credential stuffing", "high"),
    "brute_force": ("Brute force on one account", "high"),
    "impossible_travel": ("Impossible travel", "high"),
    "breached_password": ("Breached password", "medium"),
    "account_blocked": ("Account blocked by Auth0", "medium"),
    "ip_blocked": ("IP address blocked by Auth0", "medium"),
    "signup_burst": ("Signup burst from one IP", "medium"),
}
FOLDED = "*"
Explain = Callable[["Episode"], str]  #: the one-line explanation of an episode, made when it is emitted


def alert_id(rule: str, subject: str, window_start: float) -> str:
    """The deterministic ``log_id`` of the alert for ``rule`` on ``subject`` first seen in the window starting then."""
    text = f"{rule}\x1f{subject}\x1f{int(window_start)}"
    return "alert-" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


class Episode:
    """What is known of one pattern so far; ``updates`` is 0 on its first emission."""

    __slots__ = ("count", "emitted_at", "explain", "first_at", "ips", "last_at", "log_id", "log_ids",
                 "pending", "person", "place", "rule", "subject", "updates", "users", "window_start")

    def __init__(self, rule: str, subject: str, at: float, window: float) -> None:
        self.rule, self.subject = rule, subject
        self.window_start = at - at % window
        self.log_id = alert_id(rule, subject, self.window_start)
        self.first_at = self.last_at = self.emitted_at = at
        self.count = 0
        self.updates = -1
        self.pending = False
        self.explain: Explain = _nothing
        self.log_ids: list[str] = []
        self.ips: list[str] = []
        self.users: list[str] = []
        self.person: tuple[str | None, str | None, str | None] = (None, None, None)
        self.place: tuple[str | None, str | None] = (None, None)


class Episodes:
    """The open episodes; :meth:`note` and :meth:`close_quiet` return the alert events to store."""

    def __init__(self, update_every: float, quiet: float, max_open: int, lateness: float = 0.0) -> None:
        self._update_every = update_every
        self._quiet = quiet
        # An id's window is at most this wide, so an episode opened after one closed lands in a later window.
        self._widest = max(1.0, quiet - lateness)
        self._max_open = max_open
        self._open: dict[tuple[str, str], Episode] = {}
        self._per_rule: dict[str, int] = dict.fromkeys(RULES, 0)

    def __len__(self) -> int:
        return len(self._open)

    def is_open(self, rule: str, subject: str) -> bool:
        return (rule, subject) in self._open

    def note(self, rule: str, subject: str, at: float, window: float, explain: Explain | None, *,
             since: float | None = None, log_ids: Iterable[str], count: int | None = None,
             ips: Iterable[str | None] = (),
             users: Iterable[str | None] = (),
             person: tuple[str | None, str | None, str | None] | None = None,
             place: tuple[str | None, str | None] | None = None) -> dict[str, Any] | None:
        """Record that ``rule`` matched for ``subject`` at ``at`` (its events since ``since``); the alert to emit now.

        ``explain`` None keeps the episode's explanation (an event joining an alert already open).
        """
        since = at if since is None else since
        key = (rule, subject)
        episode = self._open.get(key)
        if episode is None and self._per_rule[rule] >= self._max_open:
            key = (rule, FOLDED)
            episode = self._open.get(key)
            explain = _folded(self._max_open) if explain is not None else None
        if episode is None:
            episode = self._open[key] = Episode(rule, key[1], since, min(window, self._widest))
            self._per_rule[rule] += 1
        ids = list(log_ids)
        episode.count += len(ids) if count is None else count
        _extend(episode.log_ids, ids, MAX_LISTED_IDS)
        _extend(episode.ips, ips, MAX_LISTED)
        _extend(episode.users, users, MAX_LISTED)
        if person is not None and episode.person == (None, None, None):
            episode.person = person
        if place is not None:
            episode.place = place
        episode.first_at = min(episode.first_at, since)
        episode.last_at = max(episode.last_at, at)
        if explain is not None:
            episode.explain = explain
        episode.pending = True
        if episode.updates < 0 or at - episode.emitted_at >= self._update_every:
            return self._emit(episode, at)
        return None

    def resume(self, alert: Mapping[str, Any], epoch: Callable[[Any], float | None]) -> bool:
        """Take up a stored alert's episode (its id, counters and lists) in place of what this detector has for
        the same rule and subject, unless it already has that alert at least as far; whether it was taken."""
        rule, subject, log_id = alert.get("rule"), alert.get("subject"), alert.get("log_id")
        times = [epoch(alert.get(key)) for key in ("at", "last_at", "window_start")]
        updates, count = alert.get("updates"), alert.get("count")
        counters_ok = all(isinstance(n, int) and not isinstance(n, bool) for n in (updates, count))
        if (not isinstance(rule, str) or rule not in RULES or not isinstance(subject, str)
                or not isinstance(log_id, str) or not counters_ok):
            return False
        first, last, start = times
        if first is None or last is None or start is None:
            return False
        key = (rule, subject)
        known = self._open.get(key)
        if known is not None and known.log_id == log_id and known.updates >= updates:
            return False
        if known is None:
            self._per_rule[rule] += 1
        episode = self._open[key] = Episode(rule, subject, first, 1.0)
        episode.window_start, episode.log_id = start, log_id
        episode.last_at = episode.emitted_at = last
        episode.updates, episode.count = updates, count
        for name, cap in (("log_ids", MAX_LISTED_IDS), ("ips", MAX_LISTED), ("users", MAX_LISTED)):
            listed = alert.get(name)
            _extend(getattr(episode, name), [x for x in listed if isinstance(x, str)] if isinstance(
                listed, list) else [], cap)
        person = tuple(v if isinstance(v, str) else None for v in (alert.get(k) for k in ("user_id", "user_name",
                                                                                          "email")))
        episode.person = (person[0], person[1], person[2])
        country, city = alert.get("country"), alert.get("city")
        episode.place = (country if isinstance(country, str) else None, city if isinstance(city, str) else None)
        text = alert.get("explanation")
        episode.explain = _stored(text if isinstance(text, str) else "")
        return True

    def close_quiet(self, now: float) -> list[dict[str, Any]]:
        """Close the episodes with no news since ``now - quiet``; their final updates, if any were untold."""
        done = [key for key, episode in self._open.items() if episode.last_at < now - self._quiet]
        alerts = []
        for key in done:
            episode = self._open.pop(key)
            self._per_rule[episode.rule] -= 1
            if episode.pending:
                alerts.append(self._emit(episode, episode.last_at))
        return alerts

    def _emit(self, episode: Episode, at: float) -> dict[str, Any]:
        episode.updates += 1
        episode.emitted_at = at
        episode.pending = False
        label, severity = RULES[episode.rule]
        explanation = episode.explain(episode)
        user_id, user_name, email = episode.person
        country, city = episode.place
        alert: dict[str, Any] = {
            "v": 2, "log_id": episode.log_id, "code": "alert", "kind": "alert", "outcome": "warning",
            "label": label, "reason": explanation, "rule": episode.rule, "severity": severity,
            "explanation": explanation, "subject": episode.subject,
            "user_id": user_id, "user_name": user_name, "email": email,
            "ip": episode.ips[0] if episode.ips else None, "ips": list(episode.ips), "users": list(episode.users),
            "country": country, "city": city,
            "at": format_utc(episode.first_at), "window_start": format_utc(episode.window_start),
            "last_at": format_utc(episode.last_at), "updates": episode.updates, "count": episode.count,
            "log_ids": list(episode.log_ids), "log_ids_count": episode.count,
        }
        for key, value in alert.items():  # remote text: the server clips its fields, this holds without it
            limit = 1000 if key in ("reason", "explanation") else 256
            if isinstance(value, str) and len(value) > limit:
                alert[key] = value[: limit - 1] + "…"
        while len(orjson.dumps(alert)) > MAX_ALERT_BYTES and len(alert["log_ids"]) > 1:
            alert["log_ids"] = alert["log_ids"][: len(alert["log_ids"]) // 2]
        return alert


def _nothing(episode: Episode) -> str:
    return ""


def _stored(text: str) -> Explain:
    """A resumed episode keeps its stored explanation; its counters and lists go on updating."""
    return lambda episode: text


def _folded(limit: int) -> Explain:
    """The explanation of the ``*`` episode that holds the subjects beyond ``max_open_per_rule``: its count and
    lists are all of theirs together, so it names them together (a rule's own sentence is about one subject)."""
    def say(e: Episode) -> str:
        parts = [f"More than {limit} at once, told as one: {e.count:,} event{'' if e.count == 1 else 's'}"]
        if e.users:
            parts.append(f"for {counted(e.users, 'account')} ({listing(e.users)})")
        if e.ips:
            parts.append(f"from {counted(e.ips, 'IP')} ({listing(e.ips)})")
        return " ".join(parts)
    return say


def counted(items: Sequence[str], word: str) -> str:
    """``"4 IPs"``; ``"at least 10 IPs"`` for a list as long as an alert lists (:data:`MAX_LISTED`): a count is
    never said more precisely than it is known."""
    n = len(items)
    return ("at least " if n >= MAX_LISTED else "") + f"{n:,} {word}{'' if n == 1 else 's'}"


def more(items: Sequence[str], shown: int) -> str:
    """``" and 7 more"`` after the first ``shown`` of ``items`` (``" and at least 7 more"`` for a full list),
    or ``""``."""
    rest = len(items) - shown
    if rest <= 0:
        return ""
    return f" and {'at least ' if len(items) >= MAX_LISTED else ''}{rest:,} more"


def listing(items: Sequence[str], shown: int = 3) -> str:
    """``"a, b, c and 1 more"``: a sentence never names three while saying four (nor four while listing ten)."""
    return ", ".join(items[:shown]) + more(items, shown)


def _extend(target: list[str], items: Iterable[str | None], cap: int) -> None:
    for item in items:
        if len(target) >= cap:
            return
        if item and item not in target:
            target.append(item[:256])
