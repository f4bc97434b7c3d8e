"""The history's retention: how long ``HistoryStore.prune`` takes on a big history, and what it keeps.

Builds a history of ``--events`` rows (default 100,000) once, as ``bench/history_restore.py`` does (live v1 logins,
then ``--caught-up`` of them arriving last but dated a day earlier: a catch-up or backfill), then times each case on
a fresh copy of that file (the best and the median of ``--repeat`` runs):

- ``keep_rows``: ``prune(keep_rows=N)`` down to half the rows, in one call (all chunks);
- ``keep_days``: ``prune(keep_days=...)`` with the cutoff half-way through the live events' times;
- ``one chunk``: the writer thread's step, ``prune(keep_rows=N, max_rows=PRUNE_CHUNK_ROWS)``;
- ``nothing to do``: ``prune(keep_days=30, keep_rows=<more than stored>)``, what the hourly check costs when
  nothing is old.

and says whether the rows kept are the newest by event time (the feed's order). Runs on any version of the store
(before and after a change); nothing is asserted.

    .venv/bin/python bench/history_prune.py [--events 100000] [--caught-up 10000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.history_restore import BATCH, START, make_events
from desktop.feed.stats import event_time
from desktop.history.store import PRUNE_CHUNK_ROWS, HistoryStore


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--caught-up", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    events = make_events(args.events, args.caught_up)
    by_time = sorted(events, key=lambda ev: event_time(ev), reverse=True)
    half = len(events) // 2
    now = START + (args.events - args.caught_up) / 2 + 30 * 86_400  # keep_days=30: half the live events stay
    cases: list[tuple[str, Callable[[HistoryStore], int], set[str | None] | None]] = [
        ("keep_rows", lambda s: s.prune(keep_rows=half), {ev.user_id for ev in by_time[:half]}),
        ("keep_days", lambda s: s.prune(keep_days=30, now=now),
         {ev.user_id for ev in events if event_time(ev) >= now - 30 * 86_400}),
        ("one chunk", lambda s: s.prune(keep_rows=half, max_rows=PRUNE_CHUNK_ROWS), None),
        ("nothing to do", lambda s: s.prune(keep_days=30, keep_rows=len(events) + 1, now=START), None),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        built = Path(tmp) / "built.sqlite3"
        with HistoryStore(built) as store:
            for start in range(0, len(events), BATCH):
                store.add_many(events[start:start + BATCH])
        for name, prune, wanted in cases:
            times, deleted, right = [], 0, True
            for run in range(args.repeat):
                path = Path(tmp) / f"{name.replace(' ', '-')}-{run}.sqlite3"
                shutil.copyfile(built, path)
                with HistoryStore(path) as store:
                    began = time.perf_counter()
                    deleted = prune(store)
                    times.append(time.perf_counter() - began)
                    if wanted is not None:
                        right = right and {ev.user_id for ev in store.iter_since(None)} == wanted
                path.unlink()
            verdict = "" if wanted is None else f"; kept the newest by event time: {'yes' if right else 'NO'}"
            print(f"{name:>13}: deleted {deleted:,} of {len(events):,} in best {min(times) * 1000:.1f} ms, "
                  f"median {statistics.median(times) * 1000:.1f} ms{verdict}")


if __name__ == "__main__":
    main()
