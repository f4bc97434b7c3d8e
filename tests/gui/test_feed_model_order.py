"""FeedModel keeps rows in time order: caught-up (older) events go where their time puts them, in few inserts."""

from __future__ import annotations

from desktop.feed.events import FeedEvent
from desktop.feed.model import FeedModel

RECEIVED = "2026-11-21T13:30:00.000Z"


def at(second: int, name: str | None = None) -> FeedEvent:
    return FeedEvent(event="log-event", channel="private-login-feed", type="login_failed", received_at=RECEIVED,
                     at=f"2026-11-21T13:{second // 60:02d}:{second % 60:02d}.000Z", data={}, name=name or str(second),
                     log_id=f"log-{second}")


def names(model: FeedModel) -> list[str]:
    return [ev.name or "" for ev in model.events()]


def test_caught_up_events_are_merged_in_time_order_with_few_inserts(qtmodeltester) -> None:
    model = FeedModel(max_rows=100)
    qtmodeltester.check(model)
    model.add_events([at(600), at(900), at(1200)])  # live, before catch-up ends
    inserted: list[tuple[int, int]] = []
    model.rowsInserted.connect(lambda parent, first, last: inserted.append((first, last)))
    model.add_events([at(s) for s in (100, 200, 300, 650, 700, 1000)])  # one caught-up page, oldest first
    assert names(model) == ["1200", "1000", "900", "700", "650", "600", "300", "200", "100"]
    assert inserted == [(3, 5), (2, 3), (1, 1)]  # bottom first (positions above stay), one insert per run
    model.add_events([at(1300)])  # a live event again: on top
    assert names(model)[0] == "1300"
    qtmodeltester.check(model)


def test_the_cap_drops_the_oldest_after_a_merge(qtmodeltester) -> None:
    model = FeedModel(max_rows=4)
    model.add_events([at(500), at(600)])
    model.add_events([at(100), at(550), at(200)])
    assert names(model) == ["600", "550", "500", "200"]
    qtmodeltester.check(model)


def test_a_live_batch_holding_an_old_event_keeps_its_live_rows_in_arrival_order(qtmodeltester) -> None:
    """The old event goes where its time puts it; the live ones, whose times differ by less than the slack (a
    producer's clock, or an unrecognised event timed by its arrival), stay on top in the order they arrived."""
    model = FeedModel(max_rows=100)
    qtmodeltester.check(model)
    model.add_events([at(600)])
    model.add_events([at(10, "weeks old"), at(603, "first"), at(604, "second"), at(602, "third")])
    assert names(model) == ["third", "second", "first", "600", "weeks old"]
    qtmodeltester.check(model)
