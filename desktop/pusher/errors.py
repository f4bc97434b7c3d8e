"""The engine's one error root: every failure ``desktop.pusher`` raises is a :class:`PusherError`.

``str(exc)`` is a sentence fit for a person (the status bar, ``tail``'s stderr) and never carries a secret, a
token or a whole payload. The kinds stay distinguishable by subclass: a frame we could not decode
(``ProtocolError``, dropped), a broken websocket stream (``FrameError``, connection dropped), an encrypted
event we could not open (``DecryptError``), a client event refused before sending (``ClientEventError``),
and channel or user authorization refused (``AuthorizationError``). The first four are also ``ValueError``s,
as they always were, so existing ``except ValueError`` handlers keep working.
"""

from __future__ import annotations

from desktop.util.text import one_line


class PusherError(Exception):
    """Root of the engine's errors; the message is for a person (see the module)."""


def describe_subscription_error(data: object) -> str:
    """A ``pusher:subscription_error`` in words, the same for every channel the window shows (feed, chat,
    presence): the engine's ``reason`` sentence, else the error and the HTTP status given, on one line."""
    data = data if isinstance(data, dict) else {}
    reason = data.get("reason")
    if isinstance(reason, str) and reason.strip():
        return one_line(reason)
    error = data.get("error")
    text = one_line(str(error)) if error else "no reason given"
    status = data.get("status")
    if isinstance(status, int) and not isinstance(status, bool):
        text += f" (HTTP {status})"
    return text
