"""Session policy: when to refresh, how a refresh answer changes the session, what a refresh failure means.

Pure: the driver owns the lock that keeps refreshes serial (a rotated refresh token may be used once only)
and writes a new refresh token to the keyring before anything else uses it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from desktop.auth.common import AuthError
from desktop.auth.idtoken import Profile
from desktop.auth.tokens import TokenResponse
from desktop.util.text import clean_text

__all__ = [
    "REFRESH_MARGIN", "RefreshError", "RefreshKind", "Session", "apply_refresh", "classify_refresh_error",
    "refresh_due", "start_session",
]

REFRESH_MARGIN = 300.0
"""Refresh this long before expiry (the Auth0 CLI also treats a token as expired 5 minutes early)."""

RefreshKind = Literal["reauth", "retry", "fatal"]
_RETRY_ERRORS = frozenset({"server_error", "temporarily_unavailable", "too_many_requests"})


def refresh_due(
    expires_at: float, now: float, margin: float = REFRESH_MARGIN, *, issued_at: float | None = None
) -> bool:
    """True when the access token should be refreshed now.

    Normally ``margin`` seconds before expiry. When the lifetime is known (``issued_at``) and shorter than
    twice the margin, at half the lifetime instead: a 2-minute token is refreshed after 1 minute, not at once.
    """
    lead = margin
    if issued_at is not None and expires_at > issued_at:
        lead = min(margin, (expires_at - issued_at) / 2)
    return now >= expires_at - lead


@dataclass(frozen=True, slots=True)
class Session:
    """Who is signed in and the tokens that prove it; tokens stay out of repr and logs."""

    profile: Profile
    access_token: str = field(repr=False)
    expires_at: float
    refresh_token: str | None = field(default=None, repr=False)
    issued_at: float | None = None

    @property
    def can_refresh(self) -> bool:
        """Without a refresh token (no ``offline_access``) the only way on is to sign in again."""
        return self.refresh_token is not None

    def needs_refresh(self, now: float) -> bool:
        """The access token is (nearly) expired; see :func:`refresh_due`."""
        return refresh_due(self.expires_at, now, issued_at=self.issued_at)

    def expired(self, now: float) -> bool:
        """The access token is no longer usable at all."""
        return now >= self.expires_at


def start_session(profile: Profile, tokens: TokenResponse, now: float) -> Session:
    """The session right after sign-in (``now``: when the token answer arrived)."""
    return Session(profile=profile, access_token=tokens.access_token, expires_at=tokens.expires_at,
                   refresh_token=tokens.refresh_token, issued_at=now)


def apply_refresh(session: Session, tokens: TokenResponse, now: float) -> Session:
    """The session after a successful refresh.

    With rotation the answer carries a new refresh token, which replaces the used one (the old one is now
    dead); without rotation it carries none and the old one stays valid. The profile is kept: a new ID
    token in the answer must be verified by the driver before it may replace it.
    """
    return Session(profile=session.profile, access_token=tokens.access_token, expires_at=tokens.expires_at,
                   refresh_token=tokens.refresh_token or session.refresh_token, issued_at=now)


def classify_refresh_error(status: int | None, body: object) -> RefreshKind:
    """What a failed refresh means: "reauth" (sign in again), "retry" (later, same token) or "fatal".

    ``invalid_grant`` means the refresh token expired, was revoked or was reused (rotation reuse detection
    revokes the whole family), so only a new sign-in helps. ``status`` None means no answer (network error).
    """
    error = body.get("error") if isinstance(body, Mapping) else None
    if error == "invalid_grant":
        return "reauth"
    if error in _RETRY_ERRORS or status is None or status in (408, 429) or status >= 500:
        return "retry"
    return "fatal"


class RefreshError(AuthError):
    """A refresh failed; ``kind`` tells the driver whether to retry, ask for sign-in, or give up."""

    def __init__(self, message: str, kind: RefreshKind) -> None:
        super().__init__(message)
        self.kind: RefreshKind = kind

    @classmethod
    def from_answer(cls, status: int | None, body: object) -> RefreshError:
        """An error for a failed refresh answer (``status`` None: no answer), with a message for people."""
        kind = classify_refresh_error(status, body)
        if kind == "reauth":
            return cls("Your sign-in has expired or was revoked. Sign in again.", kind)
        error = body.get("error") if isinstance(body, Mapping) else None
        description = body.get("error_description") if isinstance(body, Mapping) else None
        if status is None:
            detail = "did not answer."
        elif isinstance(error, str):
            detail = "answered " + clean_text(error, 80)
            detail += f": {clean_text(description)}" if isinstance(description, str) and description.strip() else "."
        else:
            detail = f"answered HTTP {status}."
        return cls(f"Could not renew the sign-in: the sign-in service {detail}", kind)
