"""The history writer's sustained rate, measured apart from the producer (issue 14, goal 3: >= 50,000 events/s).

Events are normalised first (that is the engine's cost, not the writer's), then handed to a real
:class:`HistoryWriter` on a real file, in the engine's batch size, all at once: the figure is how fast the
writer thread turns a full queue into committed rows (submit of the first batch to ``flush()`` returning).
Three runs, each on a fresh file:

- ``store``: :meth:`HistoryStore.add_many` on this thread in 5,000-event transactions (rows + SQLite only);
- ``writer``: the writer thread, nothing else running in the process;
- ``writer + busy thread``: the same while another Python thread spins (the engine or the GUI during a burst),
  so the writer gets about half of the GIL.

Each run is repeated (``--repeat``, 3) and the best and the median are printed, with the load average: on a
shared machine the rates move by 2-5x with what else runs, the CPU per event much less. ``--old`` runs the
previous row building and ``executemany``, for the before/after figures. Exit 0 whatever the figures.

    .venv/bin/python bench/history_writer.py [--events 200000] [--batch 200] [--repeat 3] [--old] [--dir DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from desktop.feed.events import FeedEvent, normalise
from desktop.history import HistoryStore, HistoryWriter, history_path, open_store
from desktop.history import rows as rows_module
from desktop.history import store as store_module

GOAL = 50_000
OLD_COLUMNS = (
    "event", "channel", "type", "user_id", "email", "name", "nickname", "picture", "connection", "client_name",
    "country", "city", "ip", "logins_count", "at", "received_at", "data", "reason",
)
"""The columns the previous path wrote (any later ones are left NULL)."""
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def make_events(count: int) -> list[FeedEvent]:
    """Realistic v1 login events (the Action's payload), distinct user ids, one receive time per 200."""
    now = time.time()
    return [normalise("user-loggedIn", "private-login-feed", {
        "v": 1, "type": "login", "user_id": f"auth0|{i:024d}", "email": f"user{i}@example.com",
        "name": "Zoë Lovelace", "nickname": "zoe", "picture": "https://s.gravatar.com/avatar/0f1e2d.png",
        "connection": "Username-Password-Authentication", "client_name": "My App", "country": "GB",
        "city": "London", "ip": "203.0.113.7", "logins_count": 17, "at": "2026-11-21T05:01:02.123Z",
        "updated_at": "2026-11-21T05:01:02.123Z", "app_metadata": {"signedUp": False}}, now + i // 200 * 0.01)
        for i in range(count)]


def thread_cpu(native_id: int | None) -> float:
    """CPU seconds (user + system) of one thread of this process, from /proc."""
    if native_id is None:
        return 0.0
    with open(f"/proc/self/task/{native_id}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


@contextlib.contextmanager
def busy_thread(enabled: bool) -> Iterator[None]:
    """Another Python thread that never waits (like the engine decoding a burst) while the block runs."""
    stop = threading.Event()

    def spin() -> None:
        payload = {"v": 1, "type": "login", "user_id": "auth0|1", "name": "Ada"}
        while not stop.is_set():
            normalise("user-loggedIn", "private-login-feed", payload, time.time())

    thread = threading.Thread(target=spin, name="busy", daemon=True)
    if enabled:
        thread.start()
    try:
        yield
    finally:
        stop.set()
        if enabled:
            thread.join()


def run_store(path: Path, events: list[FeedEvent]) -> tuple[float, float]:
    with open_store(path) as store:
        began, cpu = time.perf_counter(), time.thread_time()
        for start in range(0, len(events), 5000):
            store.add_many(events[start:start + 5000])
        return time.perf_counter() - began, time.thread_time() - cpu


def run_writer(path: Path, events: list[FeedEvent], batch: int, busy: bool) -> tuple[float, float, int]:
    batches = [events[start:start + batch] for start in range(0, len(events), batch)]
    writer = HistoryWriter.for_path(path, keep_days=None)
    try:
        assert writer.recent(1).result(30) == []  # the file is open before the clock starts
        with busy_thread(busy):
            cpu = thread_cpu(writer._thread.native_id)
            began = time.perf_counter()
            for chunk in batches:
                writer.submit(chunk)
            if not writer.flush(600):
                raise SystemExit(f"the writer did not finish: {writer.stats}")
            took = time.perf_counter() - began
            cpu = thread_cpu(writer._thread.native_id) - cpu
        transactions = writer.stats.transactions
    finally:
        writer.close(60)
    with HistoryStore(path) as check:
        assert check.count() == len(events), "rows are missing"
    return took, cpu, transactions


def old_row(ev: FeedEvent) -> tuple[object, ...]:
    """The row as the writer built it before (commit eb5c813): a clean-up call per text field."""
    text, count = rows_module._clean_text, rows_module._clean_count
    return (
        text(ev.event) or "", text(ev.channel) or "", text(ev.type) or "",
        text(ev.user_id), text(ev.email), text(ev.name), text(ev.nickname), text(ev.picture),
        text(ev.connection), text(ev.client_name), text(ev.country), text(ev.city), text(ev.ip),
        count(ev.logins_count), text(ev.at), text(ev.received_at) or "", rows_module.encode_data(ev.data),
        text(ev.reason),
    )


def use_old_path() -> None:
    """The writer as it was: :func:`old_row` and ``executemany`` (one GIL release per row)."""
    columns = ", ".join(OLD_COLUMNS)
    old_insert = f"INSERT INTO events ({columns}) VALUES ({', '.join('?' * len(OLD_COLUMNS))})"
    store_module.to_row = old_row  # type: ignore[assignment]
    store_module.insert_rows = lambda db, rows: db.executemany(old_insert, rows)  # type: ignore[assignment]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=200, help="events per submit (the engine hands batches)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each kind; best and median printed")
    parser.add_argument("--old", action="store_true", help="the previous row building and executemany")
    parser.add_argument("--dir", type=Path, default=None, help="where the history files go (default: a temp dir)")
    args = parser.parse_args()
    if args.old:
        use_old_path()
    began = time.perf_counter()
    events = make_events(args.events)
    produced = time.perf_counter() - began
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"{args.events:,} v1 events, batches of {args.batch}, {'OLD' if args.old else 'current'} insert path, "
          f"{os.cpu_count()} CPUs, load average {load}; normalising them (the producer, not measured) ran at "
          f"{args.events / produced:,.0f}/s")
    print(f"{'run':<24} {'best events/s':>14} {'median':>10} {'CPU us/event':>13} {'transactions':>13}")
    best: dict[str, float] = {}
    with tempfile.TemporaryDirectory(dir=args.dir, prefix="history-bench-") as tmp:
        for name in ("store (add_many)", "writer", "writer + busy thread"):
            rates, cpus, transactions = [], [], -(-args.events // 5000)
            for n in range(args.repeat):
                path = history_path(Path(tmp) / f"{name.split()[0]}{n}{'busy' if 'busy' in name else ''}")
                if name.startswith("store"):
                    took, cpu = run_store(path, events)
                else:
                    took, cpu, transactions = run_writer(path, events, args.batch, "busy" in name)
                rates.append(args.events / took)
                cpus.append(cpu / args.events * 1e6)
            best[name] = max(rates)
            print(f"{name:<24} {max(rates):>14,.0f} {statistics.median(rates):>10,.0f} {min(cpus):>13.1f} "
                  f"{transactions:>13}")
    verdict = "met" if best["writer"] >= GOAL else "NOT met"
    print(f"goal: the writer sustains >= {GOAL:,} events/s: {verdict} (best {best['writer']:,.0f}/s; "
          f"{best['writer + busy thread']:,.0f}/s sharing the GIL with a busy thread)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
