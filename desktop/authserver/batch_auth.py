"""Batched channel authorization: several channels of one socket signed in one request.

A desktop that reconnects re-subscribes its feed, chat, presence and user channels at once; one request instead
of four saves three round trips (and three token checks) on every reconnect. The wire format is the one the
pusher-js-auth plugin ("buffered" auth transport) sends and expects, so that plugin works against this server:

- request (form, as pusher-js sends it): ``socket_id`` and ``channel_name[0]``, ``channel_name[1]``, ... (a JSON
  body may give ``channel_name`` as a list instead);
- answer: ``{"<socket_id>": {"<channel>": {"status": 200, "data": {"auth", ...}}, "<other>": {"status": 403,
  "error": "forbidden"}}}``.

Each channel passes the same checks as a single request (name, then the channel policy, then signing), and one
refused channel does not refuse the others. The token, its permission and the rate limit are checked once for the
whole request, before any of this (a token without the permission refuses them all, with a 403 for the request).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from desktop.authserver.params import ApiError, parse_channel_name
from desktop.authserver.policy import Forbidden

__all__ = ["MAX_BATCH_CHANNELS", "authorize_batch", "batched_channel_names"]

MAX_BATCH_CHANNELS = 20
_INDEXED = re.compile(r"channel_name\[(\d{1,3})\]")
_MAX_SHOWN_NAME = 200

Sign = Callable[[str], Awaitable[dict[str, Any]]]


def batched_channel_names(params: Mapping[str, object]) -> list[object] | None:
    """The channels of a batched request in order, or None for a single-channel request."""
    indexed = {int(found[1]): value for key, value in params.items() if (found := _INDEXED.fullmatch(key))}
    listed = params.get("channel_name")
    if not indexed and not isinstance(listed, list):
        return None
    if indexed and "channel_name" in params:
        raise ApiError(400, "invalid_request", "send either 'channel_name' or 'channel_name[i]' fields, not both")
    names = list(listed) if isinstance(listed, list) else [indexed[i] for i in sorted(indexed)]
    if not names:
        raise ApiError(400, "invalid_request", "'channel_name' lists no channel")
    if len(names) > MAX_BATCH_CHANNELS:
        raise ApiError(400, "invalid_request", f"at most {MAX_BATCH_CHANNELS} channels per request")
    return names


async def authorize_batch(socket_id: str, names: list[object], sign: Sign) -> dict[str, dict[str, Any]]:
    """``{socket_id: {channel: {"status", "data" | "error"}}}``; ``sign(channel)`` raises :class:`Forbidden` or
    :class:`ApiError` for a channel it refuses."""
    answers: dict[str, Any] = {}
    for raw in names:
        try:
            channel = parse_channel_name(raw)
        except ApiError as exc:
            shown = raw if isinstance(raw, str) else repr(raw)
            answers[shown[:_MAX_SHOWN_NAME]] = {"status": exc.status, "error": exc.error,
                                                "error_description": exc.description}
            continue
        try:
            answers[channel] = {"status": 200, "data": await sign(channel)}
        except (Forbidden, ApiError) as exc:
            answers[channel] = {"status": exc.status, "error": exc.error, "error_description": exc.description}
    return {socket_id: answers}
