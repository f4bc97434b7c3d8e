"""The one character policy (desktop/util/text.py): every place that shows outside text agrees on it."""

from __future__ import annotations

import pytest

from desktop.chat.messages import clean_name, display_text
from desktop.feed.detail import raw_json
from desktop.feed.events import normalise, to_text_line
from desktop.feed.model import plain_line
from desktop.util.text import BREAKS, clean_text, escaped, lines, one_line, replace_surrogates

HOSTILE = "a\u200eb\u200fc\u202ed\u2066e\x00f\x1bg\x7fh\x9bi\ud800j"


def test_unsafe_characters_become_the_replacement_character_everywhere_a_line_is_shown() -> None:
    expected = "a\ufffdb\ufffdc\ufffdd\ufffde\ufffdf\ufffdg\ufffdh\ufffdi\ufffdj"
    assert one_line(HOSTILE) == expected
    assert plain_line(HOSTILE) == expected
    assert clean_name(HOSTILE) == expected
    payload = {"v": 1, "type": "login", "user_id": "u1", "name": HOSTILE}
    event = normalise("user-loggedIn", "private-feed", payload, 1_795_237_262.0)
    assert expected in to_text_line(event)  # tail used to keep the directional marks the window stripped


def test_breaks_become_spaces_in_a_line_and_stay_in_chat_text() -> None:
    assert one_line("a" + BREAKS + "b") == "a" + " " * len(BREAKS) + "b"
    assert lines("one\ntwo\u202e\x0bthree") == "one\ntwo\ufffd\ufffdthree"
    assert display_text("one\r\ntwo") == "one\ntwo"


def test_emoji_and_scripts_pass_as_sent() -> None:
    text = "Zoë 🧑\u200d💻 محمد 山田"
    assert one_line(text) == text and lines(text) == text


def test_json_for_people_escapes_what_would_reorder_lines() -> None:
    assert escaped('"a\u202eb\u2028c\x85"') == '"a\\u202eb\\u2028c\\u0085"'
    assert "\u200e" not in raw_json({"name": "a\u200eb"})


@pytest.mark.parametrize(("value", "limit", "shown"), [
    ("a\x00b\n c", 200, "a b c"), ("x" * 10, 5, "xxxx…"), (b"raw", 200, "b'raw'"),
    ("long " * 99, None, ("long " * 99).strip()),
])
def test_messages_and_logs_get_one_short_printable_line(value: object, limit: int | None, shown: str) -> None:
    assert clean_text(value, limit) == shown


def test_storage_only_needs_encodable_text() -> None:
    assert replace_surrogates("a\ud800\u202eb") == "a\ufffd\u202eb"
