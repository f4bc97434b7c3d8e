"""``SignInManager`` against Auth0's exact answers (the scripted stand-in): what oidc-provider cannot show.

403 ``authorization_pending``, 429 ``slow_down``, ``expired_token`` exactly once and then ``invalid_grant``,
waits counted from the previous answer (a slow server), and ID tokens that must be refused.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from support.auth0_standin import (
    APPROVED,
    DENIED,
    DEVICE_GRANT,
    EXPIRED_TOKEN,
    INVALID_GRANT,
    PENDING,
    SLOW_DOWN,
    Auth0Standin,
)
from support.signin_helpers import LoginRun, MemoryKeyring, closing_manager
from support.waiting import wait_until

from desktop.auth import deviceflow
from desktop.auth.signin import SignInFailed, SignInManager

pytestmark = pytest.mark.integration

INTERVAL = 0.1
STEP = 0.2
EPSILON = 0.01


@pytest.fixture
def keyring_backend() -> MemoryKeyring:
    return MemoryKeyring()


@pytest.fixture
def standin(rsa_key: rsa.RSAPrivateKey) -> Iterator[Auth0Standin]:
    with Auth0Standin(interval=INTERVAL, key=rsa_key) as idp:
        yield idp


@pytest.fixture
def manager(standin: Auth0Standin, keyring_backend: MemoryKeyring) -> Iterator[SignInManager]:
    with closing_manager(standin.issuer, standin.client_id, standin.audience, keyring_backend) as signin:
        yield signin


@pytest.fixture
def runs() -> Iterator[list[LoginRun]]:
    started: list[LoginRun] = []
    yield started
    for run in started:
        run.stop()


def login(runs: list[LoginRun], manager: SignInManager) -> LoginRun:
    run = LoginRun(manager)
    runs.append(run)
    return run


def test_pending_403_then_approval(standin, manager, keyring_backend, runs) -> None:
    standin.play(PENDING, PENDING, APPROVED)
    session = login(runs, manager).result()
    assert [p.status for p in standin.polls] == [403, 403, 200]
    assert session.profile.name == "Sam Support"
    assert session.profile.email == "sam@example.com"
    assert keyring_backend.only_value() == session.refresh_token
    # What the client sent: a public client's poll (RFC 8628 §3.4), no secret.
    [request] = standin.device_requests
    assert request["client_id"] == standin.client_id
    assert request["audience"] == standin.audience
    assert "offline_access" in request["scope"].split()
    for poll in standin.polls:
        assert poll.form == {"grant_type": DEVICE_GRANT, "device_code": poll.form["device_code"],
                             "client_id": standin.client_id}
    assert all(wait >= INTERVAL - EPSILON for wait in standin.poll_waits()), standin.poll_waits()


def test_slow_down_429_adds_the_step_for_every_later_poll(standin, manager, runs, monkeypatch) -> None:
    monkeypatch.setattr(deviceflow, "SLOW_DOWN_STEP", STEP)
    standin.play(PENDING, SLOW_DOWN, PENDING, APPROVED)
    login(runs, manager).result()
    assert [p.status for p in standin.polls] == [403, 429, 403, 200]
    waits = standin.poll_waits()  # waits[i]: before poll i + 1, after answer i
    assert len(waits) == 3
    # Before the slow_down: the advertised interval (and not the grown one).
    assert INTERVAL - EPSILON <= waits[0] < INTERVAL + STEP - 0.05, waits
    # After it: interval + step, and it stays grown (RFC 8628 §3.5: "for all subsequent requests").
    for wait in waits[1:]:
        assert INTERVAL + STEP - EPSILON <= wait < INTERVAL + 2 * STEP - 0.05, waits


def test_two_slow_downs_add_up(standin, manager, runs, monkeypatch) -> None:
    monkeypatch.setattr(deviceflow, "SLOW_DOWN_STEP", STEP)
    standin.play(SLOW_DOWN, SLOW_DOWN, APPROVED)
    login(runs, manager).result()
    waits = standin.poll_waits()
    assert waits[0] >= INTERVAL + STEP - EPSILON, waits
    assert waits[1] >= INTERVAL + 2 * STEP - EPSILON, waits


def test_expired_token_stops_polling_at_once(standin, manager, keyring_backend, runs) -> None:
    run = login(runs, manager)
    wait_until(lambda: len(standin.polls) >= 1, 5, message="no first poll")
    standin.expire_now()
    error = run.error()
    assert isinstance(error, SignInFailed)
    assert error.reason == "expired"
    # The client stopped at expired_token: it never saw the invalid_grant Auth0 sends to a second poll.
    assert [(p.status, p.body) for p in standin.polls] == [PENDING, EXPIRED_TOKEN]
    assert keyring_backend.only_value() is None
    # (Auth0 would have answered invalid_grant, a confusing "error", had the client polled again.)
    device_code = standin.polls[-1].form["device_code"]
    with requests.post(standin.issuer + "oauth/token", timeout=5, data={
            "grant_type": DEVICE_GRANT, "device_code": device_code, "client_id": standin.client_id}) as again:
        assert (again.status_code, again.json()) == INVALID_GRANT


def test_denied_403(standin, manager, runs) -> None:
    standin.play(PENDING, DENIED)
    error = login(runs, manager).error()
    assert isinstance(error, SignInFailed)
    assert error.reason == "denied"
    assert len(standin.polls) == 2


def test_invalid_grant_on_a_poll_is_an_error_and_stops(standin, manager, runs) -> None:
    standin.play(PENDING, INVALID_GRANT)
    error = login(runs, manager).error()
    assert isinstance(error, SignInFailed)
    assert error.reason == "error"
    assert "invalid_grant" in error.message
    assert "Invalid or expired device code." in error.message
    assert len(standin.polls) == 2


def test_each_wait_starts_after_the_previous_answer(rsa_key, keyring_backend, runs) -> None:
    # A slow token endpoint (0.15 s per answer, longer than the 0.1 s interval): a client that counted the
    # interval from when it sent the poll would poll again the moment an answer arrives.
    with Auth0Standin(interval=INTERVAL, key=rsa_key, poll_latency=0.15,
                      script=[PENDING, PENDING, PENDING, APPROVED]) as slow, \
            closing_manager(slow.issuer, slow.client_id, slow.audience, keyring_backend) as manager:
        login(runs, manager).result()
        waits = slow.poll_waits()
        assert len(waits) == 3
        assert all(wait >= INTERVAL - EPSILON for wait in waits), waits
        for a, b in itertools.pairwise(slow.polls):
            assert b.arrived_at - a.arrived_at >= 0.15 + INTERVAL - EPSILON


def _tokens_with(standin: Auth0Standin, id_token: str) -> tuple[int, dict[str, Any]]:
    return 200, {"access_token": standin.mint_access_token(), "id_token": id_token, "token_type": "Bearer",
                 "expires_in": 86400, "refresh_token": "rt-that-must-not-be-kept", "scope": "openid profile email"}


def _wrong_audience(standin: Auth0Standin, other_rsa_key: rsa.RSAPrivateKey) -> str:
    return standin.mint_id_token(aud="some-other-client")


def _expired(standin: Auth0Standin, other_rsa_key: rsa.RSAPrivateKey) -> str:
    now = int(time.time())
    return standin.mint_id_token(iat=now - 7200, exp=now - 3600)


def _signed_by_another_key(standin: Auth0Standin, other_rsa_key: rsa.RSAPrivateKey) -> str:
    # Right claims, right kid, wrong key: only the signature check can catch it.
    claims = jwt.decode(standin.mint_id_token(), options={"verify_signature": False})
    return jwt.encode(claims, other_rsa_key, algorithm="RS256", headers={"kid": standin.kid, "typ": "JWT"})


def _wrong_issuer(standin: Auth0Standin, other_rsa_key: rsa.RSAPrivateKey) -> str:
    return standin.mint_id_token(iss="https://evil.example/")


@pytest.mark.parametrize("make_token", [_wrong_audience, _expired, _signed_by_another_key, _wrong_issuer],
                         ids=["wrong-audience", "expired", "bad-signature", "wrong-issuer"])
def test_a_bad_id_token_is_refused(standin, manager, keyring_backend, runs, other_rsa_key, make_token) -> None:
    standin.play(_tokens_with(standin, make_token(standin, other_rsa_key)))
    error = login(runs, manager).error()
    assert isinstance(error, SignInFailed)
    assert error.reason == "error"
    assert "ID token" in error.message
    assert "failed its checks" in error.message
    # Nothing of that answer was kept: no session, no refresh token in the keyring.
    assert manager.session is None
    assert keyring_backend.only_value() is None
    assert keyring_backend.writes == []


# ---------------------------------------------------------------------------------------------- unusable provider
# device_login promises SignInFailed for every way a sign-in can end without tokens; a provider that cannot
# run the device flow at all is one of them (a mistyped issuer, a tenant without the Device Code grant).


def test_a_provider_without_the_device_flow_is_a_sign_in_failure(standin, manager, runs) -> None:
    del standin.discovery["device_authorization_endpoint"]
    error = login(runs, manager).error()
    assert isinstance(error, SignInFailed), f"{type(error).__name__}: {error}"
    assert error.reason == "error"
    assert "device" in error.message
    assert standin.device_requests == []


def test_an_issuer_without_discovery_is_a_sign_in_failure(standin, keyring_backend, runs) -> None:
    wrong_issuer = standin.issuer + "no-such-tenant/"  # its discovery document answers 404
    with closing_manager(wrong_issuer, standin.client_id, standin.audience, keyring_backend) as manager:
        error = login(runs, manager).error()
    assert isinstance(error, SignInFailed), f"{type(error).__name__}: {error}"
    assert error.reason == "error"
    assert "404" in error.message
