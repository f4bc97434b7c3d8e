"""The server's access log: one line per request through ``logging`` (logger ``desktop.authserver.access``),
and the response headers every answer carries.

A line holds the client, method, path (never the query string), status, duration and the caller's ``sub`` once
a route has verified it (:func:`note_caller`). Headers, tokens, signatures and the app secret never reach it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from desktop.util.text import clean_text

__all__ = ["AccessLogMiddleware", "access_log", "note_caller"]

access_log = logging.getLogger("desktop.authserver.access")

_LOG_KEY = "login_feed.access"


def note_caller(scope: Scope, sub: str) -> None:
    """The verified caller of this request, for its access-log line."""
    info = scope.get(_LOG_KEY)
    if isinstance(info, dict):
        info["sub"] = sub


class AccessLogMiddleware:
    """One log line per request, plus ``Cache-Control: no-store`` (answers hold signatures and keys)."""

    def __init__(self, app: ASGIApp, logger: logging.Logger = access_log,
                 clock: Callable[[], float] = time.perf_counter) -> None:
        self.app = app
        self.logger = logger
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        info: dict[str, Any] = {"status": None, "sub": None}
        scope[_LOG_KEY] = info
        start = self.clock()

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                info["status"] = message["status"]
                headers = MutableHeaders(scope=message)
                headers["Cache-Control"] = "no-store"
                headers["X-Content-Type-Options"] = "nosniff"
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except BaseException:
            if info["status"] is None:
                info["status"] = 500
            raise
        finally:
            client = scope.get("client")
            self.logger.info(
                "%s %s %s %s %.1fms sub=%s",
                client[0] if client else "-", scope.get("method", "-"), clean_text(scope.get("path", ""), 200),
                info["status"] if info["status"] is not None else "-", (self.clock() - start) * 1000,
                clean_text(info["sub"], 120) if info["sub"] else "-",
            )
