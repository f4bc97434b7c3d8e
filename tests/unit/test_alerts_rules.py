"""Each alert rule driven by a synthetic timeline, with the near-misses that must stay silent."""

from __future__ import annotations

from typing import Any

import pytest
from support.alert_timelines import T0, event

from desktop.alerts import AlertDetector, AlertsConfig


def run(events: list[dict[str, Any]], **config: Any) -> list[dict[str, Any]]:
    return AlertDetector(AlertsConfig(**config)).feed(events)


def rules(alerts: list[dict[str, Any]]) -> list[str]:
    return [a["rule"] for a in alerts]


def failures(user: str, count: int, every: float, *, start: float = T0 + 5, ips: tuple[str, ...] = ("203.0.113.5",),
             code: str = "fp") -> list[dict[str, Any]]:
    return [event(code, start + k * every, user=user, ip=ips[k % len(ips)]) for k in range(count)]


# -- brute force on one account --

def test_brute_force_ten_failures_in_minutes_from_two_ips() -> None:
    timeline = failures("alice@example.com", 10, 25.0, ips=("203.0.113.5", "198.51.100.7"))
    [alert] = run(timeline)
    assert alert["rule"] == "brute_force" and alert["severity"] == "high"
    assert alert["kind"] == "alert" and alert["outcome"] == "warning" and alert["v"] == 2
    assert alert["user_name"] == "alice@example.com" and alert["user_id"] == timeline[0]["user_id"]
    assert alert["log_ids"] == [e["log_id"] for e in timeline] and alert["log_ids_count"] == 10
    assert set(alert["ips"]) == {"203.0.113.5", "198.51.100.7"}
    assert alert["explanation"].startswith("10 failed logins for alice@example.com in 4 minutes from 2 IPs")
    assert "(203.0.113.5, 198.51.100.7) — " in alert["explanation"] and "consider blocking them" in alert["explanation"]
    assert alert["reason"] == alert["explanation"] and alert["label"] == "Brute force on one account"


@pytest.mark.parametrize(("count", "every"), [(9, 25.0), (10, 40.0)], ids=["nine-in-window", "ten-over-six-minutes"])
def test_brute_force_near_misses(count: int, every: float) -> None:
    assert run(failures("alice@example.com", count, every)) == []


def test_brute_force_counts_unknown_user_attempts_for_the_name_typed() -> None:
    timeline = failures("Bob@Example.com", 5, 10.0) + failures("bob@example.com", 5, 10.0, start=T0 + 60, code="fu")
    assert rules(run(sorted(timeline, key=lambda e: e["at"]))) == ["brute_force"]


def test_failures_spread_over_many_accounts_are_not_brute_force() -> None:
    timeline = [e for n in range(6) for e in failures(f"user{n}@example.com", 5, 30.0, start=T0 + n)]
    assert run(sorted(timeline, key=lambda e: e["at"]), credential_stuffing=False) == []


# -- credential stuffing --

def stuffing(accounts: int, ips: tuple[str, ...], every: float = 6.0, start: float = T0 + 5) -> list[dict[str, Any]]:
    return [event("fu" if k % 3 else "fp", start + k * every, user=f"victim{k}@breach.example", ip=ips[k % len(ips)])
            for k in range(accounts)]


def test_stuffing_many_accounts_from_one_ip() -> None:
    [alert] = run(stuffing(20, ("203.0.113.99",)))
    assert alert["rule"] == "credential_stuffing" and alert["subject"] == "tenant"
    assert alert["ips"] == ["203.0.113.99"] and alert["log_ids_count"] == 20
    assert alert["explanation"] == ("20 accounts failed to log in from 1 IP in 2 minutes — likely credential "
                                    "stuffing; consider blocking 203.0.113.99")


def test_stuffing_from_a_few_ips_names_them_busiest_first() -> None:
    timeline = stuffing(21, ("198.51.100.66", "203.0.113.99", "192.0.2.201")) + stuffing(
        1, ("198.51.100.66",), start=T0 + 200)
    alerts = run(timeline)
    assert rules(alerts) == ["credential_stuffing"]
    assert alerts[0]["ips"][0] == "198.51.100.66" and len(alerts[0]["ips"]) == 3
    assert "from 3 IPs" in alerts[0]["explanation"]


@pytest.mark.parametrize(("accounts", "ips", "every"), [
    (19, ("203.0.113.99",), 6.0),  # one account short
    (40, ("203.0.113.99",), 75.0),  # forty accounts, but over fifty minutes
    (20, ("192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4", "192.0.2.5"), 6.0),  # 4 each: no IP is hot
], ids=["19-accounts", "slow", "spread-over-five-ips"])
def test_stuffing_near_misses(accounts: int, ips: tuple[str, ...], every: float) -> None:
    assert run(stuffing(accounts, ips, every), brute_force=False) == []


def test_an_office_where_many_log_in_and_some_mistype_is_not_stuffing() -> None:
    office = "198.18.0.1"
    timeline = [event("s", T0 + 3 * k, user=f"colleague{k}@example.com", ip=office) for k in range(40)]
    timeline += stuffing(20, (office,), start=T0 + 1)
    assert run(sorted(timeline, key=lambda e: e["at"])) == []


def background_failures(minutes: int, per_minute: int, start: float) -> list[dict[str, Any]]:
    """Failures the tenant always has: different people, different addresses."""
    return [event("fp", start + m * 60 + k * 60 / per_minute, user=f"typo{m}-{k}@example.com",
                  ip=f"100.64.{m}.{k}") for m in range(minutes) for k in range(per_minute)]


def test_stuffing_surge_far_above_the_usual_rate() -> None:
    usual = background_failures(20, 10, T0)
    surge = background_failures(5, 60, T0 + 20 * 60)
    alerts = run(usual + surge)
    assert rules(alerts) == ["credential_stuffing"]
    assert "times the usual 50 — likely credential stuffing" in alerts[0]["explanation"]


@pytest.mark.parametrize("history", [0, 20], ids=["no-history", "three-times-the-usual"])
def test_stuffing_surge_near_misses(history: int) -> None:
    usual = background_failures(history, 10, T0)
    rise = background_failures(5, 30 if history else 60, T0 + history * 60)
    assert run(usual + rise) == []


# -- impossible travel --

LONDON = {"country": "GB", "city": "London", "lat": 51.51, "lon": -0.13}
SYDNEY = {"country": "AU", "city": "Sydney", "lat": -33.87, "lon": 151.21}
PARIS = {"country": "FR", "city": "Paris", "lat": 48.86, "lon": 2.35}
NEW_YORK = {"country": "US", "city": "New York", "lat": 40.71, "lon": -74.01}


def trip(first: dict[str, Any], second: dict[str, Any], hours: float, ips: tuple[str, str] = ("81.2.69.142",
                                                                                             "1.1.1.1")):
    return [event("s", T0 + 5, user="bob@example.com", ip=ips[0], **first),
            event("s", T0 + 5 + hours * 3600, user="bob@example.com", ip=ips[1], **second)]


def test_impossible_travel_london_to_sydney_in_an_hour() -> None:
    timeline = trip(LONDON, SYDNEY, 1.0)
    [alert] = run(timeline)
    assert alert["rule"] == "impossible_travel" and alert["user_name"] == "bob@example.com"
    assert alert["ips"] == ["1.1.1.1", "81.2.69.142"] and alert["log_ids"] == [e["log_id"] for e in timeline]
    assert alert["country"] == "AU" and alert["city"] == "Sydney"
    assert alert["explanation"].startswith("bob@example.com logged in from London, GB (81.2.69.142) and 60 minutes "
                                           "later from Sydney, AU (1.1.1.1), at least 16,")


def test_impossible_travel_from_countries_alone() -> None:
    first, second = ({k: v for k, v in place.items() if k == "country"} for place in (LONDON, SYDNEY))
    assert rules(run(trip(first, second, 1.0))) == ["impossible_travel"]


@pytest.mark.parametrize(("first", "second", "hours"), [
    (LONDON, PARIS, 0.5),  # 340 km: too close to tell from GeoIP
    (LONDON, NEW_YORK, 10.0),  # a flight
    (LONDON, {**LONDON, "lat": 51.7}, 0.01),  # same city, another address
    ({"country": "US"}, {"country": "CA"}, 0.2),  # neighbours known only by country: could be Detroit and Windsor
    (LONDON, {"country": None}, 0.1),  # nowhere known
], ids=["london-paris", "flight", "same-city", "neighbour-countries", "unknown-place"])
def test_impossible_travel_near_misses(first: dict[str, Any], second: dict[str, Any], hours: float) -> None:
    assert run(trip(first, second, hours)) == []


def test_failed_logins_do_not_move_anyone() -> None:
    timeline = [event("s", T0, user="bob@example.com", **LONDON),
                event("fp", T0 + 600, user="bob@example.com", **SYDNEY)]
    assert run(timeline) == []


# -- blocks and breached passwords --

@pytest.mark.parametrize(("code", "rule", "named"), [
    ("limit_wc", "account_blocked", "alice@example.com"),
    ("limit_mu", "ip_blocked", "203.0.113.5"),
    ("pwd_leak", "breached_password", "alice@example.com"),
    ("signup_pwd_leak", "breached_password", "alice@example.com"),
    ("reset_pwd_leak", "breached_password", "alice@example.com"),
])
def test_blocks_and_breached_passwords_each_raise_an_alert(code: str, rule: str, named: str) -> None:
    [alert] = run([event(code, T0, user="alice@example.com", ip="203.0.113.5")])
    assert alert["rule"] == rule and alert["subject"] == named and alert["explanation"].startswith(
        "Auth0 blocked" if code.startswith("limit") else "alice@example.com")
    assert named in alert["explanation"] and alert["severity"] == "medium"


def test_switched_off_blocks_and_breaches_stay_silent() -> None:
    timeline = [event(code, T0 + k) for k, code in enumerate(("limit_wc", "limit_mu", "pwd_leak"))]
    assert run(timeline, blocks=False, breached_passwords=False) == []


# -- signup burst --

def signups(count: int, every: float, ips: tuple[str, ...] = ("192.0.2.99",)) -> list[dict[str, Any]]:
    return [event("ss", T0 + 5 + k * every, user=f"bot{k}@example.net", ip=ips[k % len(ips)]) for k in range(count)]


def test_signup_burst_from_one_ip() -> None:
    [alert] = run(signups(10, 5.0))
    assert alert["rule"] == "signup_burst" and alert["ip"] == "192.0.2.99" and len(alert["users"]) == 10
    assert alert["explanation"].startswith("10 signups from 192.0.2.99 in 45 seconds — likely a bot")


@pytest.mark.parametrize(("count", "every", "ips"), [
    (9, 5.0, ("192.0.2.99",)), (10, 12.0, ("192.0.2.99",)), (30, 1.0, tuple(f"192.0.2.{n}" for n in range(10))),
], ids=["nine", "over-two-minutes", "ten-ips"])
def test_signup_burst_near_misses(count: int, every: float, ips: tuple[str, ...]) -> None:
    assert run(signups(count, every, ips)) == []


# -- switches --

@pytest.mark.parametrize("switch", ["brute_force", "credential_stuffing", "impossible_travel", "signup_burst"])
def test_each_rule_can_be_turned_off(switch: str) -> None:
    timeline = {"brute_force": failures("alice@example.com", 12, 10.0),
                "credential_stuffing": stuffing(25, ("203.0.113.99",)),
                "impossible_travel": trip(LONDON, SYDNEY, 1.0),
                "signup_burst": signups(12, 2.0)}[switch]
    assert switch in rules(run(timeline))
    assert switch not in rules(run(timeline, **{switch: False}))
