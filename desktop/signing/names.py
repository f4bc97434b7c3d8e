"""Pusher channel names: what kind a name is and whether it is acceptable (protocol reference §1.7).

The kind decides how a subscription is authorized, so the prefix checks live in one place that the
engine, the local signer and the authorization endpoint all share.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

MAX_CHANNEL_NAME_LENGTH = 164
"""Pusher's documented limit (servers accept up to 200; the stricter value fails early and clearly)."""

SERVER_TO_USER_PREFIX = "#server-to-user-"
"""The channel the server subscribes a signed-in user to; never subscribed to by name."""

_NAME_RE = re.compile(r"[-a-zA-Z0-9_=@,.;]+")
_ALLOWED = "A-Z a-z 0-9 _ - = @ , . ;"
_SHOWN_CHARS = 80


class ChannelKind(StrEnum):
    """How a channel is authorized: the prefix is the whole contract."""

    PUBLIC = "public"
    PRIVATE = "private"
    PRESENCE = "presence"
    ENCRYPTED = "encrypted"

    @property
    def requires_auth(self) -> bool:
        """Every kind except public needs a signature before the server lets us in."""
        return self is not ChannelKind.PUBLIC

    @property
    def allows_client_events(self) -> bool:
        """Client events exist only on private and presence channels (not public, not encrypted)."""
        return self in (ChannelKind.PRIVATE, ChannelKind.PRESENCE)


@dataclass(frozen=True, slots=True)
class ChannelInfo:
    """A channel's kind plus whether the server replays its last event on subscribe."""

    kind: ChannelKind
    is_cache: bool


# Longest prefix first: "private-encrypted-" must win over "private-".
_PREFIXES: tuple[tuple[str, ChannelKind], ...] = (
    ("private-encrypted-", ChannelKind.ENCRYPTED),
    ("private-", ChannelKind.PRIVATE),
    ("presence-", ChannelKind.PRESENCE),
)


def channel_info(name: str) -> ChannelInfo:
    """Classify ``name`` by prefix without validating it (validate first if it came from outside)."""
    for prefix, kind in _PREFIXES:
        if name.startswith(prefix):
            return ChannelInfo(kind, name[len(prefix) :].startswith("cache-"))
    return ChannelInfo(ChannelKind.PUBLIC, name.startswith("cache-"))


def channel_kind(name: str) -> ChannelKind:
    """The kind of ``name``; ``#server-to-user-`` channels count as public (no signature)."""
    return channel_info(name).kind


def is_internal_channel(name: str) -> bool:
    """True for the server-to-user channel that a user sign-in implies."""
    return name.startswith(SERVER_TO_USER_PREFIX)


def _shown(name: str) -> str:
    """A bounded repr for error messages: names are not secret, but they may be huge."""
    if len(name) > _SHOWN_CHARS:
        return repr(name[:_SHOWN_CHARS]) + "…"
    return repr(name)


def validate_channel_name(name: str, *, allow_internal: bool = False) -> str:
    """Return ``name`` unchanged if Pusher would accept it, else raise ValueError saying why.

    ``allow_internal`` admits ``#server-to-user-<id>``, which only the engine subscribes to after a
    user sign-in; people and config files must never name it.
    """
    if not isinstance(name, str):
        raise TypeError(f"channel name must be a string, not {type(name).__name__}")
    if not name:
        raise ValueError("channel name is empty")
    if len(name) > MAX_CHANNEL_NAME_LENGTH:
        raise ValueError(
            f"channel name {_shown(name)} is {len(name)} characters long; the limit is {MAX_CHANNEL_NAME_LENGTH}"
        )
    body = name
    if name.startswith("#"):
        if not is_internal_channel(name):
            raise ValueError(f"channel name {_shown(name)}: names starting with '#' are reserved")
        if not allow_internal:
            raise ValueError(
                f"channel name {_shown(name)} is internal: the server-to-user channel comes with "
                "user sign-in and cannot be subscribed to by name"
            )
        body = name[len(SERVER_TO_USER_PREFIX) :]
        if not body:
            raise ValueError(f"channel name {_shown(name)} has no user id")
    if _NAME_RE.fullmatch(body) is None:
        raise ValueError(f"channel name {_shown(name)} may only contain {_ALLOWED}")
    return name
