"""History survives ``kill -9``: everything the writer had committed is there, and a burst of tens of thousands
of events per second all lands.

The promise (``desktop/history/writer.py``): an event is safe from ``kill -9`` once its transaction has committed
(WAL, ``synchronous=NORMAL``); the writer commits whatever is queued as soon as the previous commit is done, so a
kill loses at most what was still queued. How long the queue gets depends on how much CPU the machine gives the
process, so these tests never assert a wall-clock bound: the child reports what its writer has *acknowledged as
committed* (``WriterStats.written``), and everything acknowledged before the kill must be there. The figures
(submitted, acknowledged, stored, queued at the kill) are printed (``pytest -s``); the writer's rate is measured
by ``bench/history_writer.py``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

from support.payloads import login_payload
from support.soketi import REPO_ROOT
from support.waiting import wait_until

from desktop.feed.events import FeedEvent, normalise
from desktop.history import HistoryStore, HistoryWriter, history_path

CHILD = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from desktop.feed.events import normalise
    from desktop.history import HistoryWriter, history_path

    data_dir, total, rate = Path(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    writer = HistoryWriter.for_path(history_path(data_dir))
    batch, start, sent, acknowledged = 100, time.monotonic(), 0, 0

    def report():
        global acknowledged
        written = writer.stats.written  # counted only after the COMMIT returned
        if written != acknowledged:
            acknowledged = written
            print("committed", written, flush=True)

    while sent < total:
        writer.submit([normalise("user-loggedIn", "private-login-feed",
                                 {"v": 1, "type": "login", "user_id": f"u{i}", "name": "Zoë <b>"}, time.time())
                       for i in range(sent, sent + batch)])
        sent += batch
        print("submitted", sent, flush=True)
        report()
        delay = start + sent / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    print("done", sent, flush=True)
    while True:  # never closes, never flushes: only the kill ends it
        report()
        time.sleep(0.01)
""")


class Child:
    """The writing process, its stdout read line by line on a thread."""

    def __init__(self, tmp_path: Path, data_dir: Path, total: int, rate: float) -> None:
        script = tmp_path / "child.py"
        script.write_text(CHILD, encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith("LOGIN_FEED_")}
        self.process = subprocess.Popen(
            [sys.executable, str(script), str(data_dir), str(total), str(rate)],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO_ROOT,
            env=env)
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.strip())

    def last(self, prefix: str) -> int:
        """The number on the last ``prefix N`` line so far (0 if none)."""
        found = [line for line in list(self.lines) if line.startswith(prefix + " ")]
        return int(found[-1].split()[1]) if found else 0

    def wait_until_committed(self, count: int, timeout: float = 120) -> None:
        """Until the child says its writer committed ``count`` events (a generous deadline: a starved machine
        is slow, not wrong)."""
        wait_until(lambda: self.last("committed") >= count or self.process.poll() is not None, timeout,
                   message=lambda: f"{count} committed; the child said {self.lines[-3:]}")
        assert self.process.poll() is None, f"the child ended: {self.process.poll()}, stderr: {self.stderr()}"

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        assert self.process.wait(30) == -signal.SIGKILL
        self.reader.join(5)  # every line the child printed before it died

    def stderr(self) -> str:
        return self.process.stderr.read() if self.process.stderr and self.process.poll() is not None else ""

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(30)
        self.reader.join(5)
        for pipe in (self.process.stdout, self.process.stderr):
            if pipe is not None:
                pipe.close()


def stored_ids(data_dir: Path) -> list[str | None]:
    with HistoryStore(history_path(data_dir)) as store:
        return [ev.user_id for ev in store.iter_since(None)]


def test_everything_committed_survives_kill_9_without_a_flush_or_close(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    child = Child(tmp_path, data_dir, total=5000, rate=10_000)
    try:
        child.wait_until_committed(5000)
        assert history_path(data_dir).with_name("history.sqlite3-wal").exists()  # recovery will need the WAL
        child.kill()
    finally:
        child.close()
    assert stored_ids(data_dir) == [f"u{i}" for i in range(5000)]


def test_kill_9_in_the_middle_of_a_burst_loses_nothing_the_writer_had_committed(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    child = Child(tmp_path, data_dir, total=100_000, rate=20_000)  # a bounded burst, paced at 20,000 events/s
    try:
        child.wait_until_committed(20_000)  # well into the burst: then kill at once
        child.kill()
    finally:
        child.close()
    submitted, acknowledged = child.last("submitted"), child.last("committed")
    ids = stored_ids(data_dir)
    print(f"\nkill -9 during a 20,000/s burst: {submitted:,} submitted, {acknowledged:,} acknowledged as "
          f"committed, {len(ids):,} stored; lost: {max(submitted - len(ids), 0):,} that were still queued")
    assert len(ids) >= acknowledged >= 20_000
    assert ids == [f"u{i}" for i in range(len(ids))]  # whole batches, in order, no gaps, nothing twice


def _events(count: int, start: int = 0) -> list[FeedEvent]:
    received = time.time()
    return [normalise("user-loggedIn", "private-login-feed", login_payload(f"auth0|{i:024d}"), received)
            for i in range(start, start + count)]


def test_100000_events_submitted_as_fast_as_possible_all_land(tmp_path: Path) -> None:
    batches = [_events(500, start) for start in range(0, 100_000, 500)]
    writer = HistoryWriter.for_path(history_path(tmp_path / "data"))
    try:
        began = time.perf_counter()
        for batch in batches:
            writer.submit(batch)
        submitted = time.perf_counter() - began
        assert writer.flush(120)
        took = time.perf_counter() - began
        stats = writer.stats
    finally:
        assert writer.close(30)
    print(f"\n100,000 events in batches of 500: submitted in {submitted * 1000:.0f} ms, all committed after "
          f"{took:.2f} s ({100_000 / took:,.0f} events/s), {stats.transactions} transactions, "
          f"peak pending {stats.peak_pending:,}")
    assert (stats.written, stats.dropped, stats.pending) == (100_000, 0, 0)
    with HistoryStore(history_path(tmp_path / "data")) as store:
        assert store.count() == 100_000
        assert store.recent(1)[0].user_id == f"auth0|{99_999:024d}"


def test_a_20000_per_second_burst_for_5_seconds_lands_with_a_short_queue(tmp_path: Path) -> None:
    """What the engine delivers during a burst: a batch every 10 ms (200 events), for 5 s."""
    batches = [_events(200, start) for start in range(0, 100_000, 200)]
    writer = HistoryWriter.for_path(history_path(tmp_path / "data"))
    try:
        began = time.monotonic()
        for n, batch in enumerate(batches):
            delay = began + n * 0.01 - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            writer.submit(batch)
        sent = time.monotonic() - began
        assert writer.flush(120)
        lag = time.monotonic() - began - sent
        stats = writer.stats
    finally:
        assert writer.close(30)
    print(f"\n20,000 events/s for {sent:.1f} s: peak pending {stats.peak_pending:,} events, "
          f"{stats.transactions} transactions, last commit {lag * 1000:.0f} ms after the last submit")
    assert (stats.written, stats.dropped) == (100_000, 0)
    with HistoryStore(history_path(tmp_path / "data")) as store:
        assert store.count() == 100_000
