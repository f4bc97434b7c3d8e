"""How the server's errors become HTTP answers: always ``{"error", "error_description"}``, with
``WWW-Authenticate`` on a 401 (and on a 403 for a missing permission, RFC 6750 §3), ``Retry-After`` where waiting
helps, and a 500 that says nothing of what failed inside (the log has it).

Apart from the routes so that every route, the tenant log's included, answers errors the same way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from desktop.authserver.params import ApiError
from desktop.authserver.policy import Forbidden
from desktop.authserver.tokens import KeySetUnavailable, TokenRejected
from desktop.util.text import clean_text

__all__ = ["error_response", "exception_handlers"]

log = logging.getLogger(__name__)

_REALM = "login-feed"
_ERROR_NAMES = {400: "invalid_request", 404: "not_found", 405: "method_not_allowed", 413: "payload_too_large",
                415: "unsupported_media_type"}


def error_response(status: int, error: str, description: str, headers: Mapping[str, str] | None = None) -> Response:
    return JSONResponse({"error": error, "error_description": description}, status_code=status,
                        headers=dict(headers or {}))


def _bearer_challenge(error: str, scope: str | None = None) -> str:
    """RFC 6750 §3 ``WWW-Authenticate`` value (``scope``: the permission that was missing)."""
    text = f'Bearer realm="{_REALM}", error="{error}"'
    if scope:
        text += ', scope="' + "".join(ch for ch in scope if ch.isprintable() and ch not in '"\\') + '"'
    return text


async def _on_api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.error, exc.description, exc.headers)


async def _on_token_rejected(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, TokenRejected)
    headers = {"WWW-Authenticate": _bearer_challenge(exc.error)} if exc.status == 401 else {}
    return error_response(exc.status, exc.error, exc.description, headers)


async def _on_forbidden(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Forbidden)
    headers = {}
    if exc.error == "insufficient_scope":
        headers["WWW-Authenticate"] = _bearer_challenge(exc.error, exc.permission)
    return error_response(exc.status, exc.error, exc.description, headers)


async def _on_keys_unavailable(request: Request, exc: Exception) -> Response:
    log.warning("cannot verify access tokens: %s", exc)
    return error_response(503, "temporarily_unavailable",
                          "the sign-in service's keys cannot be fetched right now; try again shortly",
                          {"Retry-After": "5"})


async def _on_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    error = _ERROR_NAMES.get(exc.status_code, "http_error")
    return error_response(exc.status_code, error, clean_text(exc.detail, 200), exc.headers)


async def _on_unexpected(request: Request, exc: Exception) -> Response:
    return error_response(500, "server_error", "the server failed to answer; see its log")


def exception_handlers() -> dict[Any, Callable[[Request, Exception], Any]]:
    """Starlette's ``exception_handlers``: each error the server raises, to its answer."""
    return {
        ApiError: _on_api_error,
        TokenRejected: _on_token_rejected,
        Forbidden: _on_forbidden,
        KeySetUnavailable: _on_keys_unavailable,
        HTTPException: _on_http_exception,
        Exception: _on_unexpected,
    }
