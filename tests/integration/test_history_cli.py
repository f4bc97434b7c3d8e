"""``login-feed --data-dir D export`` as a real command: jsonl, csv, --since, errors, a closed pipe."""

from __future__ import annotations

import csv
import io
import json
import subprocess
from pathlib import Path

import pytest
from support.cli_process import LOGIN_FEED, cli_environment

from desktop.feed.events import FeedEvent, normalise, to_json_dict
from desktop.feed.serialise import CSV_COLUMNS
from desktop.history import HistoryStore, history_path, open_store

CHANNEL = "private-login-feed"
T0 = 1_795_237_262.123  # 2026-11-21T05:01:02.123Z


def event(i: int, received: float, **overrides: object) -> FeedEvent:
    payload = {"v": 1, "type": "signup" if i % 2 else "login", "user_id": f"auth0|{i}",
               "email": f"user{i}@example.com", "name": "Zoë", "logins_count": 1 if i % 2 else 7,
               "country": "DE", "nested": {"list": [1, {"x": None}]}}
    payload.update(overrides)
    return normalise("user-signedUp" if i % 2 else "user-loggedIn", CHANNEL, payload, received)


EVENTS = [event(0, T0), event(1, T0 + 3600, name="=1+2", city="<b>Köln</b>"), event(2, T0 + 7200)]


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "data"
    with open_store(history_path(directory)) as store:
        store.add_many(EVENTS)
    return directory


def run(*args: object) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([str(LOGIN_FEED), *map(str, args)], env=cli_environment(), capture_output=True,
                          timeout=60, check=False)


def test_export_jsonl(data_dir: Path) -> None:
    done = run("--data-dir", data_dir, "export", "--format", "jsonl")
    assert done.returncode == 0, done.stderr
    assert done.stderr == b""
    objects = [json.loads(line) for line in done.stdout.splitlines()]
    assert objects == [json.loads(json.dumps(to_json_dict(ev))) for ev in EVENTS]
    assert run("--data-dir", data_dir, "export").stdout == done.stdout  # jsonl is the default


def test_export_csv(data_dir: Path) -> None:
    done = run("--data-dir", data_dir, "export", "--format", "csv")
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout.decode("utf-8"), newline="")))
    assert list(rows[0]) == list(CSV_COLUMNS)
    assert [row["user_id"] for row in rows] == ["auth0|0", "auth0|1", "auth0|2"]
    assert rows[1]["name"] == "'=1+2"  # formula injection guard
    assert rows[1]["city"] == "<b>Köln</b>"
    assert json.loads(rows[2]["data"])["nested"] == {"list": [1, {"x": None}]}


def test_export_since(data_dir: Path) -> None:
    done = run("--data-dir", data_dir, "export", "--since", "2026-11-21T06:00Z")
    assert [json.loads(line)["user_id"] for line in done.stdout.splitlines()] == ["auth0|1", "auth0|2"]
    done = run("--data-dir", data_dir, "export", "--format", "csv", "--since", "2026-11-22")
    assert done.returncode == 0
    assert done.stdout.decode().splitlines() == [",".join(CSV_COLUMNS)]


def test_a_bad_since_exits_2_with_a_clear_message(data_dir: Path) -> None:
    done = run("--data-dir", data_dir, "export", "--since", "yesterday")
    assert done.returncode == 2
    assert done.stdout == b""
    assert b"--since: expected an ISO date or time such as 2026-11-21" in done.stderr


def test_a_missing_history_prints_nothing_or_the_header(tmp_path: Path) -> None:
    done = run("--data-dir", tmp_path / "none", "export")
    assert (done.returncode, done.stdout, done.stderr) == (0, b"", b"")
    done = run("--data-dir", tmp_path / "none", "export", "--format", "csv")
    assert (done.returncode, done.stdout.decode().strip()) == (0, ",".join(CSV_COLUMNS))
    assert not (tmp_path / "none").exists()


def test_a_reader_that_stops_early_is_quiet_and_exit_0(tmp_path: Path) -> None:
    with open_store(history_path(tmp_path)) as store:
        store.add_many([event(i, T0) for i in range(20_000)])
    for fmt in ("jsonl", "csv"):
        process = subprocess.Popen([str(LOGIN_FEED), "--data-dir", str(tmp_path), "export", "--format", fmt],
                                   env=cli_environment(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert process.stdout is not None and process.stderr is not None
        try:
            assert process.stdout.readline()  # `| head -1`
            process.stdout.close()
            assert process.wait(60) == 0
            assert process.stderr.read() == b""
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(30)
            process.stderr.close()


def test_export_reads_while_the_app_is_writing(data_dir: Path) -> None:
    with HistoryStore(history_path(data_dir)) as writing:
        writing._db.execute("BEGIN IMMEDIATE")  # a write transaction is open in the app
        writing._db.executemany("INSERT INTO events (received_at, type, event, channel) VALUES (?, ?, ?, ?)",
                                [("2026-11-22T00:00:00.000Z", "login", "user-loggedIn", CHANNEL)])
        done = run("--data-dir", data_dir, "export")
        writing._db.execute("COMMIT")
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == len(EVENTS)  # WAL: readers see the last commit, never wait
