"""The window's history restore: how long ``HistoryStore.recent(5000)`` takes on a big history, and what the
history's indexes cost the writer.

Builds a history of ``--events`` rows (default 100,000) in a temporary directory with ``add_many`` in batches of
5,000 (as the writer commits them): live v1 logins, then ``--caught-up`` of them arriving last but dated a day
earlier (a catch-up or backfill of old events). Prints the insert rate, then the restore time (the best and the
median of ``--repeat`` reads on a freshly opened store, as at start) and whether the restored rows are the newest by
event time. Runs on any version of the store (before and after a change); nothing is asserted.

    .venv/bin/python bench/history_restore.py [--events 100000] [--caught-up 10000] [--repeat 7]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from desktop.feed.events import FeedEvent, format_utc, normalise
from desktop.feed.stats import event_time
from desktop.history.store import HistoryStore

START = 1_795_237_262.0
BATCH = 5_000
RESTORE = 5_000


def make_events(total: int, caught_up: int) -> list[FeedEvent]:
    """``total`` events in arrival order; the last ``caught_up`` of them are a day older than the rest."""
    live = total - caught_up
    events = []
    for n in range(total):
        at = START + n if n < live else START - 86_400 + (n - live)
        data = {"v": 1, "type": "login", "user_id": f"auth0|{n}", "name": f"User {n}", "at": format_utc(at)}
        events.append(normalise("user-loggedIn", "private-login-feed", data, START + total + n * 0.001))
    return events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--caught-up", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    events = make_events(args.events, args.caught_up)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "history.sqlite3"
        with HistoryStore(path) as store:
            began = time.perf_counter()
            for start in range(0, len(events), BATCH):
                store.add_many(events[start:start + BATCH])
            spent = time.perf_counter() - began
        print(f"insert: {len(events):,} events in {spent:.2f} s = {len(events) / spent:,.0f} events/s "
              f"({spent / len(events) * 1e6:.1f} µs per event)")
        times, restored = [], []
        for _ in range(args.repeat):
            with HistoryStore(path) as store:
                began = time.perf_counter()
                restored = store.recent(RESTORE)
                times.append(time.perf_counter() - began)
        wanted = sorted(events, key=event_time, reverse=True)[:RESTORE]
        right = {ev.user_id for ev in restored} == {ev.user_id for ev in wanted}
        print(f"restore of {RESTORE:,} from {len(events):,}: best {min(times) * 1000:.1f} ms, "
              f"median {statistics.median(times) * 1000:.1f} ms; the newest by event time: {'yes' if right else 'NO'}")


if __name__ == "__main__":
    main()
