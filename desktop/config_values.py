"""The building blocks of the configuration's checks: :class:`Invalid`, and checks for text, choices, hosts,
channels, ports and numbers that :data:`desktop.config_checks.SCHEMA` combines per key.

Each check takes a raw TOML (or environment) value and returns the typed value or raises :class:`Invalid`; none
knows which file or key it is checking, so the loader and the environment overrides share them.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from typing import Any

from desktop.signing.names import MAX_CHANNEL_NAME_LENGTH, validate_channel_name

__all__ = ["CHANNEL_MAX_LEN", "NO_SPACE_RE", "Check", "Invalid", "boolean", "channel", "choice", "count", "host",
           "is_loopback_host", "optional", "port", "positive", "text"]

CHANNEL_MAX_LEN = MAX_CHANNEL_NAME_LENGTH
NO_SPACE_RE = re.compile(r"^\S+$")
_LABEL = r"[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?"
_HOST_RE = re.compile(rf"^{_LABEL}(\.{_LABEL})*\.?$")


class Invalid(ValueError):
    """One value failed its check; the loader adds the file and the key to turn it into a ConfigError."""

    def __init__(self, requirement: str, *, echo: bool = True) -> None:
        super().__init__(requirement)
        self.requirement = requirement  # a phrase starting with "must"
        self.echo = echo  # False when the value may be sensitive and must not be repeated back


Check = Callable[[Any], Any]


def is_loopback_host(host: str) -> bool:
    """127.0.0.0/8, ::1 and localhost: the only hosts where plain http is acceptable."""
    host = host.strip("[]").rstrip(".").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _is_host(value: str) -> bool:
    try:
        ipaddress.ip_address(value.strip("[]"))
    except ValueError:
        return bool(_HOST_RE.fullmatch(value)) and len(value) <= 253
    return True


def text(expected: str, pattern: re.Pattern[str] = NO_SPACE_RE, max_len: int = 1000) -> Check:
    def check(value: Any) -> str:
        if not isinstance(value, str) or not pattern.fullmatch(value) or len(value) > max_len:
            raise Invalid(f"must be {expected}")
        return value

    return check


def optional(inner: Check) -> Check:
    """An empty string means "not set", so Settings and `VAR=` in a shell can clear a key."""

    def check(value: Any) -> Any:
        return None if value == "" else inner(value)

    return check


def choice(*options: str) -> Check:
    def check(value: Any) -> str:
        if value not in options:
            raise Invalid("must be one of " + ", ".join(f'"{o}"' for o in options))
        return str(value)

    return check


def host(expected: str) -> Check:
    def check(value: Any) -> str:
        if not isinstance(value, str) or not _is_host(value):
            hint = " (without a scheme, a port or a path)" if isinstance(value, str) and value else ""
            raise Invalid(f"must be {expected}{hint}")
        return value

    return check


def _valid_channel(name: str) -> bool:
    """Pusher's channel-name rules, from the one place the engine and the signer use too."""
    try:
        validate_channel_name(name)
    except ValueError:
        return False
    return True


def channel(prefixes: tuple[str, ...] = ()) -> Check:
    def check(value: Any) -> str:
        expected = f"a channel name of at most {CHANNEL_MAX_LEN} characters from a-z A-Z 0-9 - _ = @ , . ;"
        if prefixes:
            expected += " starting with " + " or ".join(f'"{p}"' for p in prefixes)
        ok = isinstance(value, str) and _valid_channel(value)
        if not ok or (prefixes and not value.startswith(prefixes)):
            raise Invalid(f"must be {expected}")
        return value

    return check


def port(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise Invalid("must be an integer between 1 and 65535")
    return value


def boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise Invalid("must be true or false")
    return value


def positive(high: int, unit: str) -> Check:
    """A number (int or float) above 0 and at most ``high``, as a float: "a number of ``unit`` ..."."""
    def check(value: Any) -> float:
        ok = isinstance(value, int | float) and not isinstance(value, bool) and 0 < value <= high
        if not ok:
            raise Invalid(f"must be a number of {unit} greater than 0 and at most {high}")
        return float(value)

    return check


def count(low: int, high: int, what: str) -> Check:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise Invalid(f"must be {what}: an integer between {low} and {high}")
        return value

    return check
