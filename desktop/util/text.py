"""Text from outside (servers, tokens, payloads, people) made safe to show: the one character policy.

A feed row, a ``tail`` line, a chat message, an error message and a log line all show strings an attacker may
have written. The policy, in one place:

- **Breaks** (:data:`BREAKS`: tab, line feed, vertical tab, form feed, carriage return, the file/group/record
  separators, NEL, U+2028, U+2029) end a line. Where one line is wanted they become a space.
- **Unsafe** characters (:data:`UNSAFE`) never reach the screen or a terminal as they are: the other C0 and C1
  controls and DEL (a terminal obeys escape sequences), the bidirectional marks, embeddings, overrides and
  isolates U+200E, U+200F, U+202A-U+202E, U+2066-U+2069 (they make a line lie about its content:
  ``\\u202egnp.exe`` shows as ``exe.png``), and lone surrogates (they cannot be encoded). They become
  U+FFFD, so the reader sees that something was there.
- Everything else, emoji, combining marks and every script included, is shown as sent.

:func:`one_line` (feed rows, ``tail``, names) and :func:`lines` (chat text) apply it for display;
:func:`escaped` for JSON shown to a person; :func:`clean_text` is the stricter form for error messages and logs
(anything ``str.isprintable`` refuses becomes a space, one short line); :func:`replace_surrogates` only makes
text encodable (storage). Qt widgets additionally render such text as plain text, never rich text
(:func:`desktop.ui.text.plain`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["BREAKS", "DESCRIPTION_LIMIT", "UNSAFE", "clean_text", "escaped", "json_detail", "lines", "one_line",
           "replace_surrogates"]

DESCRIPTION_LIMIT = 200
ELLIPSIS = "…"
REPLACEMENT = "\ufffd"

BREAKS = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x85\u2028\u2029"
UNSAFE = "\x00-\x08\x0e-\x1b\x1f\x7f-\x84\x86-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff"
"""A regular-expression character class (without brackets): the unsafe characters that are not breaks."""

_BREAK = re.compile(f"[{BREAKS}]")
_UNSAFE = re.compile(f"[{UNSAFE}]")
_UNSAFE_OR_BREAK_BUT_NEWLINE = re.compile(f"[{UNSAFE}\t\x0b\x0c\r\x1c\x1d\x1e\x85]")
_JSON_UNSAFE = re.compile(f"[{UNSAFE}\x85\u2028\u2029]")
_SURROGATES = re.compile("[\ud800-\udfff]")


def one_line(text: str | None, limit: int | None = None) -> str:
    """One safe line: breaks become spaces, unsafe characters U+FFFD; cut to ``limit`` characters (with an
    ellipsis) first, which bounds the work for hostile 1,000-character fields."""
    if not text:
        return ""
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + ELLIPSIS
    if text.isascii() and text.isprintable():  # the common case
        return text
    return _UNSAFE.sub(REPLACEMENT, _BREAK.sub(" ", text))


def lines(text: str) -> str:
    """Text that keeps its line feeds (the caller has turned CR LF and CR into LF, tabs into spaces): every other
    break and every unsafe character becomes U+FFFD."""
    return _UNSAFE_OR_BREAK_BUT_NEWLINE.sub(REPLACEMENT, text)


def escaped(json_text: str) -> str:
    """JSON text for a person to read: unsafe characters and U+2028/U+2029 as ``\\uXXXX`` escapes (JSON escapes
    the C0 controls itself; the line feeds of its indentation stay)."""
    return _JSON_UNSAFE.sub(lambda match: f"\\u{ord(match.group()):04x}", json_text)


def replace_surrogates(text: str) -> str:
    """``text`` encodable as UTF-8 (stdout, SQLite, Qt): lone surrogates become U+FFFD, nothing else changes."""
    return text if text.isascii() else _SURROGATES.sub(REPLACEMENT, text)


def clean_text(value: object, limit: int | None = DESCRIPTION_LIMIT) -> str:
    """``value`` as one printable line of at most ``limit`` characters (for messages and logs): anything
    ``str.isprintable`` refuses becomes a space, runs of white space one space; a non-string shows its ``repr``."""
    text = value if isinstance(value, str) else repr(value)
    text = " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
    return text if limit is None or len(text) <= limit else text[: limit - 1] + ELLIPSIS


def json_detail(answer: object, keys: Sequence[str] = ("error_description", "error", "message")) -> str:
    """``": <text>"`` from a decoded JSON error body (:func:`desktop.util.http.error_detail` decodes one): the
    first of ``keys`` that holds text (a nested ``{"message": ...}`` too; ``keys`` puts first what a service fills
    with the detail), one printable line of at most 200 characters; ``""`` when there is none. The one reading of
    an error body's detail, for every HTTP client here."""
    if not isinstance(answer, dict):
        return ""
    text = next((value for value in map(answer.get, keys) if value), None)
    if isinstance(text, dict):
        text = text.get("message")
    if not isinstance(text, str) or not text.strip():
        return ""
    return f": {clean_text(text, DESCRIPTION_LIMIT)}"
