"""Pusher HTTP API request signing (protocol reference §5), pure: the caller passes the clock in.

Used by ``login-feed simulate`` and the tests to trigger events. Keys are lower-cased before signing
and in the returned query, so what is sent is exactly what was signed.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

AUTH_VERSION = "1.0"
_RESERVED = frozenset({"auth_key", "auth_timestamp", "auth_version", "auth_signature", "body_md5"})


def body_md5(body: bytes) -> str:
    """Hex MD5 of the request body, as the API expects in ``body_md5`` (integrity, not security)."""
    return hashlib.md5(body, usedforsecurity=False).hexdigest()


def string_to_sign(method: str, path: str, params: Mapping[str, str]) -> str:
    """``METHOD\\npath\\nk=v&...`` with keys lower-cased and sorted, values not URL-escaped."""
    query = "&".join(f"{k.lower()}={v}" for k, v in sorted(params.items(), key=lambda kv: kv[0].lower()))
    return f"{method.upper()}\n{path}\n{query}"


def _param_text(name: str, value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise TypeError(f"query parameter {name!r} must be a string or an integer")


def sign_request(
    method: str,
    path: str,
    params: Mapping[str, object],
    body: bytes,
    *,
    key: str,
    secret: str,
    timestamp: int,
) -> dict[str, str]:
    """The complete query for an HTTP API call: ``params`` plus auth_key, auth_timestamp,
    auth_version, body_md5 (non-empty body only) and auth_signature.
    """
    if not key or not secret:
        raise ValueError("app key and secret must be non-empty")
    if not path.startswith("/"):
        raise ValueError("path must start with '/', e.g. /apps/123/events")
    if isinstance(timestamp, bool) or not isinstance(timestamp, int):
        raise TypeError("timestamp must be an integer number of seconds since the epoch")
    if not isinstance(body, bytes | bytearray):
        raise TypeError("body must be bytes (the exact bytes that will be sent)")
    query: dict[str, str] = {}
    for name, value in params.items():
        lowered = name.lower()
        if lowered in _RESERVED:
            raise ValueError(f"query parameter {lowered!r} is set by sign_request")
        if lowered in query:
            raise ValueError(f"query parameter {lowered!r} is given twice (keys are case-insensitive)")
        query[lowered] = _param_text(name, value)
    query["auth_key"] = key
    query["auth_timestamp"] = str(timestamp)
    query["auth_version"] = AUTH_VERSION
    if body:
        query["body_md5"] = body_md5(bytes(body))
    signature = hmac.new(
        secret.encode("utf-8"), string_to_sign(method, path, query).encode("utf-8"), hashlib.sha256
    ).hexdigest()
    query["auth_signature"] = signature
    return query
