"""The log stream's body formats: JSON array, JSON lines, one object; wrapped or bare records; clear errors."""

from __future__ import annotations

import json

import pytest
from support.auth0_log_samples import as_array, as_lines, as_object, record

from desktop.tenantlog.body import BodyError, parse_body


def test_a_json_array_of_wrapped_records() -> None:
    records = [record("fp"), record("s"), record("ss")]
    parsed = parse_body(as_array(records))
    assert [r.log_id for r in parsed.records] == [r["log_id"] for r in records]
    assert parsed.records[1].data["type"] == "s"
    assert parsed.rejected == 0


def test_json_lines_with_blank_lines_and_crlf() -> None:
    records = [record("fp"), record("fu"), record("gd_auth_failed")]
    body = b"\r\n".join(json.dumps(r).encode() for r in records) + b"\r\n\r\n"
    parsed = parse_body(body)
    assert [r.data["type"] for r in parsed.records] == ["fp", "fu", "gd_auth_failed"]
    assert parse_body(as_lines(records)).records == parsed.records


def test_one_object_even_pretty_printed() -> None:
    one = record("s")
    parsed = parse_body(as_object(one))
    assert [r.log_id for r in parsed.records] == [one["log_id"]]


def test_a_bare_event_carrying_its_log_id() -> None:
    bare = record("fp")["data"]
    parsed = parse_body(json.dumps([bare]).encode())
    assert parsed.records[0].log_id == bare["log_id"]
    assert parsed.records[0].data["type"] == "fp"


def test_the_wrapper_id_is_used_when_data_lacks_one_and_numbers_become_text() -> None:
    parsed = parse_body(json.dumps([{"log_id": 900201, "data": {"type": "s"}},
                                    {"data": {"type": "s", "log_id": "90021"}}]).encode())
    assert [r.log_id for r in parsed.records] == ["900201", "90021"]


def test_records_that_are_not_log_events_are_rejected_and_the_rest_kept() -> None:
    good = record("fp")
    body = json.dumps([good, 42, {"data": {"type": "s"}}, {"log_id": "", "data": {}}, {"log_id": "x" * 500},
                       {"log_id": "bad\nid"}]).encode()
    parsed = parse_body(body)
    assert [r.log_id for r in parsed.records] == [good["log_id"]]
    assert parsed.rejected == 5
    assert parsed.problems[0] == "record 2: a JSON number, not an object"


@pytest.mark.parametrize(("body", "message"), [
    (b"", "empty"),
    (b"   \n ", "empty"),
    (b"[{\"log_id\": \"1\"", "the JSON array is not valid JSON"),
    (b"{\"log_id\": \"1\", ", "the JSON object is not valid JSON"),
    (b"{\"log_id\": \"1\"}\n{broken", "line 2 is not valid JSON"),
    (b"42", "JSON number"),
    (b"\"text\"", "JSON string"),
    (b"\xff\xfe[]", "not UTF-8"),
    (b"<html>502 Bad Gateway</html>", "not valid JSON"),
])
def test_unparseable_bodies_raise_a_clear_error(body: bytes, message: str) -> None:
    with pytest.raises(BodyError, match=message):
        parse_body(body)


def test_the_error_never_repeats_the_body() -> None:
    secret_looking = b'{"log_id": "1", "data": {"password": "hunter2"'
    with pytest.raises(BodyError) as caught:
        parse_body(secret_looking)
    assert "hunter2" not in str(caught.value)


def test_an_empty_array_is_a_valid_delivery_of_nothing() -> None:
    parsed = parse_body(b"[]")
    assert parsed.records == [] and parsed.rejected == 0
