"""The alert detector: v2 events in, alert events out; pure (no clock, no IO), time comes with the events.

The server runs one :class:`AlertDetector` over the stored events in the store's order (``feed`` takes any
batching: the result is the same event by event). Event time is each event's ``at`` (ISO-8601 UTC, or epoch
seconds). The detector's *now* is the latest ``at`` it has seen; an event more than ``lateness_seconds`` older
than that is too late and is left out of every rule (Auth0 delivers in any order, but by a little; a backfill of
last week must not raise last week's alerts), and counted in :meth:`AlertDetector.stats`. Alerts (kind ``alert``)
fed back in are ignored. Every ``SWEEP_SECONDS`` of event time, idle subjects are forgotten and quiet alerts
closed (see :mod:`desktop.alerts.episodes` for ids, updates and the two-replica story).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from desktop.alerts import explain
from desktop.alerts.config import AlertsConfig
from desktop.alerts.episodes import Episodes
from desktop.alerts.geo import spot_of
from desktop.alerts.stuffing import StuffingWatch, Verdict
from desktop.alerts.travel import TravelWatch
from desktop.alerts.windows import CountWindows, Hit

__all__ = ["AlertDetector"]

SWEEP_SECONDS = 10.0
FAILED_LOGINS = frozenset({"fp", "fu"})
SIGNUPS = frozenset({"ss", "fs"})
INSTANT: dict[str, tuple[str, str]] = {  # code: (rule, the config switch)
    "limit_wc": ("account_blocked", "blocks"),
    "limit_sul": ("account_blocked", "blocks"),
    "limit_mu": ("ip_blocked", "blocks"),
    "pwd_leak": ("breached_password", "breached_passwords"),
    "signup_pwd_leak": ("breached_password", "breached_passwords"),
    "reset_pwd_leak": ("breached_password", "breached_passwords"),
}
TENANT = "tenant"
_EARLIEST, _LATEST = 946_684_800.0, 4_102_444_800.0  # 2000-01-01, 2100-01-01

Alert = dict[str, Any]


class AlertDetector:
    """Feed it stored v2 events; it returns the alert events (new ones and updates) to store and publish."""

    def __init__(self, config: AlertsConfig | None = None) -> None:
        self.config = c = config or AlertsConfig()
        self._episodes = Episodes(c.update_every_seconds, c.quiet_seconds, c.max_open_per_rule, c.lateness_seconds)
        self._brute = CountWindows(c.brute_force_window_seconds, c.brute_force_failures, c.lateness_seconds)
        self._signups = CountWindows(c.signup_burst_window_seconds, c.signup_burst_count, c.lateness_seconds)
        self._stuffing = StuffingWatch(c)
        self._travel = TravelWatch(c.travel_speed_kmh, c.travel_min_km, c.travel_window_seconds)
        self._instant = {code: rule for code, (rule, switch) in INSTANT.items() if getattr(c, switch)}
        self._high: float | None = None
        self._next_sweep = 0.0
        self._counts = {"events": 0, "too_late": 0, "without_time": 0, "alerts": 0}

    def feed(self, events: Iterable[Mapping[str, Any]]) -> list[Alert]:
        """The alerts that ``events`` (in this order) raise or update."""
        out: list[Alert] = []
        for event in events:
            self._observe(event, out)
        return out

    def observe(self, event: Mapping[str, Any]) -> list[Alert]:
        """The alerts one event raises or updates (usually none)."""
        out: list[Alert] = []
        self._observe(event, out)
        return out

    def resume(self, alerts: Iterable[Mapping[str, Any]]) -> int:
        """Take up the open alerts from the store after a restart (or on a replica taking over); how many.

        The recipe: feed the store's recent events (the last ``stuffing_baseline_seconds`` plus the lateness,
        in the store's order) and drop the alerts they raise; then give this the latest version of each stored
        alert whose ``last_at`` is within ``quiet_seconds`` of them: the stored ids and counters win over what
        the replay rebuilt, so an attack that outlived the restart goes on updating the same alert (its count
        misses at most the events between its last emission and the restart). Then feed the new events.
        """
        taken = 0
        for alert in alerts:
            if alert.get("kind") == "alert":
                taken += self._episodes.resume(alert, _epoch)
        return taken

    def stats(self) -> dict[str, int]:
        """Counters and the sizes of the tables, for logs and the benchmark."""
        return {**self._counts, "open_alerts": len(self._episodes), "accounts_failing": len(self._brute),
                "ips_failing": len(self._stuffing), "ips_signing_up": len(self._signups),
                "accounts_located": len(self._travel)}

    # -- one event --

    def _observe(self, event: Mapping[str, Any], out: list[Alert]) -> None:
        if event.get("kind") == "alert":
            return
        at = _epoch(event.get("at"))
        counts = self._counts
        if at is None:
            counts["without_time"] += 1
            return
        counts["events"] += 1
        high = self._high
        if high is None:
            high = self._high = at
            self._next_sweep = at + SWEEP_SECONDS
            self._stuffing.started(at)
        elif at > high:
            high = self._high = at
        elif at < high - self.config.lateness_seconds:
            counts["too_late"] += 1
            return
        before = len(out)
        if high >= self._next_sweep:
            self._sweep(high, out)
        code = _str(event.get("code"))
        if code in FAILED_LOGINS:
            self._failed_login(event, at, high, out)
        elif code in SIGNUPS:
            if self.config.signup_burst:
                self._signup(event, at, high, out)
        elif code in self._instant:
            self._instant_alert(self._instant[code], code, event, at, out)
        elif event.get("kind") == "login" and event.get("outcome") == "success":
            if self.config.credential_stuffing:
                self._stuffing.success(_str(event.get("ip")))
            if self.config.impossible_travel:
                self._login(event, at, out)
        counts["alerts"] += len(out) - before

    def _failed_login(self, event: Mapping[str, Any], at: float, high: float, out: list[Alert]) -> None:
        config = self.config
        account = _account(event)
        if account is None:
            return
        hit = Hit(at, _str(event.get("log_id")), _str(event.get("ip")), account)
        episodes = self._episodes
        if config.credential_stuffing:
            is_open = episodes.is_open("credential_stuffing", TENANT)
            verdict = self._stuffing.failure(hit, account, high, is_open)
            window = self._stuffing.window
            if isinstance(verdict, Verdict):
                why = explain.stuffing(verdict, window)
                hits = verdict.hits
                _add(out, episodes.note("credential_stuffing", TENANT, at, window, why,
                                        since=hits[0].at if hits else at, log_ids=[h.log_id for h in hits],
                                        ips=verdict.ips, users=[h.who for h in hits],
                                        count=verdict.surge[0] if verdict.surge else None))
            elif verdict:
                _add(out, episodes.note("credential_stuffing", TENANT, at, window, None, log_ids=[hit.log_id],
                                        ips=[hit.ip], users=[account]))
        if config.brute_force:
            window = config.brute_force_window_seconds
            if episodes.is_open("brute_force", account):
                _add(out, episodes.note("brute_force", account, at, window, None, log_ids=[hit.log_id],
                                        ips=[hit.ip]))
                return
            hits = self._brute.add(account, hit, high)
            if hits:
                _add(out, episodes.note("brute_force", account, hits[-1].at, window, explain.brute_force(event),
                                        since=hits[0].at, log_ids=[h.log_id for h in hits], ips=[h.ip for h in hits],
                                        users=[account], person=_person(event)))

    def _signup(self, event: Mapping[str, Any], at: float, high: float, out: list[Alert]) -> None:
        ip = _str(event.get("ip"))
        if not ip:
            return
        hit = Hit(at, _str(event.get("log_id")), ip, _account(event) or "")
        hits = [hit] if self._episodes.is_open("signup_burst", ip) else self._signups.add(ip, hit, high)
        if hits:
            window = self.config.signup_burst_window_seconds
            _add(out, self._episodes.note("signup_burst", ip, hits[-1].at, window, explain.signup_burst,
                                          since=hits[0].at, log_ids=[h.log_id for h in hits], ips=[ip],
                                          users=[h.who for h in hits], place=_place(event)))

    def _instant_alert(self, rule: str, code: str, event: Mapping[str, Any], at: float, out: list[Alert]) -> None:
        ip = _str(event.get("ip"))
        subject = ip if rule == "ip_blocked" else _account(event) or ip
        if not subject:
            return
        _add(out, self._episodes.note(rule, subject, at, self.config.quiet_seconds, explain.instant(code, event),
                                      log_ids=[_str(event.get("log_id"))], ips=[ip], users=[_account(event)],
                                      person=_person(event), place=_place(event)))

    def _login(self, event: Mapping[str, Any], at: float, out: list[Alert]) -> None:
        spot = spot_of(event)
        user_id = event.get("user_id")
        account = user_id if isinstance(user_id, str) and user_id else _account(event)
        if spot is None or account is None:
            return
        place = _place(event)
        ip, log_id = _str(event.get("ip")), _str(event.get("log_id"))
        journey = self._travel.login(account, at, spot, place, ip=ip, log_id=log_id)
        if journey is not None:
            _add(out, self._episodes.note("impossible_travel", account, at, self.config.quiet_seconds,
                                          explain.travel(event, journey), log_ids=[journey.before_log_id, log_id],
                                          ips=[ip, journey.before_ip], users=[_account(event)],
                                          person=_person(event), place=place))

    def _sweep(self, high: float, out: list[Alert]) -> None:
        self._next_sweep = high + SWEEP_SECONDS
        out.extend(self._episodes.close_quiet(high))
        self._brute.sweep(high)
        self._signups.sweep(high)
        self._stuffing.sweep(high)
        self._travel.sweep(high)


def _add(out: list[Alert], alert: Alert | None) -> None:
    if alert is not None:
        out.append(alert)


def _epoch(value: Any) -> float | None:
    """Epoch seconds from ``at``: a number as it is, ISO-8601 parsed (no zone means UTC); None when unusable
    (not a time, or outside 2000-2100: nothing Auth0 sends, and it would stop the detector's clock)."""
    if isinstance(value, float | int) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str) and len(value) <= 64:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        seconds = parsed.timestamp()
    else:
        return None
    return seconds if _EARLIEST <= seconds < _LATEST else None


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _account(event: Mapping[str, Any]) -> str | None:
    """The account an attempt was for: the name typed (lower case; ``fu`` has no user id), else the user id."""
    for key in ("user_name", "email"):
        name = event.get(key)
        if isinstance(name, str) and name:
            return name.lower()
    user_id = event.get("user_id")
    return user_id if isinstance(user_id, str) and user_id else None


def _person(event: Mapping[str, Any]) -> tuple[str | None, str | None, str | None]:
    return (event.get("user_id") or None, event.get("user_name") or None, event.get("email") or None)


def _place(event: Mapping[str, Any]) -> tuple[str | None, str | None]:
    return (event.get("country") or None, event.get("city") or None)
