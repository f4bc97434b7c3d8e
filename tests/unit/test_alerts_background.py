"""Ordinary traffic raises nothing; the same traffic with an attack in it raises exactly that attack's alert."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from support.alert_timelines import T0, background, event

from desktop.alerts import AlertDetector


def test_ten_minutes_of_normal_traffic_raise_nothing() -> None:
    stream = list(background(600, 20.0))
    detector = AlertDetector()
    assert detector.feed(stream) == []
    codes = Counter(e["code"] for e in stream)
    print(f"{len(stream)} events, {codes['fp'] + codes['fu']} failed logins, {codes['ss']} signups: no alert; "
          f"{detector.stats()}")


ATTACKS: dict[str, list[dict[str, Any]]] = {
    "credential_stuffing": [event("fu", T0 + 300 + k * 3, user=f"victim{k}@breach.example",
                                  ip=("198.51.100.66", "203.0.113.99")[k % 2]) for k in range(60)],
    "brute_force": [event("fp", T0 + 300 + k * 15, user="person17@example.com", ip="203.0.113.7")
                    for k in range(15)],
    "impossible_travel": [event("s", T0 + 300, user="person18@example.com", country="US", city="New York",
                                lat=40.7, lon=-74.0),
                          event("s", T0 + 900, user="person18@example.com", country="DE", city="Berlin",
                                lat=52.5, lon=13.4)],
    "signup_burst": [event("ss", T0 + 300 + k * 4, user=f"bot{k}@example.net", ip="192.0.2.50") for k in range(12)],
}


@pytest.mark.parametrize("rule", sorted(ATTACKS))
def test_an_attack_inside_normal_traffic_raises_its_alert_once(rule: str) -> None:
    stream = sorted([*background(600, 20.0, seed=2), *ATTACKS[rule]], key=_epoch)
    alerts = AlertDetector().feed(stream)
    assert {a["rule"] for a in alerts} == {rule}
    assert len({a["log_id"] for a in alerts}) == 1


def _epoch(e: dict[str, Any]) -> float:
    from datetime import datetime

    return e["at"] if isinstance(e["at"], float) else datetime.fromisoformat(e["at"]).timestamp()
