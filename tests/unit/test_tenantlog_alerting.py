"""The server runs the alert detector over the tenant log (issue 15): alerts stored as events, an update replacing
its alert under a new cursor, two replicas' detectors on one PostgreSQL storing one alert, a restart resuming.

Both stores (SQLite, and a real PostgreSQL from the ``postgres`` fixture); two replicas are two stores and two
followers on one PostgreSQL database (two replicas on one SQLite file would prove nothing about PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from support.alert_timelines import T0, event

from desktop.alerts import AlertsConfig
from desktop.tenantlog.alerting import AlertFollower
from desktop.tenantlog.pgstore import PostgresEventStore
from desktop.tenantlog.sqlite_store import SqliteEventStore
from desktop.tenantlog.store import EventStore

OpenStore = Callable[[], EventStore]


@pytest.fixture(params=["sqlite", "postgresql"])
def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OpenStore]:
    opened: list[EventStore] = []
    where = (request.getfixturevalue("postgres_url") if request.param == "postgresql"
             else str(tmp_path / "tenant-log.sqlite3"))

    def open_one() -> EventStore:
        made: EventStore = (PostgresEventStore(where) if request.param == "postgresql"
                            else SqliteEventStore(Path(where)))
        opened.append(made)
        return made

    yield open_one
    for made in opened:
        made.close()


def alert(updates: int, log_id: str = "alert-1") -> dict:
    return {"v": 2, "log_id": log_id, "kind": "alert", "code": "alert", "updates": updates, "rule": "brute_force"}


def brute_force(start: float, n: int = 12, user: str = "bob@example.com") -> list[dict]:
    return [event("fp", start + i, user=user, ip=f"198.51.100.{i % 3 + 1}") for i in range(n)]


def alerts_in(store: EventStore) -> list[dict]:
    return [e for e in store.page("0", 1000).events if e.get("kind") == "alert"]


def test_an_update_replaces_its_alert_under_a_new_cursor_and_a_stale_one_changes_nothing(
        open_store: OpenStore) -> None:
    store = open_store()
    store.add([event("s", T0)], T0)
    assert store.put_alerts([alert(1)], T0) == 1
    first = alerts_in(store)[0]["cursor"]
    store.add([event("s", T0 + 1)], T0)
    assert store.put_alerts([alert(1)], T0) == 0  # the same version (another replica): nothing changes
    assert store.put_alerts([alert(3), alert(2)], T0) == 1  # the most updates of a batch wins
    assert store.put_alerts([alert(2)], T0) == 0  # an older version never replaces a newer one
    [kept] = alerts_in(store)
    assert kept["updates"] == 3 and int(kept["cursor"]) > int(first)
    assert [e["cursor"] for e in store.page(first, 10).events][-1] == kept["cursor"]  # catch-up sees it
    assert any(e["log_id"] == "alert-1" for e in store.unpublished(100))  # and the publisher sends it
    assert store.count() == 3


def test_the_follower_raises_one_alert_and_updates_it(open_store: OpenStore) -> None:
    store = open_store()
    woken: list[int] = []
    follower = AlertFollower(store, AlertsConfig(), lambda: woken.append(1), clock=lambda: T0)
    store.add(brute_force(T0), T0)
    assert follower.follow() == 1 and woken == [1]
    [raised] = alerts_in(store)
    assert raised["rule"] == "brute_force" and raised["subject"] == "bob@example.com"
    store.add(brute_force(T0 + 400, 20), T0 + 400)  # the attack goes on past update_every_seconds
    follower.follow()
    [updated] = alerts_in(store)
    assert updated["log_id"] == raised["log_id"] and updated["updates"] > raised["updates"]
    print("stored:", follower.stored, "detector:", follower.detector.stats())


def test_two_replicas_on_one_postgresql_store_each_alert_once(postgres_url: str) -> None:
    stores = [PostgresEventStore(postgres_url), PostgresEventStore(postgres_url)]
    try:
        followers = [AlertFollower(s, AlertsConfig(), clock=lambda: T0) for s in stores]
        for n, start in enumerate((T0, T0 + 30, T0 + 400)):  # deliveries to alternating replicas
            stores[n % 2].add(brute_force(start, user="bob@example.com") + brute_force(start, user="eve@example.com"),
                              start)
            for follower in reversed(followers) if n % 2 else followers:
                follower.follow()
        found = alerts_in(stores[0])
        assert sorted(a["subject"] for a in found) == ["bob@example.com", "eve@example.com"]
        assert [(a["updates"], a["count"]) for a in found] == [(1, 25), (1, 25)]  # as one detector would
        print("stored by each replica:", [f.stored for f in followers])
    finally:
        for store in stores:
            store.close()


def test_a_restart_takes_up_the_open_alert_instead_of_raising_a_new_one(open_store: OpenStore) -> None:
    store = open_store()
    before = AlertFollower(store, AlertsConfig(), clock=lambda: T0 + 60)
    store.add(brute_force(T0), T0)
    before.follow()
    [raised] = alerts_in(store)
    after = AlertFollower(open_store(), AlertsConfig(), clock=lambda: T0 + 60)  # the restarted server
    assert after.replay() == 13  # the events and the alert
    assert after.follow() == 0  # nothing is raised again
    store.add(brute_force(T0 + 400, 20), T0 + 400)
    after.follow()
    [updated] = alerts_in(store)
    assert updated["log_id"] == raised["log_id"] and updated["updates"] == raised["updates"] + 1


def test_a_backfill_of_last_week_raises_nothing(open_store: OpenStore) -> None:
    store = open_store()
    follower = AlertFollower(store, AlertsConfig(), clock=lambda: T0)
    store.add([event("s", T0)], T0)
    follower.follow()
    store.add(brute_force(T0 - 7 * 86400), T0, published=True)
    assert follower.follow() == 0 and alerts_in(store) == []


def test_a_restart_after_the_attack_began_outside_the_replay_takes_up_the_stored_alert(open_store: OpenStore) -> None:
    """The replay (the last ``stuffing_baseline_seconds`` + lateness of arrivals) no longer holds the failures that
    raised the alert: only :meth:`AlertDetector.resume` of the stored alert lets the attack update it."""
    config = AlertsConfig(stuffing_baseline_seconds=600)  # replays 720 s
    store = open_store()
    now = [T0]
    before = AlertFollower(store, config, clock=lambda: now[0])
    store.add(brute_force(T0), T0)
    before.follow()
    for at in (T0 + 200, T0 + 400, T0 + 600, T0 + 800, T0 + 1000):  # the attack goes on, slowly
        now[0] = at
        store.add([event("fp", at, user="bob@example.com", ip="198.51.100.1")], at)
        before.follow()
    [stored] = alerts_in(store)
    assert stored["updates"] == 2
    now[0] = T0 + 1400
    after = AlertFollower(open_store(), config, clock=lambda: now[0])  # the restarted server
    after.replay()
    assert after.detector.stats()["open_alerts"] == 1  # taken up from the store, not rebuilt by the replay
    store.add([event("fp", T0 + 1300, user="bob@example.com", ip="198.51.100.1")], T0 + 1400)
    after.follow()
    [updated] = alerts_in(store)
    assert (updated["log_id"], updated["updates"]) == (stored["log_id"], 3)
