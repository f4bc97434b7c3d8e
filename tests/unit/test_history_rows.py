"""Rows for the history: the fast path builds exactly the careful path's row, and the multi-row INSERT keeps
every row, in order, for any batch size."""

from __future__ import annotations

import contextlib
import dataclasses
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from desktop.feed.events import FeedEvent, normalise
from desktop.history.rows import (
    INSERT_COLUMNS,
    ROWS_PER_STATEMENT,
    insert_statements,
    to_row,
)
from desktop.history.store import HistoryStore

T0 = 1_795_237_262.123


def login(i: int, **payload: Any) -> FeedEvent:
    return normalise("user-loggedIn", "private-login-feed", {"v": 1, "type": "login", "user_id": f"u{i}",
                                                             "name": "Zoë", "logins_count": 3, **payload}, T0)


def test_rows_are_in_insert_column_order_and_odd_values_are_cleaned_not_refused() -> None:
    def row(event: FeedEvent) -> dict[str, Any]:
        values = to_row(event)
        assert len(values) == len(INSERT_COLUMNS)
        assert all(value is None or isinstance(value, str | int) for value in values)
        return dict(zip(INSERT_COLUMNS, values, strict=True))

    plain = row(login(1))
    assert (plain["user_id"], plain["name"], plain["logins_count"], plain["type"]) == ("u1", "Zoë", 3, "login")
    assert plain["data"] == '{"v":1,"type":"login","user_id":"u1","name":"Zoë","logins_count":3}'
    garbage = row(normalise("user-loggedIn", "private-login-feed", "garbage {", T0))
    assert garbage["type"] == "unrecognised" and garbage["reason"] and garbage["user_id"] is None
    assert row(dataclasses.replace(login(2), name="lone \ud800 surrogate"))["name"] == "lone \ufffd surrogate"
    odd = row(dataclasses.replace(login(3), email=42, city=b"bytes", received_at=None))  # type: ignore[arg-type]
    assert (odd["email"], odd["city"], odd["received_at"]) == (None, None, "")  # wrong types; NOT NULL
    for count, stored in ((2**70, None), (True, None), (7.0, 7), (-5, -5), (None, None)):
        assert row(dataclasses.replace(login(4), logins_count=count))["logins_count"] == stored


@pytest.mark.parametrize("count", [0, 1, 2, 3, 63, ROWS_PER_STATEMENT - 1, ROWS_PER_STATEMENT,
                                   ROWS_PER_STATEMENT + 1, 5000, 5001])
def test_insert_statements_cover_every_row_once_in_order(count: int) -> None:
    rows = [tuple(f"{i}.{c}" for c in range(len(INSERT_COLUMNS))) for i in range(count)]
    flat: list[Any] = []
    distinct = set()
    for sql, parameters in insert_statements(rows):
        assert sql.count("?") == len(parameters) <= ROWS_PER_STATEMENT * len(INSERT_COLUMNS)
        distinct.add(sql)
        flat.extend(parameters)
    assert flat == [value for row in rows for value in row]
    assert len(distinct) <= 9  # 256, then powers of two: a handful of prepared statements


def test_a_batch_of_any_size_is_stored_in_order(tmp_path: Path) -> None:
    with HistoryStore(tmp_path / "h.sqlite3") as store:
        for size in (1, 300, 517):
            assert store.add_many([login(i) for i in range(size)]) == size
        assert [ev.user_id for ev in store.iter_since(None)] == [
            f"u{i}" for size in (1, 300, 517) for i in range(size)]
    with contextlib.closing(sqlite3.connect(tmp_path / "h.sqlite3")) as db:
        assert db.execute("SELECT count(DISTINCT id) FROM events").fetchone()[0] == 818
