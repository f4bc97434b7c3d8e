"""One pattern, one alert: deterministic ids, updates instead of floods, lateness, batching, two replicas."""

from __future__ import annotations

import itertools
import random
from datetime import datetime
from typing import Any

import orjson
import pytest
from support.alert_timelines import T0, background, event

from desktop.alerts import AlertDetector, AlertsConfig, alert_id
from desktop.feed.events import format_utc


def hour_long_attack(start: float = T0 + 5) -> list[dict[str, Any]]:
    """A password-guessing script on one account, one try every 10 s for an hour."""
    return [event("fp", start + k * 10.0, user="alice@example.com", ip=f"203.0.113.{k % 4}") for k in range(360)]


def later(seconds: float) -> dict[str, Any]:
    return event("s", T0 + seconds, user="someone@example.com", ip="100.64.0.1")


def test_an_hour_long_attack_is_one_alert_that_updates() -> None:
    detector = AlertDetector()
    alerts = detector.feed([*hour_long_attack(), later(3605 + 901), later(3605 + 915)])
    assert {a["log_id"] for a in alerts} == {alerts[0]["log_id"]}
    assert [a["updates"] for a in alerts] == list(range(len(alerts)))
    assert len(alerts) <= 3600 // 300 + 2  # at most one update per update_every_seconds, and the final one
    assert all(b["last_at"] > a["last_at"] for a, b in itertools.pairwise(alerts))
    final = alerts[-1]
    assert final["count"] == final["log_ids_count"] == 360 and len(final["log_ids"]) == 50
    assert final["at"] == format_utc(T0 + 5) and final["last_at"] == format_utc(T0 + 5 + 3590)
    assert final["explanation"].startswith("360 failed logins for alice@example.com in 60 minutes from 4 IPs")
    assert detector.stats()["open_alerts"] == 0


def test_the_same_pattern_after_a_quiet_spell_is_a_new_alert() -> None:
    first = hour_long_attack()[:12]
    second = hour_long_attack(start=T0 + 2000)[:12]
    alerts = AlertDetector().feed([*first, *second])
    assert [a["updates"] for a in alerts] == [0, 1, 0]  # the first closes with its last news before the second
    assert alerts[0]["log_id"] == alerts[1]["log_id"] != alerts[2]["log_id"]


def test_alert_ids_depend_only_on_rule_subject_and_window() -> None:
    assert alert_id("brute_force", "alice@example.com", T0) == alert_id("brute_force", "alice@example.com", T0)
    others = {alert_id("brute_force", "bob@example.com", T0), alert_id("credential_stuffing", "alice@example.com", T0),
              alert_id("brute_force", "alice@example.com", T0 + 300)}
    assert alert_id("brute_force", "alice@example.com", T0) not in others and len(others) == 3
    assert alert_id("x", "y", 0).startswith("alert-") and len(alert_id("x", "y", 0)) == 38


def mixed_stream() -> list[dict[str, Any]]:
    attack = hour_long_attack()[:30]
    stuffing = [event("fu", T0 + 120 + k, user=f"victim{k}@breach.example", ip="198.51.100.66") for k in range(40)]
    travel = [event("s", T0 + 200, user="bob@example.com", country="GB", city="London", lat=51.5, lon=-0.1),
              event("s", T0 + 1400, user="bob@example.com", country="JP", city="Tokyo", lat=35.7, lon=139.7)]
    leak = [event("pwd_leak", T0 + 500, user="carol@example.com")]
    return sorted([*background(900, 20.0, seed=7), *attack, *stuffing, *travel, *leak], key=_epoch)


def _epoch(e: dict[str, Any]) -> float:
    return e["at"] if isinstance(e["at"], float) else datetime.fromisoformat(e["at"]).timestamp()


def test_two_replicas_fed_the_same_store_in_different_batchings_raise_the_same_alerts() -> None:
    stream = mixed_stream()
    one = AlertDetector()
    by_event = [alert for e in stream for alert in one.observe(e)]
    other, rng, by_batch, i = AlertDetector(), random.Random(3), [], 0
    while i < len(stream):
        size = rng.choice((1, 7, 100, 1000))
        by_batch += other.feed(stream[i:i + size])
        i += size
    assert by_event == by_batch
    assert {a["rule"] for a in by_event} == {"brute_force", "credential_stuffing", "impossible_travel",
                                              "breached_password"}
    assert orjson.dumps(by_event) == orjson.dumps(by_batch)


def test_out_of_order_within_the_lateness_finds_the_same_alerts() -> None:
    stream = mixed_stream()
    shuffled = list(stream)
    rng = random.Random(5)
    for start in range(0, len(shuffled), 50):  # Auth0 delivers in any order, within seconds
        chunk = shuffled[start:start + 50]
        rng.shuffle(chunk)
        shuffled[start:start + 50] = chunk
    in_order = AlertDetector().feed(stream)
    out_of_order = AlertDetector().feed(shuffled)
    assert {(a["rule"], a["log_id"]) for a in in_order} == {(a["rule"], a["log_id"]) for a in out_of_order}


def test_events_later_than_the_lateness_are_left_out_and_counted() -> None:
    detector = AlertDetector(AlertsConfig(lateness_seconds=60))
    detector.feed([later(1000)])
    assert detector.feed(hour_long_attack(start=T0 + 800)[:12]) == []  # 200 s too late
    assert detector.stats()["too_late"] == 12
    assert detector.feed(hour_long_attack(start=T0 + 950)[:10])[0]["rule"] == "brute_force"


def test_alerts_fed_back_are_ignored_and_unusable_times_counted() -> None:
    detector = AlertDetector()
    alerts = detector.feed(hour_long_attack()[:10])
    assert detector.feed(alerts * 20) == []
    detector.feed([event("fp", "yesterday"), event("fp", None), event("fp", True)])  # type: ignore[arg-type]
    assert detector.stats()["without_time"] == 3


@pytest.mark.parametrize("at", [format_utc(T0 + 5), "2026-11-21T05:00:05", "2026-11-21T06:00:05+01:00", T0 + 5])
def test_at_as_iso_with_or_without_zone_or_as_epoch(at: Any) -> None:
    timeline = hour_long_attack()[:10]
    timeline[0] = {**timeline[0], "at": at}
    [alert] = AlertDetector().feed(timeline)
    assert alert["at"] == format_utc(T0 + 5)


def test_too_many_subjects_at_once_are_folded_into_one_alert() -> None:
    timeline = sorted((event("fp", T0 + 5 + k * 10 + n, user=f"user{n}@example.com") for n in range(5)
                       for k in range(10)), key=lambda e: e["at"])
    alerts = AlertDetector(AlertsConfig(max_open_per_rule=2, credential_stuffing=False)).feed(timeline)
    assert [a["subject"] for a in alerts] == ["user0@example.com", "user1@example.com", "*"]
    assert alerts[2]["explanation"].startswith("More than 2 at once, told as one: 10 events for 1 account (user2")


def test_an_alert_stays_under_the_event_size_budget() -> None:
    long_names = [event("fu", T0 + k * 0.1, user=("x" * 240) + f"{k}@breach.example", ip=f"198.51.100.{k % 3}")
                  for k in range(2000)]
    alerts = AlertDetector().feed(long_names)
    assert alerts and all(len(orjson.dumps(a)) <= 7 * 1024 for a in alerts)
    print(f"largest alert: {max(len(orjson.dumps(a)) for a in alerts)} bytes")


class AlertRows:
    """What the store must do with alerts: one row per ``log_id``, the version with the most ``updates`` kept."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[str, Any]] = {}

    def add(self, alerts: list[dict[str, Any]]) -> None:
        for alert in alerts:
            known = self.rows.get(alert["log_id"])
            if known is None or alert["updates"] > known["updates"]:
                self.rows[alert["log_id"]] = alert


def test_a_restarted_detector_goes_on_updating_the_same_alert() -> None:
    attack = hour_long_attack()
    store = AlertRows()
    store.add(AlertDetector().feed(attack[:180]))  # half an hour in, the server restarts
    [before] = store.rows.values()
    restarted = AlertDetector()
    rebuilt = restarted.feed(attack[120:180])  # it replays the last ten minutes from the store, alerts dropped ...
    assert rebuilt and rebuilt[0]["log_id"] != before["log_id"]  # ... which alone would look like a new attack
    assert restarted.resume(store.rows.values()) == 1  # the stored alert wins for that account
    store.add(restarted.feed([*attack[180:], later(3605 + 901), later(3605 + 915)]))
    assert set(store.rows) == {before["log_id"]}
    after = store.rows[before["log_id"]]
    assert after["updates"] > before["updates"] and after["count"] >= before["count"] + 180
    assert after["at"] == before["at"] and after["last_at"] == format_utc(T0 + 5 + 3590)


def test_resume_ignores_what_is_not_an_alert_it_knows() -> None:
    detector = AlertDetector()
    [alert] = AlertDetector().feed(hour_long_attack()[:10])
    assert detector.resume([{**alert, "rule": "unheard_of"}, {**alert, "updates": "1"}, {**alert, "at": None},
                            {**alert, "kind": "login"}]) == 0
    assert detector.resume([alert]) == 1 and detector.resume([alert]) == 0


def test_garbage_in_any_field_is_survived() -> None:
    detector = AlertDetector()
    rng = random.Random(9)
    values = [None, 0, -1, 1e308, float("nan"), True, "", "x" * 10_000, [], {}, "203.0.113.5", "GB", T0, "fp",
              "2026-11-21T05:00:00Z", "9999-12-31T23:59:59", "login", "success", 91.0, -181.0]
    keys = ["code", "kind", "outcome", "user_id", "user_name", "email", "ip", "country", "city", "at", "log_id",
            "lat", "lon", "rule", "subject", "updates", "count"]
    codes = ["fp", "fu", "ss", "s", "limit_wc", "limit_mu", "pwd_leak", "x"]
    alerts = 0
    for n in range(5000):
        garbage = {key: rng.choice(values) for key in keys if rng.random() < 0.7}
        if rng.random() < 0.8:  # mostly in time and of a code some rule reads, so the rules see the garbage
            garbage |= {"at": T0 + n * 0.2, "code": rng.choice(codes), "kind": "login", "outcome": "success"}
        for alert in detector.observe(garbage):
            assert len(orjson.dumps(alert)) <= 7 * 1024
            alerts += 1
        detector.resume([{key: rng.choice(values) for key in keys} | {"kind": "alert"}])
    assert alerts > 0
    print(detector.stats())
