"""Reading a request's parameters for the authorization server: bounded, deadline-limited, and strict.

A body is read whole before anything looks at it, at most :data:`MAX_BODY_BYTES` and within a total deadline
(a per-read timeout would let a client drip one byte at a time forever). Form fields (as pusher-js sends them)
and JSON objects give the same dict. Whatever would make a later step fail with a 500 is refused here with a 400:
JSON nested too deeply for the parser (``RecursionError``) and text that is not valid Unicode (a lone surrogate,
which JSON's ``\\ud800`` can spell and which ``str.encode`` then refuses).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

import anyio
from starlette.requests import ClientDisconnect, Request
from starlette.types import Message

from desktop.authserver.errors import AuthServerError
from desktop.signing.names import ChannelKind, channel_kind, validate_channel_name
from desktop.signing.signatures import validate_socket_id

__all__ = ["BODY_TIMEOUT", "MAX_BODY_BYTES", "ApiError", "parse_channel_name", "parse_socket_id", "read_body",
           "read_params"]

MAX_BODY_BYTES = 64 * 1024
BODY_TIMEOUT = 10.0
"""Seconds a client has to send a whole request body, however slowly it trickles in."""
_MAX_FIELDS = 50
_SURROGATE = re.compile("[\ud800-\udfff]")


class ApiError(AuthServerError):
    """An answer other than 200: ``status`` with the JSON body ``{"error", "error_description"}``."""

    def __init__(self, status: int, error: str, description: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(description, status=status, error=error)
        self.headers = dict(headers or {})


async def read_body(request: Request, timeout: float, limit: int = MAX_BODY_BYTES) -> bytes:
    """The whole body, at most ``limit`` bytes (413 beyond), within ``timeout`` seconds in total (408 and the
    connection closed otherwise: a per-read timeout would let a client drip one byte at a time forever)."""
    too_large = f"the request body is larger than {_size(limit)}"
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > limit:
        raise ApiError(413, "payload_too_large", too_large)
    chunks: list[bytes] = []
    total = 0
    try:
        with anyio.fail_after(timeout):
            async for chunk in request.stream():
                total += len(chunk)
                if total > limit:
                    raise ApiError(413, "payload_too_large", too_large)
                chunks.append(chunk)
    except ClientDisconnect:
        raise ApiError(400, "invalid_request", "the client went away before sending the whole body") from None
    except TimeoutError:
        raise ApiError(408, "request_timeout", f"the request body did not arrive within {timeout:g} s",
                       {"Connection": "close"}) from None
    return b"".join(chunks)


def _size(limit: int) -> str:
    return f"{limit / (1024 * 1024):g} MB" if limit >= 1024 * 1024 else f"{limit // 1024} KB"


async def read_params(request: Request, timeout: float) -> dict[str, object]:
    """Form fields (urlencoded or multipart, without files) or a JSON object's members; text that is not valid
    Unicode (a lone surrogate, which JSON's ``\\ud800`` can spell) is refused here, before anything encodes it."""
    params = await _parse_params(request, timeout)
    if _has_lone_surrogate(params):
        raise ApiError(400, "invalid_request", "the request contains text that is not valid Unicode "
                                               "(a lone surrogate)")
    return params


def _has_lone_surrogate(document: object) -> bool:
    """Any string (key or value, at any depth) with a UTF-16 surrogate; iterative, so depth cannot hurt."""
    stack = [document]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


async def _parse_params(request: Request, timeout: float) -> dict[str, object]:
    body = await read_body(request, timeout)
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type == "application/json" or content_type.endswith("+json"):
        try:
            document = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise ApiError(400, "invalid_request", "the request body is not valid JSON") from None
        except RecursionError:
            raise ApiError(400, "invalid_request", "the request body's JSON is nested too deeply") from None
        if not isinstance(document, dict):
            raise ApiError(400, "invalid_request", "the request body must be a JSON object")
        return document
    if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        sent = False

        async def replay() -> Message:  # the form parser reads the body we already hold
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        form = await Request(request.scope, replay).form(max_files=0, max_fields=_MAX_FIELDS,
                                                          max_part_size=MAX_BODY_BYTES)
        try:
            return {name: value for name, value in form.multi_items() if isinstance(value, str)}
        finally:
            await form.close()
    if not body and not content_type:
        return {}
    raise ApiError(415, "unsupported_media_type",
                   "send application/x-www-form-urlencoded (as pusher-js does) or application/json")


def parse_socket_id(value: object) -> str:
    """A valid Pusher socket id (400 otherwise)."""
    if value is None or value == "":
        raise ApiError(400, "invalid_request", "'socket_id' is required")
    if not isinstance(value, str):
        raise ApiError(400, "invalid_request", "'socket_id' must be a string such as 1234.5678")
    try:
        return validate_socket_id(value)
    except ValueError as exc:
        raise ApiError(400, "invalid_request", str(exc)) from None


def parse_channel_name(value: object) -> str:
    """A valid, non-public channel name (400 otherwise)."""
    if value is None or value == "":
        raise ApiError(400, "invalid_request", "'channel_name' is required")
    if not isinstance(value, str):
        raise ApiError(400, "invalid_request", "'channel_name' must be a string")
    try:
        validate_channel_name(value)
    except ValueError as exc:
        raise ApiError(400, "invalid_request", str(exc)) from None
    if channel_kind(value) is ChannelKind.PUBLIC:
        raise ApiError(400, "invalid_request", f"{value!r} is a public channel: it needs no authorization")
    return value
