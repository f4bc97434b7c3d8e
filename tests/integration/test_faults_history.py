"""The fault suite's history part: a full disk, a corrupt file at start, the window killed during a burst.

Real parts only: a small tmpfs mounted for the test (root, as in CI), real SQLite files, the real window
process against the session's soketi. The promise checked after ``kill -9`` is the one the writer makes
(``desktop/history/writer.py``): everything that was committed, as seen by another process reading the file,
is still there after the kill, in order, with nothing twice.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import signal
import sqlite3
import subprocess
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.cli_process import LOGIN_FEED, CliProcess, cli_environment
from support.history_probe import committed_count
from support.soketi import APP_SECRET, Soketi
from support.waiting import wait_until
from support.window_app import SECRET_ENV, WAIT_MS, AppFactory, soketi_config, trigger_many, wait_connected

from desktop.feed.events import FeedEvent, normalise
from desktop.history import HistoryNotice, HistoryStore, HistoryWriter, history_path, open_store
from desktop.util import message

pytestmark = pytest.mark.integration


def login(i: int) -> FeedEvent:
    return normalise("user-loggedIn", "private-login-feed", {
        "v": 1, "type": "login", "user_id": f"u{i}", "email": f"user{i}@example.com", "name": "Zoë <b>",
        "app_metadata": {"padding": "x" * 300}}, 1_795_237_262.123)


def stored_ids(path: Path) -> list[str | None]:
    with HistoryStore(path) as store:
        return [ev.user_id for ev in store.iter_since(None)]


def integrity(path: Path) -> str:
    with contextlib.closing(sqlite3.connect(path)) as db:
        return str(db.execute("PRAGMA integrity_check").fetchone()[0])


# -- a full disk -------------------------------------------------------------------------------------------
@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """An 8 MB tmpfs mounted for this test (needs root, as CI has); unmounted at the end."""
    if os.geteuid() != 0:
        pytest.fail("the full-disk tests mount a small tmpfs (mount -t tmpfs) and need root, as in CI: "
                    "run them as root")
    mount_point = tmp_path / "small-disk"
    mount_point.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m,mode=0700", "tmpfs", str(mount_point)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"cannot mount a tmpfs at {mount_point}: {done.stderr.strip()}"
    try:
        yield mount_point
    finally:
        if subprocess.run(["umount", str(mount_point)], capture_output=True, check=False).returncode != 0:
            subprocess.run(["umount", "-l", str(mount_point)], capture_output=True, check=True)


def fill(directory: Path) -> Path:
    """Write a file in ``directory`` until the disk is full; delete it to make room again."""
    filler = directory / "filler"
    fd = os.open(filler, os.O_CREAT | os.O_WRONLY, 0o600)
    chunk = b"\0" * 65536
    try:
        while True:
            try:
                os.write(fd, chunk)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC, exc
                if len(chunk) == 1:
                    break
                chunk = chunk[: len(chunk) // 2]  # fill the last pages too
    finally:
        os.close(fd)
    return filler


def test_a_full_disk_keeps_what_was_stored_tells_the_listener_and_writing_resumes_with_space(
        small_disk: Path) -> None:
    path = history_path(small_disk / "data")
    notices: list[HistoryNotice] = []
    writer = HistoryWriter.for_path(path, retry_delays=(0.05, 0.1), on_notice=notices.append)
    try:
        writer.submit([login(i) for i in range(2000)])
        assert writer.flush(60)
        filler = fill(small_disk)

        for start in range(2000, 22_000, 200):  # ~17 MB of rows: far more than is left (nothing)
            writer.submit([login(i) for i in range(start, start + 200)])
        assert not writer.flush(120)  # some were given up: flush says so
        wait_until(lambda: any(n.kind == "failing" for n in notices), message=lambda: f"{notices}")
        failing = next(n for n in notices if n.kind == "failing")
        assert "full" in failing.message and failing.lasting
        stats = writer.stats
        assert stats.dropped > 0 and stats.pending == 0 and stats.last_error
        during = writer.call(lambda store: [ev.user_id for ev in store.iter_since(None)]).result(60)
        assert during[:2000] == [f"u{i}" for i in range(2000)]  # nothing it had stored is lost
        assert len(set(during)) == len(during)

        filler.unlink()  # space again: writing resumes
        writer.submit([login(i) for i in range(50_000, 50_500)])
        assert writer.flush(60)
        assert notices[-1].kind == "recovered"
        assert writer.stats.last_error is None
    finally:
        assert writer.close(60)
    ids = stored_ids(path)
    print(f"\nfull disk: {stats.dropped:,} events given up while full, {len(during) - 2000:,} of the burst stored "
          f"before it filled; notices: {[n.kind for n in notices]}")
    assert ids == during + [f"u{i}" for i in range(50_000, 50_500)]
    assert integrity(path) == "ok"


# -- a corrupt history at start ----------------------------------------------------------------------------
def corrupt_copy(path: Path, how: str) -> None:
    """A history of 3,000 events at ``path``, then damaged: ``garbage`` (not a database) or ``truncated``."""
    with open_store(path) as store:
        store.add_many([login(i) for i in range(3000)])
    if how == "garbage":
        path.write_bytes(os.urandom(64 * 1024))
    else:
        with open(path, "r+b") as file:
            file.truncate(path.stat().st_size // 2)


@pytest.mark.parametrize("how", ["garbage", "truncated"])
def test_a_corrupt_history_is_moved_aside_by_the_store_and_a_fresh_one_used(tmp_path: Path, how: str) -> None:
    path = history_path(tmp_path / "data")
    corrupt_copy(path, how)
    with open_store(path) as store:
        assert store.moved_aside is not None
        aside, reason = store.moved_aside
        assert aside.name.startswith("history.sqlite3.unreadable-") and aside.exists()
        assert reason
        assert store.count() == 0
        store.add_many([login(1)])
    assert stored_ids(path) == ["u1"]
    assert integrity(path) == "ok"



def test_the_window_starts_on_a_corrupt_history_says_so_and_records_into_a_fresh_one(
        qtbot, tmp_path: Path, soketi: Soketi, make_app: AppFactory) -> None:
    data_dir = tmp_path / "data"
    corrupt_copy(history_path(data_dir), "garbage")
    channel = f"private-login-feed-{uuid.uuid4().hex[:12]}"
    told: list[message.Message] = []  # what the window's status bar was given (a later one may replace it)
    message.global_bridge().shown.connect(told.append)
    try:
        app = make_app(soketi_config(soketi, tmp_path, feed_channel=channel), data_dir)
        qtbot.waitUntil(lambda: any("could not be read" in m.text for m in told), timeout=WAIT_MS)
    finally:
        message.global_bridge().shown.disconnect(told.append)
    text = next(m.text for m in told if "could not be read" in m.text)
    aside = [p.name for p in data_dir.iterdir() if p.name.startswith("history.sqlite3.unreadable-")]
    assert len(aside) == 1 and aside[0] in text
    wait_connected(qtbot, app)
    trigger_many(soketi, channel, range(3))
    qtbot.waitUntil(lambda: len(app.feed.model.events()) == 3, timeout=WAIT_MS)
    make_app.close(app)
    assert stored_ids(history_path(data_dir)) == [f"auth0|{n}" for n in range(3)]


# -- the window killed during a burst ----------------------------------------------------------------------
def test_the_window_killed_during_a_burst_keeps_everything_it_had_committed(tmp_path: Path,
                                                                           soketi: Soketi) -> None:
    channel = f"private-login-feed-{uuid.uuid4().hex[:12]}"
    config = soketi_config(soketi, tmp_path, feed_channel=channel)
    data_dir = tmp_path / "data"
    path = history_path(data_dir)
    env = cli_environment({"QT_QPA_PLATFORM": "offscreen", SECRET_ENV: APP_SECRET})
    process = CliProcess(["--config", str(config.path), "--data-dir", str(data_dir), "-v"], env)
    burst = threading.Thread(target=trigger_many, args=(soketi, channel, range(5000)), daemon=True)
    try:
        process.wait_for_stderr("connection connecting -> connected", timeout=30)
        wait_until(lambda: bool(soketi.pusher_client().channel_info(channel).get("occupied")), 15,
                   message=lambda: f"{channel} occupied\n{process.describe()}")
        burst.start()
        wait_until(lambda: committed_count(path) >= 500, 60, message=lambda: process.describe())
        seen = committed_count(path)  # committed, as another process sees it: the kill must not lose it
        process.send_signal(signal.SIGKILL)
        assert process.wait(30) == -signal.SIGKILL
    finally:
        process.close()
        burst.join(120)
    done = subprocess.run([str(LOGIN_FEED), "--data-dir", str(data_dir), "export"], env=cli_environment(),
                          capture_output=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    ids = [json.loads(line)["user_id"] for line in done.stdout.splitlines()]
    print(f"\nwindow killed during a 5,000-event burst: {seen:,} seen committed before the kill, "
          f"{len(ids):,} stored after it")
    assert len(ids) >= seen
    assert ids == [f"auth0|{n}" for n in range(len(ids))]  # in order, no gaps, nothing twice
    assert not [p for p in data_dir.iterdir() if ".unreadable-" in p.name]  # the file was intact
    assert integrity(path) == "ok"
