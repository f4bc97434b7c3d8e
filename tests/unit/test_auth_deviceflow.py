"""The RFC 8628 state machine on a fake clock: Auth0's 403/429 answers, oidc-provider's 400s, timing, ends."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from desktop.auth import deviceflow
from desktop.auth.deviceflow import (
    Authorized,
    DeviceAuthorization,
    DeviceFlow,
    DeviceFlowError,
    Failed,
    FailureReason,
    Pending,
    SlowDown,
    parse_device_authorization,
)
from desktop.auth.tokens import TokenResponse, TokenResponseError, parse_token_response

DEVICE_CODE = "Ag_EE...ko1p-secret-device-code"
T0 = 1000.0


def auth0_device_answer(**changes: Any) -> dict[str, Any]:
    """Auth0's sample answer (research reference §1.3)."""
    body: dict[str, Any] = {
        "device_code": DEVICE_CODE,
        "user_code": "QTZL-MCBW",
        "verification_uri": "https://tenant.auth0.com/activate",
        "verification_uri_complete": "https://tenant.auth0.com/activate?user_code=QTZL-MCBW",
        "expires_in": 900,
        "interval": 5,
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def tokens_answer(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"access_token": "eyJ.access.token", "refresh_token": "v1.refresh", "id_token": "eyJ.id.tok",
                            "scope": "openid profile email offline_access", "expires_in": 86400, "token_type": "Bearer"}
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def pending(status: int = 403) -> tuple[int, dict[str, str]]:
    return status, {"error": "authorization_pending", "error_description": "User has yet to authorize device code."}


def slow_down(status: int = 429) -> tuple[int, dict[str, str]]:
    return status, {"error": "slow_down",
                    "error_description": "You are polling faster than the specified interval of 5 seconds."}


def new_flow(now: float = T0, **changes: Any) -> DeviceFlow:
    return DeviceFlow(parse_device_authorization(auth0_device_answer(**changes), now), now)


# -- the device authorization answer ---------------------------------------------------------------------------

def test_parses_auth0_sample() -> None:
    auth = parse_device_authorization(auth0_device_answer(), T0)
    assert auth == DeviceAuthorization(DEVICE_CODE, "QTZL-MCBW", "https://tenant.auth0.com/activate",
                                       "https://tenant.auth0.com/activate?user_code=QTZL-MCBW", T0 + 900, 5.0)


def test_interval_defaults_to_five_seconds_like_oidc_provider_needs() -> None:
    auth = parse_device_authorization(auth0_device_answer(interval=None, verification_uri_complete=None), T0)
    assert auth.interval == 5.0
    assert auth.verification_uri_complete is None


def test_device_code_stays_out_of_repr() -> None:
    auth = parse_device_authorization(auth0_device_answer(), T0)
    assert DEVICE_CODE not in repr(auth)
    assert DEVICE_CODE not in repr(DeviceFlow(auth, T0).__dict__)
    assert "QTZL-MCBW" in repr(auth)


@pytest.mark.parametrize("key", ["device_code", "user_code", "verification_uri", "expires_in"])
def test_missing_field_is_named(key: str) -> None:
    with pytest.raises(DeviceFlowError, match=key):
        parse_device_authorization(auth0_device_answer(**{key: None}), T0)


@pytest.mark.parametrize(("key", "value"), [
    ("device_code", 12345), ("device_code", ""), ("user_code", ["QTZL"]), ("user_code", "QTZL\x1b[2J"),
    ("user_code", "X" * 65), ("verification_uri", "javascript:alert(1)"), ("verification_uri", "http://evil.example/"),
    ("verification_uri_complete", "file:///etc/passwd"), ("expires_in", "soon"), ("expires_in", 0),
    ("expires_in", -5), ("expires_in", True), ("interval", "5s"), ("interval", -1), ("interval", float("nan")),
])
def test_mistyped_field_is_refused_without_echoing_secrets(key: str, value: object) -> None:
    with pytest.raises(DeviceFlowError, match=key) as caught:
        parse_device_authorization(auth0_device_answer(**{key: value}), T0)
    assert DEVICE_CODE not in str(caught.value)


def test_numeric_strings_are_accepted_for_seconds() -> None:
    auth = parse_device_authorization(auth0_device_answer(expires_in="600", interval="7"), T0)
    assert (auth.expires_at, auth.interval) == (T0 + 600, 7.0)


@pytest.mark.parametrize("body", [None, [], "device_code=x", 3])
def test_device_answer_must_be_an_object(body: object) -> None:
    with pytest.raises(DeviceFlowError, match="not a JSON object"):
        parse_device_authorization(body, T0)


# -- polling ---------------------------------------------------------------------------------------------------

def test_first_poll_waits_one_interval() -> None:
    assert new_flow().next_poll_at == T0 + 5


@pytest.mark.parametrize("status", [403, 400, 200, 401])  # Auth0, oidc-provider/authlib, odd servers
def test_pending_keeps_polling_whatever_the_status(status: int) -> None:
    flow = new_flow()
    assert flow.on_response(*pending(status), now=T0 + 5.3) == Pending(T0 + 10.3)
    assert flow.next_poll_at == T0 + 10.3
    assert not flow.finished


def test_each_wait_starts_when_the_previous_answer_arrived() -> None:
    flow = new_flow()
    # The poll went out at T0+5, the answer took 2.5 s: the next poll is 5 s after the answer, not after the poll.
    assert flow.on_response(*pending(), now=T0 + 7.5).next_poll_at == T0 + 12.5


@pytest.mark.parametrize("status", [429, 400])
def test_slow_down_adds_five_seconds_for_good(status: int) -> None:
    flow = new_flow()
    assert flow.on_response(*slow_down(status), now=T0 + 5) == SlowDown(T0 + 15, 10.0)
    assert flow.on_response(*pending(), now=T0 + 15) == Pending(T0 + 25)
    assert flow.on_response(*pending(), now=T0 + 25) == Pending(T0 + 35)
    assert flow.on_response(*slow_down(status), now=T0 + 35) == SlowDown(T0 + 50, 15.0)
    assert flow.on_response(*slow_down(status), now=T0 + 50) == SlowDown(T0 + 70, 20.0)
    assert flow.on_response(*pending(), now=T0 + 70) == Pending(T0 + 90)
    assert flow.interval == 20.0


def test_slow_down_step_is_the_module_constant(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(deviceflow, "SLOW_DOWN_STEP", 0.5)  # what driver tests on a real clock may do
    assert new_flow(interval=1).on_response(*slow_down(), now=T0) == SlowDown(T0 + 1.5, 1.5)


def test_approval_gives_tokens() -> None:
    flow = new_flow()
    outcome = flow.on_response(200, tokens_answer(), now=T0 + 5)
    assert isinstance(outcome, Authorized)
    assert outcome.tokens.access_token == "eyJ.access.token"
    assert outcome.tokens.expires_at == T0 + 5 + 86400
    assert flow.finished


@pytest.mark.parametrize("status", [403, 400])
def test_denied(status: int) -> None:
    outcome = new_flow().on_response(status, {"error": "access_denied",
                                              "error_description": "User cancelled the confirmation prompt."}, T0 + 5)
    assert isinstance(outcome, Failed)
    assert outcome.reason is FailureReason.DENIED
    assert outcome.message.startswith("Sign-in was denied.")


@pytest.mark.parametrize("status", [403, 400])
def test_expired_token_answer(status: int) -> None:
    outcome = new_flow().on_response(status, {"error": "expired_token"}, T0 + 5)
    assert outcome == Failed(FailureReason.EXPIRED,
                             "The code expired before it was approved. Start again to get a new code.")


@pytest.mark.parametrize(("status", "body", "message"), [
    (403, {"error": "invalid_grant", "error_description": "Invalid or expired device code."},
     "The sign-in service answered invalid_grant: Invalid or expired device code."),
    (403, {"error": "unauthorized_client", "error_description":
           "Grant type 'urn:ietf:params:oauth:grant-type:device_code' not allowed for the client."},
     "The sign-in service answered unauthorized_client: Grant type 'urn:ietf:params:oauth:grant-type:device_code' "
     "not allowed for the client."),
    (429, {"error": "too_many_requests"}, "The sign-in service answered too_many_requests"),
    (400, {"error": "invalid_request", "error_description": "   "}, "The sign-in service answered invalid_request"),
    (400, {"error": "invalid_request", "error_description": 42}, "The sign-in service answered invalid_request"),
])
def test_any_other_error_stops_polling(status: int, body: dict[str, Any], message: str) -> None:
    flow = new_flow()
    assert flow.on_response(status, body, T0 + 5) == Failed(FailureReason.PROVIDER_ERROR, message)
    assert flow.finished


def test_provider_text_is_cleaned_for_display() -> None:
    body = {"error": "server_error\n", "error_description": "line one\r\nline\x00two \x1b[31m" + "z" * 500}
    outcome = new_flow().on_response(500, body, T0 + 5)
    assert isinstance(outcome, Failed)
    description = outcome.message.split(": ", 1)[1]
    assert outcome.message.isprintable()
    assert description.startswith("line one line two [31mzzz")
    assert len(description) <= 200


@pytest.mark.parametrize(("status", "body"), [
    (200, {"token_type": "Bearer"}),  # no access token
    (200, tokens_answer(access_token=17)),
    (200, tokens_answer(expires_in="never")),
    (200, tokens_answer(token_type="DPoP")),
    (200, ["access_token"]),
    (200, "<html>hello</html>"),
    (200, None),
    (403, "<html>Forbidden</html>"),
    (404, None),
    (403, {"error": ""}),
    (403, {"error": {"code": "x"}}),
])
def test_unusable_answers_end_as_bad_response(status: int, body: object) -> None:
    outcome = new_flow().on_response(status, body, T0 + 5)
    assert isinstance(outcome, Failed)
    assert outcome.reason is FailureReason.BAD_RESPONSE
    assert DEVICE_CODE not in outcome.message


# -- network errors and gateway hiccups --------------------------------------------------------------------------

def test_network_errors_back_off_exponentially_up_to_a_minute() -> None:
    flow = new_flow()
    waits = []
    now = T0 + 5
    for _ in range(6):
        outcome = flow.on_network_error(now)
        waits.append(outcome.next_poll_at - now)
        now = outcome.next_poll_at
    assert waits == [10, 20, 40, 60, 60, 60]


def test_a_real_answer_resets_the_backoff() -> None:
    flow = new_flow()
    flow.on_network_error(T0 + 5)
    flow.on_network_error(T0 + 15)
    assert flow.on_response(*pending(), now=T0 + 35) == Pending(T0 + 40)
    assert flow.on_network_error(T0 + 40) == Pending(T0 + 50)


@pytest.mark.parametrize(("status", "body"), [(502, "<html>Bad gateway</html>"), (503, None), (429, {"x": 1})])
def test_gateway_errors_without_an_error_code_count_as_network_errors(status: int, body: object) -> None:
    flow = new_flow()
    assert flow.on_response(status, body, T0 + 5) == Pending(T0 + 15)
    assert flow.on_response(status, body, T0 + 15) == Pending(T0 + 35)


def test_backoff_never_polls_faster_than_the_interval() -> None:
    flow = new_flow(interval=90)
    assert flow.on_network_error(T0 + 90) == Pending(T0 + 180)


# -- expiry, cancel, and the end -----------------------------------------------------------------------------------

def test_check_expired() -> None:
    flow = new_flow()
    assert flow.expires_at == T0 + 900
    assert flow.check_expired(T0 + 899.9) is None
    outcome = flow.check_expired(T0 + 900)
    assert outcome == Failed(FailureReason.EXPIRED,
                             "The code expired before it was approved. Start again to get a new code.")
    assert flow.finished


def test_pending_after_the_deadline_ends_the_flow() -> None:
    flow = new_flow(expires_in=10)
    outcome = flow.on_response(*pending(), now=T0 + 10.5)
    assert isinstance(outcome, Failed)
    assert outcome.reason is FailureReason.EXPIRED


def test_tokens_arriving_just_after_the_deadline_are_still_taken() -> None:
    flow = new_flow(expires_in=10)
    assert isinstance(flow.on_response(200, tokens_answer(), now=T0 + 10.5), Authorized)


def test_cancel() -> None:
    flow = new_flow()
    outcome = flow.cancel()
    assert outcome.reason is FailureReason.CANCELLED
    assert flow.finished


TERMINAL: list[Callable[[DeviceFlow], object]] = [
    lambda f: f.cancel(),
    lambda f: f.check_expired(T0 + 1000),
    lambda f: f.on_response(200, tokens_answer(), T0 + 5),
    lambda f: f.on_response(403, {"error": "access_denied"}, T0 + 5),
    lambda f: f.on_response(400, {"error": "expired_token"}, T0 + 5),
    lambda f: f.on_response(400, {"error": "invalid_grant"}, T0 + 5),
    lambda f: f.on_response(200, "garbage", T0 + 5),
]
FURTHER: list[Callable[[DeviceFlow], object]] = [
    lambda f: f.cancel(),
    lambda f: f.check_expired(T0 + 6),
    lambda f: f.on_network_error(T0 + 6),
    lambda f: f.on_response(*pending(), now=T0 + 6),
    lambda f: f.on_response(200, tokens_answer(), T0 + 6),
]


@pytest.mark.parametrize("end", TERMINAL)
@pytest.mark.parametrize("then", FURTHER)
def test_a_finished_flow_refuses_further_calls(end: Callable[[DeviceFlow], object],
                                               then: Callable[[DeviceFlow], object]) -> None:
    flow = new_flow()
    end(flow)
    assert flow.finished
    with pytest.raises(RuntimeError, match="finished"):
        then(flow)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
ANSWER_BODY = JSON | st.fixed_dictionaries(
    {"error": st.sampled_from(["authorization_pending", "slow_down", "access_denied", "expired_token", "x"]) | JSON},
    optional={"error_description": JSON},
) | st.fixed_dictionaries({"access_token": JSON}, optional={"expires_in": JSON, "token_type": JSON, "scope": JSON})


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(100, 599), ANSWER_BODY), min_size=1, max_size=8))
def test_any_sequence_of_answers_gives_outcomes_and_never_raises(answers: list[tuple[int, object]]) -> None:
    flow = new_flow()
    now = T0
    for status, body in answers:
        now = flow.next_poll_at
        outcome = flow.on_response(status, body, now)
        assert isinstance(outcome, Pending | SlowDown | Authorized | Failed)
        if isinstance(outcome, Pending | SlowDown):
            assert outcome.next_poll_at >= now + 5
        else:
            assert flow.finished
            if isinstance(outcome, Failed):
                assert outcome.message.isprintable()
            return


# -- token answers -----------------------------------------------------------------------------------------------

def test_token_answer_hides_secrets_in_repr() -> None:
    tokens = parse_token_response(tokens_answer(), T0)
    assert tokens == TokenResponse("eyJ.access.token", T0 + 86400, "Bearer", "v1.refresh", "eyJ.id.tok",
                                   "openid profile email offline_access")
    for secret in ("eyJ.access.token", "v1.refresh", "eyJ.id.tok"):
        assert secret not in repr(tokens)
        assert secret not in repr(Authorized(tokens))


def test_token_answer_defaults() -> None:
    tokens = parse_token_response({"access_token": "at"}, T0)
    assert (tokens.expires_at, tokens.token_type, tokens.refresh_token, tokens.id_token, tokens.scope) == (
        T0 + 3600, "Bearer", None, None, None)


def test_token_type_is_case_insensitive_and_scope_may_be_empty() -> None:
    tokens = parse_token_response(tokens_answer(token_type="bearer", scope=""), T0)
    assert (tokens.token_type, tokens.scope) == ("Bearer", None)


@pytest.mark.parametrize(("body", "match"), [
    ({"error": "invalid_grant"}, "invalid_grant"),
    (tokens_answer(refresh_token=5), "refresh_token"),
    (tokens_answer(id_token=""), "id_token"),
    (tokens_answer(scope=["openid"]), "scope"),
    (tokens_answer(expires_in=-1), "expires_in"),
    (tokens_answer(access_token=None), "access_token"),
])
def test_bad_token_answers(body: dict[str, Any], match: str) -> None:
    with pytest.raises(TokenResponseError, match=match) as caught:
        parse_token_response(body, T0)
    assert "eyJ" not in str(caught.value)
    assert "v1.refresh" not in str(caught.value)
