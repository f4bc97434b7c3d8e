"""``tail --alerts-only`` and the one text line per alert (issue 15), from alerts the real detector raised."""

from __future__ import annotations

import json

from support.alert_timelines import T0, event

from desktop.alerts import AlertDetector
from desktop.feed.alert_line import alert_line
from desktop.feed.events import normalise
from desktop.pusher.core import ChannelEvent
from desktop.tail import _json_encoder, _text_encoder
from desktop.tail_catchup import TailCatchUp


def brute_force_alerts() -> list[dict]:
    failures = [event("fp", T0 + i, user="bob@example.com", ip=f"198.51.100.{i % 3 + 1}") for i in range(12)]
    later = [event("fp", T0 + 400 + i, user="bob@example.com", ip="198.51.100.9") for i in range(2)]
    return AlertDetector().feed(failures + later)


def published(data: dict) -> ChannelEvent:
    return ChannelEvent("private-login-feed", "log-event", data, None, T0 + 500)


def test_the_text_line_says_what_who_how_many_and_whether_it_is_new() -> None:
    new, update = brute_force_alerts()
    first = _text_encoder()(published(new)).decode()
    second = _text_encoder()(published(update)).decode()
    print(first, second, sep="")
    assert first.count("\n") == 1 and first.endswith(f"  {new['log_id']}\n")
    assert first.startswith(f"{new['last_at']}  ALERT HIGH  Brute force on one account: {new['explanation']}")
    assert "[bob@example.com; 10 events; new]" in first
    assert "[bob@example.com; 13 events; update 1]" in second and second.endswith(f"  {new['log_id']}\n")


def test_alerts_only_skips_everything_else_in_both_formats() -> None:
    [new, _] = brute_force_alerts()
    ordinary = published(event("fp", T0, user="ann@example.com"))
    for encode in (_text_encoder(alerts_only=True), _json_encoder(alerts_only=True)):
        assert encode(ordinary) == b""
        assert encode(published(new)) != b""
    line = json.loads(_json_encoder(alerts_only=True)(published(new)))
    assert line["kind"] == "alert" and line["log_id"] == new["log_id"]
    assert line["data"]["rule"] == "brute_force" and line["data"]["log_ids"] == new["log_ids"]
    assert _text_encoder()(ordinary) != b""  # without the switch, the rest is printed as ever


def test_a_hostile_alert_stays_one_line() -> None:
    [new, _] = brute_force_alerts()
    hostile = {**new, "explanation": "line\nbreak\u202eevil", "severity": 7, "updates": "many", "count": None}
    line = alert_line(normalise("log-event", "private-login-feed", hostile, T0))
    assert "\n" not in line and "\u202e" not in line and "ALERT ALERT" in line and "; new]" in line


def test_a_catching_up_tail_prints_each_update_of_an_alert_once() -> None:
    """Remote mode's de-duplication by ``log_id`` must not swallow an alert's updates (same ``log_id``)."""
    new, update = brute_force_alerts()
    catch_up = TailCatchUp("http://127.0.0.1:9/events", "private-login-feed", {}, lambda _text: None)
    events = [published(new), published(update), published(update), published(new)]
    kept = catch_up.filter(events, lambda _batch: None)
    assert [e.data["updates"] for e in kept] == [0, 1]
