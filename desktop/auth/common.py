"""What the auth cores share: the base error, safe display of provider text, and JSON field readers.

Provider answers are untrusted: every message built from them goes through :func:`clean_text`, and the
readers never echo a field's value (it may be a code or a token), only its name and expected type
(URLs are the exception: they are shown so a misconfiguration can be found).
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from desktop.config_values import is_loopback_host  # one definition of a loopback host
from desktop.util.text import clean_text


class AuthError(Exception):
    """Base of every auth error; messages are safe to show and to log (no tokens, no codes)."""


def check_url(url: str, what: str, error: type[AuthError]) -> str:
    """``url`` if it is https (or http on a loopback host) with a host and no credentials; else ``error``."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        raise error(f"{what} is not a valid URL: {clean_text(url)}") from None
    if not host:
        raise error(f"{what} has no host name: {clean_text(url)}")
    if parts.username is not None or parts.password is not None:
        raise error(f"{what} must not contain a user name or password")
    if parts.scheme == "https" or (parts.scheme == "http" and is_loopback_host(host)):
        return url
    raise error(f"{what} must use https (http only for a local test server): {clean_text(url)}")


def require_str(body: Mapping[str, object], key: str, what: str, error: type[AuthError]) -> str:
    """A non-empty string field; the message names the field, never its value."""
    value = body.get(key)
    if value is None:
        raise error(f"{what} has no {key!r}")
    if not isinstance(value, str) or not value:
        raise error(f"{what} has a {key!r} that is not a non-empty string")
    return value


def optional_str(body: Mapping[str, object], key: str, what: str, error: type[AuthError]) -> str | None:
    """Like :func:`require_str`, but absent or null gives None."""
    return None if body.get(key) is None else require_str(body, key, what, error)


def optional_seconds(body: Mapping[str, object], key: str, what: str, error: type[AuthError]) -> float | None:
    """A positive number of seconds (int, float or a string of digits); absent or null gives None."""
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < float("inf"):
        raise error(f"{what} has a {key!r} that is not a positive number of seconds")
    return float(value)
