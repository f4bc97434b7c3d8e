"""The alerts' sentences say as many IPs and accounts as they name, or how many more: never "from 4 IPs" next to
a list of three, nor "10 accounts" when the server's list stopped at ten of twenty (episodes list at most ten)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from support.alert_timelines import T0, event

from desktop.alerts import AlertDetector, AlertsConfig
from desktop.alerts.delegate import figures
from desktop.alerts.record import alert_record


def run(events: list[dict[str, Any]], **config: Any) -> list[dict[str, Any]]:
    return AlertDetector(AlertsConfig(**config)).feed(events)


def guesses(ips: list[str], count: int = 12) -> list[dict[str, Any]]:
    """``count`` wrong passwords for one account within two minutes, from ``ips`` in turn."""
    return [event("fp", T0 + 5 + k * 10.0, user="alice@example.com", ip=ips[k % len(ips)]) for k in range(count)]


def ips_named(text: str) -> list[str]:
    return re.findall(r"\d+\.\d+\.\d+\.\d+", text)


@pytest.mark.parametrize("n", [1, 2, 3, 4, 7])
def test_brute_force_says_as_many_ips_as_it_names_or_how_many_more(n: int) -> None:
    ips = [f"203.0.113.{k + 1}" for k in range(n)]
    [alert] = run(guesses(ips, count=10))
    text = alert["explanation"]
    assert sorted(alert["ips"]) == sorted(ips)
    assert f"from {n} IP{'s' if n > 1 else ''}" in text, text
    named = ips_named(text)
    assert set(named) <= set(ips) and len(named) == min(n, 3), text
    if n > 3:
        assert f"{', '.join(ips[:3])} and {n - 3} more" in text, text
    else:
        assert "more" not in text, text


def test_brute_force_from_four_ips_reads_as_one_honest_sentence() -> None:
    [alert] = run(guesses(["1.2.3.4", "5.6.7.8", "9.9.9.9", "4.4.4.4"], count=10))
    assert alert["explanation"] == (
        "10 failed logins for alice@example.com in 2 minutes from 4 IPs (1.2.3.4, 5.6.7.8, 9.9.9.9 and 1 more) — "
        "likely password guessing on this account; consider blocking them and asking the person to change their "
        "password")


def test_brute_force_beyond_the_listed_ips_says_at_least() -> None:
    ips = [f"198.51.100.{k + 1}" for k in range(14)]  # an alert lists ten IPs at most
    alerts = run(guesses(ips, count=14), update_every_seconds=10.0)
    alert = alerts[-1]
    text = alert["explanation"]
    assert alert["updates"] > 0 and alert["count"] == 14 and len(alert["ips"]) == 10
    assert "from at least 10 IPs (198.51.100.1, 198.51.100.2, 198.51.100.3 and at least 7 more)" in text, text
    assert "from 10 IPs" not in text


def test_brute_force_without_an_ip_does_not_say_zero() -> None:
    [alert] = run([event("fp", T0 + 5 + k, user="alice@example.com", ip=None) for k in range(10)])
    text = alert["explanation"]
    assert "0 IPs" not in text and "unknown" in text, text
    assert text.endswith("look for the addresses in the events and ask the person to change their password"), text


def test_stuffing_names_the_ips_it_blocks_or_how_many_more() -> None:
    ips = ("198.51.100.66", "203.0.113.99", "192.0.2.201", "192.0.2.202", "192.0.2.203")
    timeline = [event("fu", T0 + 5 + k * 2.0, user=f"victim{k}@breach.example", ip=ips[k % len(ips)])
                for k in range(60)]
    alerts = run(timeline, stuffing_ips=5, update_every_seconds=10.0)
    last = alerts[-1]
    assert last["rule"] == "credential_stuffing" and len(last["ips"]) == 5
    text = last["explanation"]
    assert text.endswith(" and 2 more"), text
    assert len(ips_named(text)) == 3


def test_the_window_says_at_least_when_the_server_list_is_full() -> None:
    users = [f"victim{k}@breach.example" for k in range(10)]
    ips = [f"192.0.2.{k}" for k in range(10)]
    full = alert_record({"kind": "alert", "log_id": "alert-1", "subject": "tenant", "users": users, "ips": ips,
                         "count": 25, "log_ids_count": 25})
    assert full is not None
    assert "at least 10 accounts" in figures(full) and "+7 or more" in figures(full), figures(full)
    assert full.who == "at least 10 IPs"
    some = alert_record({"kind": "alert", "log_id": "alert-2", "subject": "tenant", "users": users[:4],
                         "ips": ips[:4], "count": 4})
    assert some is not None
    assert "4 accounts" in figures(some) and "+1" in figures(some) and "more" not in figures(some)
    assert some.who == "4 IPs"


def test_a_folded_alert_says_its_totals_across_accounts_not_as_one_account_s() -> None:
    """Above ``max_open_per_rule`` the accounts share one ``*`` alert: its numbers are theirs together, so the
    sentence names them together (it used to put all of them on the latest account: "30 failed logins for
    user4 from 9 IPs", where user4 had 10 from 3)."""
    timeline = sorted((event("fp", T0 + 5 + k * 10 + n, user=f"user{n}@example.com", ip=f"203.0.113.{n * 3 + k % 3}")
                       for n in range(5) for k in range(10)), key=lambda e: e["at"])
    timeline.append(event("s", T0 + 2000, user="someone@example.com", ip="100.64.0.1"))  # time passes: it closes
    alerts = run(timeline, max_open_per_rule=2, credential_stuffing=False, update_every_seconds=10.0)
    folded = [a for a in alerts if a["subject"] == "*"]
    last = folded[-1]
    assert last["count"] == 30 and len(last["ips"]) == 9
    assert last["explanation"] == (
        "More than 2 at once, told as one: 30 events for 3 accounts (user2@example.com, user3@example.com, "
        "user4@example.com) from 9 IPs (203.0.113.6, 203.0.113.7, 203.0.113.8 and 6 more)"), last["explanation"]
    assert "for user4@example.com" not in last["explanation"]
