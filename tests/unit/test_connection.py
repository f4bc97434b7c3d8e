"""The words the window shows for a refused feed and for a sign-in that could not be restored."""

from __future__ import annotations

import pytest

from desktop.auth.session import RefreshError
from desktop.auth.signin import SignInFailed
from desktop.connection import restore_problem
from desktop.pusher.errors import describe_subscription_error


@pytest.mark.parametrize(("data", "expected"), [
    ({"type": "AuthError", "error": "forbidden", "status": 403,
      "reason": "authorization refused (HTTP 403): forbidden"}, "authorization refused (HTTP 403): forbidden"),
    ({"type": "AuthError", "error": "forbidden", "status": 403}, "forbidden (HTTP 403)"),
    ({"error": "nope"}, "nope"),
    ({"error": "nope", "status": True}, "nope"),
    ({"reason": "  "}, "no reason given"),
    ("garbage", "no reason given"),
    (None, "no reason given"),
])
def test_a_refusal_is_described_by_the_engine_s_reason_else_its_error_and_status(data: object,
                                                                                  expected: str) -> None:
    assert describe_subscription_error(data) == expected


def test_offline_is_not_sign_in_again() -> None:
    text, ask = restore_problem(RefreshError("could not renew the sign-in: could not reach x (ConnectError)",
                                             "retry"), 30.0)
    assert not ask
    assert text == ("Cannot reach the sign-in service (could not renew the sign-in: could not reach x "
                    "(ConnectError)). Your sign-in is kept on this computer: trying again every 30 s, or Reconnect.")


def test_a_refused_refresh_token_asks_for_a_new_sign_in() -> None:
    error = RefreshError.from_answer(400, {"error": "invalid_grant"})
    assert error.kind == "reauth"
    assert restore_problem(error, 30.0) == ("Your sign-in has expired or was revoked. Sign in again.", True)


@pytest.mark.parametrize("error", [RefreshError("the answer is not JSON", "fatal"),
                                   SignInFailed("error", "The ID token failed its checks.")])
def test_other_failures_say_what_happened_and_ask_for_a_new_sign_in(error: Exception) -> None:
    text, ask = restore_problem(error, 30.0)
    assert ask
    assert text == f"Could not restore the sign-in: {error}"
