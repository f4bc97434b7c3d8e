"""Alert events as the server publishes them: made by the real detector (:mod:`desktop.alerts`) from synthetic
tenant-log timelines, so the window is tested against the alerts the server really emits."""

from __future__ import annotations

from typing import Any

from desktop.alerts import AlertDetector, AlertsConfig
from desktop.feed.events import format_utc
from support.alert_timelines import T0, event


def brute_force(user: str = "alice@example.com", *, failures: int = 10, start: float = T0,
                ip: str = "203.0.113.5") -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``failures`` failed logins for ``user`` a second apart: (the events, the alerts they raise in order).
    With more than 10 failures spread over more than five minutes the same alert is updated."""
    detector = AlertDetector(AlertsConfig(update_every_seconds=60.0))
    events = [event("fp", start + i * (40 if i >= 10 else 1), user=user, ip=ip) for i in range(failures)]
    for ev in events:
        ev["at"] = format_utc(ev["at"])
    alerts = detector.feed(events)
    for n, alert in enumerate(alerts, start=1):
        alert["cursor"] = f"alert-cursor-{n}"
    return events, alerts


def breached(user: str, at: float = T0, ip: str = "198.51.100.7") -> tuple[dict[str, Any], dict[str, Any]]:
    """A breached-password login and its (medium) alert."""
    ev = event("pwd_leak", at, user=user, ip=ip)
    ev["at"] = format_utc(at)
    (alert,) = AlertDetector().feed([ev])
    return ev, alert
