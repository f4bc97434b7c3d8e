"""The chat's pure core: parsing what arrives, the 10 KB check before sending, recognising our own echoes."""

from __future__ import annotations

import json
import logging

import pytest

from desktop.chat.messages import (
    ECHO_WINDOW_SECONDS,
    MAX_DISPLAY_CHARS,
    MAX_DISPLAY_LINES,
    MAX_NAME_CHARS,
    MAX_STORED_CHARS,
    ChatMessage,
    EchoFilter,
    check_outgoing,
    clean_name,
    client_event_name,
    display_text,
    new_message_id,
    outgoing_payload,
    outgoing_size,
    parse_message,
)
from desktop.pusher.protocol import MAX_EVENT_DATA_BYTES, encoded_size

NOW = 1_700_000_000.0


# -- parsing ------------------------------------------------------------------------------------------
def test_the_sample_payload_as_an_object_and_as_json_text() -> None:
    for data in ({"message": "hello", "name": "Ada"}, json.dumps({"message": "hello", "name": "Ada"})):
        message = parse_message("message-added", data, NOW)
        assert message is not None
        assert (message.name, message.text, message.at, message.own, message.pending, message.failed) == (
            "Ada", "hello", NOW, False, False, None)


def test_a_sane_id_is_kept_and_an_odd_one_replaced() -> None:
    kept = parse_message("message-added", {"message": "m", "name": "n", "id": "abc123"}, NOW)
    odd = parse_message("message-added", {"message": "m", "name": "n", "id": "<script>"}, NOW)
    missing = parse_message("message-added", {"message": "m", "name": "n"}, NOW)
    assert kept is not None and kept.id == "abc123"
    assert odd is not None and odd.id.startswith("in-")
    assert missing is not None and missing.id.startswith("in-") and missing.id != odd.id


@pytest.mark.parametrize(("data", "reason"), [
    ("not json", "not a JSON object"),
    ("[1, 2]", "JSON list"),
    (["message"], "JSON list"),
    (42, "JSON int"),
    (None, "JSON NoneType"),
    ({"name": "Ada"}, "no 'message'"),
    ({"message": 5, "name": "Ada"}, "'message' is a int"),
    ({"message": {"text": "x"}, "name": "Ada"}, "'message' is a dict"),
    ({"message": "   ", "name": "Ada"}, "empty"),
    ({"message": "hi", "name": ["Ada"]}, "'name' is a list"),
    ({"message": "hi", "name": 7}, "'name' is a int"),
])
def test_unusable_payloads_are_dropped_with_the_reason_logged(data, reason, caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="desktop.chat"):
        assert parse_message("message-added", data, NOW) is None
    assert any(reason in record.getMessage() for record in caplog.records), caplog.text


def test_a_missing_name_is_shown_as_no_name() -> None:
    message = parse_message("message-added", {"message": "hi"}, NOW)
    assert message is not None and message.name == "(no name)"


def test_markup_stays_literal_text() -> None:
    message = parse_message("message-added", {"message": "<b>bold</b>", "name": "<img src=x onerror=alert(1)>"}, NOW)
    assert message is not None
    assert message.name == "<img src=x onerror=alert(1)>"
    assert message.text == message.display == "<b>bold</b>"


def test_long_texts_are_clipped_for_display_but_kept_whole_for_copying() -> None:
    text = "word " * 1000
    message = parse_message("message-added", {"message": text, "name": "Ada"}, NOW)
    assert message is not None
    assert message.text == text
    assert len(message.display) < MAX_DISPLAY_CHARS + 80
    assert "shortened" in message.display


def test_many_lines_are_clipped_for_display() -> None:
    text = "\n".join(str(n) for n in range(500))
    shown = display_text(text)
    assert shown.count("\n") == MAX_DISPLAY_LINES - 1
    assert "shortened" in shown


def test_a_huge_payload_is_not_kept_whole() -> None:
    message = parse_message("message-added", {"message": "x" * (MAX_STORED_CHARS * 3), "name": "Ada"}, NOW)
    assert message is not None and len(message.text) == MAX_STORED_CHARS + 1


def test_control_and_bidi_characters_are_made_visible() -> None:
    assert display_text("a\x00b\u202ec\r\nd\te") == "a\ufffdb\ufffdc\nd    e"
    assert clean_name("Ada\nLovelace\u202e") == "Ada Lovelace\ufffd"
    assert clean_name("   ") == "(no name)"
    assert len(clean_name("n" * 500)) == MAX_NAME_CHARS


def test_display_is_not_part_of_equality() -> None:
    assert ChatMessage("1", "Ada", "hi", NOW) == ChatMessage("1", "Ada", "hi", NOW)


# -- sending --------------------------------------------------------------------------------------------
def test_client_event_names_get_the_client_prefix_once() -> None:
    assert client_event_name("message-added") == "client-message-added"
    assert client_event_name("client-message-added") == "client-message-added"


def test_the_size_is_that_of_the_payload_as_sent() -> None:
    message_id = new_message_id()
    text = 'quote " backslash \\ line\nbreak é 😀'
    payload = outgoing_payload(text, "Ada", message_id)
    assert payload == {"message": text, "name": "Ada", "id": message_id}
    wire = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    assert outgoing_size(text, "Ada", message_id) == encoded_size(payload) == len(wire)
    assert len(message_id) == 32


def _text_of_payload_size(size: int, name: str = "Ada") -> str:
    overhead = outgoing_size("", name)
    return "x" * (size - overhead)


def test_exactly_10_kb_can_be_sent() -> None:
    text = _text_of_payload_size(MAX_EVENT_DATA_BYTES)
    assert outgoing_size(text, "Ada") == MAX_EVENT_DATA_BYTES
    assert check_outgoing(text, "Ada") is None
    assert check_outgoing(text, "Ada", new_message_id()) is None


def test_one_byte_more_is_refused_with_a_reason_for_a_person() -> None:
    text = _text_of_payload_size(MAX_EVENT_DATA_BYTES + 1)
    reason = check_outgoing(text, "Ada")
    assert reason is not None
    assert "10,241 bytes" in reason
    assert "10,240 bytes" in reason
    assert "Shorten it by about 1 character." in reason


def test_escapes_and_multibyte_characters_count() -> None:
    fits = _text_of_payload_size(MAX_EVENT_DATA_BYTES - 1)
    assert check_outgoing(fits + "a", "Ada") is None
    assert check_outgoing(fits + '"', "Ada") is not None  # a quote is sent as \" (2 bytes)
    assert check_outgoing(fits + "é", "Ada") is not None  # 2 bytes in UTF-8
    reason = check_outgoing("é" * 6000, "Ada")
    assert reason is not None and "about 914 characters" in reason


def test_the_name_counts_too() -> None:
    text = _text_of_payload_size(MAX_EVENT_DATA_BYTES)
    assert check_outgoing(text, "Ada") is None
    assert check_outgoing(text, "Adam") is not None


def test_empty_and_broken_messages_are_refused() -> None:
    assert check_outgoing("", "Ada") == "The message is empty."
    assert check_outgoing(" \n ", "Ada") == "The message is empty."
    reason = check_outgoing("a\ud800b", "Ada")
    assert reason is not None and "surrogate" in reason


# -- own messages shown once -----------------------------------------------------------------------
def _incoming(text: str, name: str = "Ada", message_id: str | None = None) -> ChatMessage:
    data = {"message": text, "name": name} | ({"id": message_id} if message_id else {})
    message = parse_message("message-added", data, NOW)
    assert message is not None
    return message


def test_an_echo_carrying_our_id_is_recognised() -> None:
    echoes = EchoFilter()
    echoes.expect("a" * 32, "Ada", "hello", now=100.0)
    assert echoes.take(_incoming("hello", message_id="a" * 32), now=101.0) == "a" * 32
    assert len(echoes) == 0


def test_an_echo_without_our_id_is_recognised_by_name_and_text() -> None:
    echoes = EchoFilter()
    echoes.expect("id1", "Ada", "hello", now=100.0)
    assert echoes.take(_incoming("hello", name="Bob"), now=101.0) is None
    assert echoes.take(_incoming("hello!"), now=101.0) is None
    assert echoes.take(_incoming("hello"), now=101.0) == "id1"
    # Consumed: the same words again (Ada on another device, say) are a new message.
    assert echoes.take(_incoming("hello"), now=101.5) is None


def test_two_identical_messages_are_matched_one_each() -> None:
    echoes = EchoFilter()
    echoes.expect("first", "Ada", "ok", now=100.0)
    echoes.expect("second", "Ada", "ok", now=100.5)
    assert echoes.take(_incoming("ok"), now=101.0) == "first"
    assert echoes.take(_incoming("ok"), now=101.0) == "second"
    assert echoes.take(_incoming("ok"), now=101.0) is None


def test_an_expectation_lapses_after_the_window() -> None:
    echoes = EchoFilter()
    echoes.expect("id1", "Ada", "hello", now=100.0)
    assert echoes.take(_incoming("hello"), now=100.0 + ECHO_WINDOW_SECONDS + 0.1) is None
    assert len(echoes) == 0


def test_the_name_is_compared_as_shown() -> None:
    echoes = EchoFilter()
    echoes.expect("id1", "Ada\nLovelace", "hello", now=100.0)
    assert echoes.take(_incoming("hello", name="Ada Lovelace"), now=100.5) == "id1"


def test_forget_drops_an_expectation() -> None:
    echoes = EchoFilter()
    echoes.expect("id1", "Ada", "hello", now=100.0)
    echoes.forget("id1")
    assert echoes.take(_incoming("hello"), now=100.5) is None
