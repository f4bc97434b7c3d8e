"""``login-feed export`` formats: jsonl like ``tail``, CSV safe for spreadsheets, --since, empty histories."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from desktop.feed.events import FeedEvent, normalise, to_json_dict
from desktop.feed.serialise import CSV_COLUMNS, csv_row, jsonl_line, spreadsheet_safe
from desktop.history.export import run_export, write_export
from desktop.history.files import history_path, open_store
from desktop.pusher.core import ChannelEvent
from desktop.tail import _json_encoder

CHANNEL = "private-login-feed"
T0 = 1_795_237_262.123  # 2026-11-21T05:01:02.123Z


def v1(i: int, **overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "v": 1, "type": "signup", "user_id": f"auth0|{i}", "email": f"user{i}@example.com", "name": "Zoë",
        "country": "GB", "logins_count": 1, "at": "2026-11-21T05:01:02.123Z",
        "app_metadata": {"signedUp": True, "tags": ["a", {"b": None}]},
    }
    payload.update(overrides)
    return payload


EVENTS = [
    normalise("user-signedUp", CHANNEL, v1(1), T0),
    normalise("user-signedUp", CHANNEL, v1(2, name="=HYPERLINK(\"http://evil.example\",\"click\")",
                                           nickname="+1 555", city="-2+3", email="@SUM(A1)@x.y"), T0 + 60),
    normalise("user-loggedIn", CHANNEL, v1(3, type="login", name="<img src=x>", big=10**30, bad="\ud800"), T0 + 3600),
    normalise("user-loggedIn", CHANNEL, "garbage {", T0 + 7200),
]


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "data"
    with open_store(history_path(directory)) as store:
        store.add_many(EVENTS)
    return directory


def export(data_dir: Path, fmt: str = "jsonl", since: str | None = None) -> tuple[int, bytes]:
    out = io.BytesIO()
    code = run_export(data_dir, fmt, since, out)
    return code, out.getvalue()


def test_jsonl_is_one_to_json_dict_object_per_line_oldest_first(data_dir: Path) -> None:
    code, output = export(data_dir)
    assert code == 0
    lines = output.decode("utf-8").splitlines()
    assert len(lines) == len(EVENTS)
    for line, ev in zip(lines, EVENTS, strict=True):
        obj = json.loads(line)
        assert list(obj) == list(to_json_dict(ev))
        assert obj == json.loads(json.dumps(to_json_dict(ev)))
    assert json.loads(lines[2])["data"]["big"] == 10**30  # exact, via the strict fallback encoder
    assert json.loads(lines[2])["data"]["bad"] == "\ud800"
    assert json.loads(lines[2])["name"] == "<img src=x>"


def test_jsonl_lines_are_exactly_what_tail_prints(data_dir: Path) -> None:
    encode = _json_encoder()
    tail_output = b"".join(encode(ChannelEvent(ev.channel, ev.event, ev.data, None, T0)) for ev in EVENTS)
    tail_lines = tail_output.splitlines(keepends=True)
    for tail_line, ev in zip(tail_lines, EVENTS, strict=True):
        tail_obj, export_obj = json.loads(tail_line), json.loads(jsonl_line(ev))
        tail_obj["received_at"] = export_obj["received_at"]
        assert tail_obj == export_obj
        assert list(tail_obj) == list(export_obj)


def test_csv_has_a_header_flat_fields_and_data_as_json(data_dir: Path) -> None:
    code, output = export(data_dir, "csv")
    assert code == 0
    assert b"\r\n" in output
    rows = list(csv.reader(io.StringIO(output.decode("utf-8"), newline="")))
    assert rows[0] == list(CSV_COLUMNS)
    assert len(rows) == 1 + len(EVENTS)
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first["name"] == "Zoë"
    assert first["logins_count"] == "1"
    assert first["nickname"] == ""  # None
    assert first["received_at"] == "2026-11-21T05:01:02.123Z"
    assert json.loads(first["data"]) == v1(1)
    third = dict(zip(rows[0], rows[3], strict=True))
    assert third["name"] == "<img src=x>"  # markup is just text
    assert json.loads(third["data"])["big"] == 10**30
    garbage = dict(zip(rows[0], rows[4], strict=True))
    assert garbage["type"] == "unrecognised" and garbage["reason"]
    assert json.loads(garbage["data"]) == "garbage {"


def test_csv_cells_that_a_spreadsheet_would_run_as_formulas_get_a_quote(data_dir: Path) -> None:
    _, output = export(data_dir, "csv")
    rows = list(csv.reader(io.StringIO(output.decode("utf-8"), newline="")))
    evil = dict(zip(rows[0], rows[2], strict=True))
    assert evil["name"] == "'=HYPERLINK(\"http://evil.example\",\"click\")"
    assert evil["nickname"] == "'+1 555"
    assert evil["city"] == "'-2+3"
    assert evil["email"] == "'@SUM(A1)@x.y"
    assert evil["data"].startswith("{")  # JSON objects are safe as they are
    for row in rows[1:]:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell


@pytest.mark.parametrize(("cell", "safe"), [
    ("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@x", "'@x"), ("\t=1", "'\t=1"), ("\r=1", "'\r=1"),
    ("a=1", "a=1"), ("", ""), ("'quoted", "'quoted"), (" =1", " =1"), ("Zoë", "Zoë"),
])
def test_spreadsheet_safe(cell: str, safe: str) -> None:
    assert spreadsheet_safe(cell) == safe


def test_csv_row_of_a_bare_event() -> None:
    ev = FeedEvent(event="x", channel="auth0", type="unrecognised", received_at="2026-11-21T05:01:02.123Z",
                   data=None, reason="not a feed event")
    row = dict(zip(CSV_COLUMNS, csv_row(ev), strict=True))
    assert row["data"] == "null"
    assert row["user_id"] == "" and row["logins_count"] == ""
    assert row["reason"] == "not a feed event"


def test_since_filters_on_received_at(data_dir: Path) -> None:
    _, output = export(data_dir, since="2026-11-21T06:00Z")
    assert [json.loads(line)["received_at"] for line in output.splitlines()] == [
        "2026-11-21T06:01:02.123Z", "2026-11-21T07:01:02.123Z"]
    _, output = export(data_dir, "csv", since="2026-11-22")
    assert output.decode("utf-8").splitlines() == [",".join(CSV_COLUMNS)]
    _, output = export(data_dir, since="2026-11-21")
    assert len(output.splitlines()) == len(EVENTS)


def test_a_bad_since_is_a_clear_error(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, output = export(data_dir, since="last week")
    assert (code, output) == (2, b"")
    assert "--since: expected an ISO date or time such as 2026-11-21 or 2026-11-21T05:00Z, got 'last week'" in (
        capsys.readouterr().err)


def test_a_missing_history_is_empty_and_nothing_is_created(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    assert export(missing) == (0, b"")
    code, output = export(missing, "csv")
    assert code == 0
    assert output == (",".join(CSV_COLUMNS) + "\r\n").encode()
    assert not missing.exists()


def test_an_empty_history_file(tmp_path: Path) -> None:
    open_store(history_path(tmp_path)).close()
    assert export(tmp_path) == (0, b"")
    assert export(tmp_path, "csv")[1].count(b"\r\n") == 1


def test_an_unreadable_history_exits_1_with_the_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    history_path(tmp_path).write_bytes(b"not a database at all" * 100)
    assert export(tmp_path) == (1, b"")
    assert str(history_path(tmp_path)) in capsys.readouterr().err


def test_write_export_refuses_unknown_formats() -> None:
    with pytest.raises(ValueError, match="jsonl, csv"):
        write_export([], "xml", io.BytesIO())


def test_a_reader_that_goes_away_is_not_an_error(data_dir: Path) -> None:
    class ClosedPipe(io.BytesIO):
        def write(self, data: Any) -> int:
            raise BrokenPipeError

    assert run_export(data_dir, "jsonl", None, ClosedPipe()) == 0
    assert run_export(data_dir, "csv", None, ClosedPipe()) == 0
