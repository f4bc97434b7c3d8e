"""The history keeps each alert's latest version (issue 15), so the window's restore and ``export`` show the news.

An alert keeps its ``log_id`` while the server updates it; the history's one-row-per-``log_id`` rule kept only
the first version. Real alerts from the detector, a real history file, the real ``export``.
"""

from __future__ import annotations

import io
import json
import sqlite3
from pathlib import Path

from support.alert_timelines import T0, event

from desktop.alerts import AlertDetector
from desktop.feed.events import normalise
from desktop.history.export import run_export
from desktop.history.files import history_path, open_store

CHANNEL = "private-login-feed"


def test_an_update_replaces_the_stored_alert_and_export_prints_the_latest(tmp_path: Path) -> None:
    failures = [event("fp", T0 + i, user="bob@example.com", ip="198.51.100.7") for i in range(12)]
    new, update = AlertDetector().feed([*failures, event("fp", T0 + 400, user="bob@example.com")])
    other = event("fp", T0 + 401, user="ann@example.com")
    with open_store(history_path(tmp_path)) as history:
        history.add_many([normalise("log-event", CHANNEL, new, T0 + 10)])
        history.add_many([normalise("log-event", CHANNEL, e, T0 + 500) for e in (update, new, other)])
        history.add_many([normalise("log-event", CHANNEL, new, T0 + 600)])  # the first version again: no change
        assert history.count() == 2
    out = io.BytesIO()
    assert run_export(tmp_path, "jsonl", out=out) == 0
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    alerts = [line for line in lines if line["kind"] == "alert"]
    assert [(a["log_id"], a["data"]["updates"], a["data"]["count"]) for a in alerts] == [
        (new["log_id"], 1, update["count"])]
    assert {line["log_id"] for line in lines} == {new["log_id"], other["log_id"]}


def test_a_hand_edited_row_does_not_stop_the_history(tmp_path: Path) -> None:
    failures = [event("fp", T0 + i, user="bob@example.com") for i in range(12)]
    new, update = AlertDetector().feed([*failures, event("fp", T0 + 400, user="bob@example.com")])
    path = history_path(tmp_path)
    with open_store(path) as history:
        history.add_many([normalise("log-event", CHANNEL, new, T0)])
    with sqlite3.connect(path) as db:
        db.execute("UPDATE events SET data = 'not json {' WHERE log_id = ?", (new["log_id"],))
    db.close()
    with open_store(path) as history:
        history.add_many([normalise("log-event", CHANNEL, update, T0)])  # replaces the unreadable row
        assert [ev.data["updates"] for ev in history.iter_since(None)] == [1]
