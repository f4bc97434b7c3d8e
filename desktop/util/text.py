"""Text from outside (servers, tokens, payloads, people) made safe to show: the one character policy.

Why one module: a message, a log line, a feed row and a chat line all show strings an attacker may have
written. Each function here states what it keeps and what it replaces; callers pick by where the text goes,
never by writing their own character set.
"""

from __future__ import annotations

__all__ = ["DESCRIPTION_LIMIT", "clean_text"]

DESCRIPTION_LIMIT = 200


def clean_text(value: object, limit: int = DESCRIPTION_LIMIT) -> str:
    """``value`` as one printable line of at most ``limit`` characters (for messages and logs): anything
    ``str.isprintable`` refuses becomes a space, runs of white space one space; a non-string shows its ``repr``."""
    text = value if isinstance(value, str) else repr(value)
    text = " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
