"""The feed panel with the tenant log's events (issue 12): one login shown once, failures first (colours, labels,
filters, search), counters and chart with failures."""

from __future__ import annotations

from support.v2_events import v2_payload

from desktop.feed.events import FeedEvent, normalise
from desktop.feed.panel import FeedPanel

CHANNEL = "private-login-feed"
NOW = 1_795_237_500.0  # 2026-11-21T05:05:00Z
USER = "auth0|618223a4e3f49e006948565c"


def v1(second: int) -> FeedEvent:
    return normalise("user-loggedIn", CHANNEL, {"v": 1, "type": "login", "user_id": USER, "name": "Dev",
                                                "at": f"2026-11-21T05:01:{second:02d}.000Z"}, NOW)


def v2(code: str, n: int, second: int = 0, **changes: object) -> FeedEvent:
    sample = "s" if code in ("s", "ss") else None
    payload = v2_payload(code, n, at=f"2026-11-21T05:01:{second:02d}.000Z", sample=sample, **changes)
    return normalise("log-event", CHANNEL, payload, NOW)


def test_a_login_from_the_action_and_the_tenant_log_is_listed_once(qtbot) -> None:
    panel = FeedPanel(clock=lambda: NOW)
    qtbot.addWidget(panel)
    action = v1(1)
    assert panel.add_events([action]) == [action]
    logged = v2("s", 1, 2)
    assert panel.add_events([logged]) == []  # it took the v1 row's place
    assert panel.model.events() == [logged]
    assert panel.stats.counts(NOW).logins_hour == 1
    again = v1(3)  # a second Action event: a second login (each event folds with one other at most)
    assert panel.add_events([again]) == [again]
