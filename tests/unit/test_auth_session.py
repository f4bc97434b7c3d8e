"""Session policy: when to refresh, rotation vs non-rotating refresh tokens, and what refresh failures mean."""

from __future__ import annotations

from typing import Any

import pytest

from desktop.auth.idtoken import Profile
from desktop.auth.session import (
    RefreshError,
    Session,
    apply_refresh,
    classify_refresh_error,
    refresh_due,
    start_session,
)
from desktop.auth.tokens import parse_token_response

T0 = 5000.0
PROFILE = Profile(sub="auth0|1", name="Sam Support", email="sam@example.com")


def session(**changes: Any) -> Session:
    values: dict[str, Any] = {"profile": PROFILE, "access_token": "at-old", "expires_at": T0 + 86400,
                              "refresh_token": "rt-old", "issued_at": T0}
    values.update(changes)
    return Session(**values)


def test_refresh_is_due_five_minutes_before_expiry() -> None:
    expires = T0 + 86400
    assert not refresh_due(expires, expires - 300.1)
    assert refresh_due(expires, expires - 300)
    assert refresh_due(expires, expires + 10)
    assert not refresh_due(expires, expires - 300.1, issued_at=T0)


def test_short_lived_tokens_are_refreshed_at_half_their_lifetime() -> None:
    expires = T0 + 120
    assert not refresh_due(expires, T0 + 59.9, issued_at=T0)
    assert refresh_due(expires, T0 + 60, issued_at=T0)
    assert refresh_due(expires, T0, issued_at=None)  # lifetime unknown: the plain 5-minute margin applies


def test_margin_is_adjustable() -> None:
    assert not refresh_due(T0 + 100, T0 + 39, margin=60)
    assert refresh_due(T0 + 100, T0 + 40, margin=60)


def test_session_hides_tokens() -> None:
    text = repr(session())
    assert "at-old" not in text
    assert "rt-old" not in text
    assert "Sam Support" in text


def test_session_clock_questions() -> None:
    s = session(expires_at=T0 + 1000)
    assert not s.needs_refresh(T0 + 699)
    assert s.needs_refresh(T0 + 700)
    assert not s.expired(T0 + 999)
    assert s.expired(T0 + 1000)
    assert s.can_refresh
    assert not session(refresh_token=None).can_refresh


def test_start_session_from_the_device_flow_tokens() -> None:
    tokens = parse_token_response({"access_token": "at", "refresh_token": "rt", "expires_in": 600}, T0)
    assert start_session(PROFILE, tokens, T0) == Session(PROFILE, "at", T0 + 600, "rt", T0)


def test_rotation_takes_the_new_refresh_token() -> None:
    tokens = parse_token_response({"access_token": "at-new", "refresh_token": "rt-new", "expires_in": 86400},
                                  T0 + 86200)
    refreshed = apply_refresh(session(), tokens, T0 + 86200)
    assert refreshed == Session(PROFILE, "at-new", T0 + 86200 + 86400, "rt-new", T0 + 86200)


def test_non_rotating_keeps_the_old_refresh_token() -> None:
    tokens = parse_token_response({"access_token": "at-new", "expires_in": 86400, "id_token": "eyJ.new"}, T0 + 9)
    refreshed = apply_refresh(session(), tokens, T0 + 9)
    assert (refreshed.access_token, refreshed.refresh_token, refreshed.profile) == ("at-new", "rt-old", PROFILE)
    assert not refreshed.needs_refresh(T0 + 9)


@pytest.mark.parametrize(("status", "body"), [
    (403, {"error": "invalid_grant", "error_description": "Unknown or invalid refresh token."}),  # Auth0
    (400, {"error": "invalid_grant", "error_description": "grant request is invalid"}),  # oidc-provider
    (400, {"error": "invalid_grant", "error_description": "refresh token already used"}),  # reuse detection
    (500, {"error": "invalid_grant"}),  # the error field wins over the status
])
def test_invalid_grant_means_sign_in_again(status: int, body: dict[str, str]) -> None:
    assert classify_refresh_error(status, body) == "reauth"


@pytest.mark.parametrize(("status", "body"), [
    (None, None), (500, None), (502, "<html>Bad gateway</html>"), (503, {"error": "temporarily_unavailable"}),
    (429, {"error": "too_many_requests"}), (408, None), (400, {"error": "server_error"}),
])
def test_server_trouble_means_retry(status: int | None, body: object) -> None:
    assert classify_refresh_error(status, body) == "retry"


@pytest.mark.parametrize(("status", "body"), [
    (401, {"error": "invalid_client"}), (403, {"error": "unauthorized_client"}), (400, {"error": "invalid_request"}),
    (403, "<html>Forbidden</html>"), (404, None), (200, {"access_token": 5}), (403, {"error": "access_denied"}),
])
def test_anything_else_is_fatal(status: int, body: object) -> None:
    assert classify_refresh_error(status, body) == "fatal"


def test_refresh_error_from_answer() -> None:
    reauth = RefreshError.from_answer(403, {"error": "invalid_grant", "error_description": "Unknown or invalid "
                                            "refresh token."})
    assert reauth.kind == "reauth"
    assert "Sign in again" in str(reauth)
    retry = RefreshError.from_answer(None, None)
    assert (retry.kind, str(retry)) == ("retry", "Could not renew the sign-in: the sign-in service did not answer.")
    fatal = RefreshError.from_answer(401, {"error": "invalid_client", "error_description": "Unknown\nclient."})
    assert (fatal.kind, str(fatal)) == (
        "fatal", "Could not renew the sign-in: the sign-in service answered invalid_client: Unknown client.")
    assert str(RefreshError.from_answer(400, {"error": "invalid_request"})) == (
        "Could not renew the sign-in: the sign-in service answered invalid_request.")
    assert str(RefreshError.from_answer(502, "<html>")) == (
        "Could not renew the sign-in: the sign-in service answered HTTP 502.")
