"""Alert updates keep their ``log_id`` (issue 15): the window's de-duplication lets each update through once."""

from __future__ import annotations

from support.alert_events import brute_force

from desktop.feed.catchup import SeenLogIds
from desktop.feed.events import normalise


def test_each_alert_update_is_fresh_once_and_other_events_by_log_id() -> None:
    events, alerts = brute_force(failures=14)
    rows = [normalise("log-event", "private-login-feed", p, 0.0) for p in (*events[:2], *alerts)]
    seen = SeenLogIds()
    assert seen.fresh(rows) == rows
    assert seen.fresh(rows) == []  # caught up after being received live: nothing new
    seen = SeenLogIds()
    seen.add(ev.log_id for ev in rows[:3])  # the history holds the first version of the alert
    assert [ev.data.get("updates") for ev in seen.fresh(rows)] == [1, 2]
