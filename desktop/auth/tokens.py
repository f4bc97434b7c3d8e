"""The token endpoint's success answer (device-code grant and refresh alike), parsed once, secrets hidden.

Tokens never appear in a repr or an error message: a stray ``log.debug(tokens)`` must not leak them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from desktop.auth.common import AuthError, optional_seconds, optional_str, require_str
from desktop.util.text import clean_text

__all__ = ["BEARER", "DEFAULT_TOKEN_LIFETIME", "TokenResponse", "TokenResponseError", "parse_token_response"]

DEFAULT_TOKEN_LIFETIME = 3600.0
"""Assumed when ``expires_in`` is absent (RFC 6749 makes it only RECOMMENDED)."""

BEARER = "Bearer"
_WHAT = "The sign-in service's token answer"


class TokenResponseError(AuthError):
    """A token answer that cannot be used (not JSON, no access token, mistyped fields)."""


@dataclass(frozen=True, slots=True)
class TokenResponse:
    """What ``/oauth/token`` granted; ``expires_at`` is on the caller's clock."""

    access_token: str = field(repr=False)
    expires_at: float
    token_type: str = BEARER
    refresh_token: str | None = field(default=None, repr=False)
    id_token: str | None = field(default=None, repr=False)
    scope: str | None = None


def parse_token_response(body: object, now: float) -> TokenResponse:
    """Parse a 200 answer from the token endpoint; ``now`` is when it arrived."""
    if not isinstance(body, Mapping):
        raise TokenResponseError(f"{_WHAT} is not a JSON object.")
    if body.get("error") is not None:
        raise TokenResponseError(f"{_WHAT} is an error: {clean_text(body.get('error'))}")
    access_token = require_str(body, "access_token", _WHAT, TokenResponseError)
    token_type = optional_str(body, "token_type", _WHAT, TokenResponseError) or BEARER
    if token_type.lower() != "bearer":
        raise TokenResponseError(
            f"The sign-in service issued a {clean_text(token_type, 40)!r} token; this app only uses Bearer tokens."
        )
    lifetime = optional_seconds(body, "expires_in", _WHAT, TokenResponseError) or DEFAULT_TOKEN_LIFETIME
    scope = body.get("scope")
    if scope is not None and not isinstance(scope, str):
        raise TokenResponseError(f"{_WHAT} has a 'scope' that is not a string")
    return TokenResponse(
        access_token=access_token,
        expires_at=now + lifetime,
        token_type=BEARER,
        refresh_token=optional_str(body, "refresh_token", _WHAT, TokenResponseError),
        id_token=optional_str(body, "id_token", _WHAT, TokenResponseError),
        scope=scope or None,
    )
