"""The Auth0 stand-in answers like Auth0, and the pure cores work against it over real HTTP on 127.0.0.1.

The tiny loop in :func:`sign_in` is the shape of the real driver (which the lead owns): it shows the cores'
interfaces are enough, and checks the stand-in's timing records, which driver tests rely on.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from support.auth0_standin import APPROVED, DENIED, PENDING, SLOW_DOWN, TOKENS, Auth0Standin

from desktop.auth import deviceflow
from desktop.auth.deviceflow import Authorized, DeviceFlow, Failed, FailureReason, parse_device_authorization
from desktop.auth.discovery import DiscoveryError, ProviderMetadata, discovery_url, parse_discovery
from desktop.auth.idtoken import access_token_expiry, profile_from_claims, verify_id_token
from desktop.auth.session import RefreshError, apply_refresh, start_session
from desktop.auth.tokens import parse_token_response

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
SCOPE = "openid profile email offline_access read:login-feed"


@pytest.fixture
def standin(rsa_key: rsa.RSAPrivateKey) -> Iterator[Auth0Standin]:
    with Auth0Standin(interval=0.05, key=rsa_key) as idp:
        yield idp


def metadata(idp: Auth0Standin) -> ProviderMetadata:
    return parse_discovery(requests.get(discovery_url(idp.issuer), timeout=5).json(), idp.issuer)


def json_or_none(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def sign_in(idp: Auth0Standin, scope: str = SCOPE) -> Authorized | Failed:
    meta = metadata(idp)
    assert meta.device_authorization_endpoint is not None
    answer = requests.post(meta.device_authorization_endpoint, data={"client_id": idp.client_id, "scope": scope},
                           timeout=5)
    flow = DeviceFlow(parse_device_authorization(answer.json(), time.monotonic()), time.monotonic())
    while True:
        time.sleep(max(0.0, flow.next_poll_at - time.monotonic()))
        expired = flow.check_expired(time.monotonic())
        if expired is not None:
            return expired
        form = {"grant_type": DEVICE_GRANT, "device_code": flow.authorization.device_code, "client_id": idp.client_id}
        try:
            response = requests.post(meta.token_endpoint, data=form, timeout=5)
        except requests.RequestException:
            flow.on_network_error(time.monotonic())
            continue
        outcome = flow.on_response(response.status_code, json_or_none(response), time.monotonic())
        if isinstance(outcome, Authorized | Failed):
            return outcome


def test_discovery_has_auth0_shape(standin: Auth0Standin) -> None:
    meta = metadata(standin)
    assert standin.issuer.endswith("/")
    assert meta.device_authorization_endpoint == standin.issuer + "oauth/device/code"
    assert meta.token_endpoint == standin.issuer + "oauth/token"
    assert meta.revocation_endpoint == standin.issuer + "oauth/revoke"
    assert meta.jwks_uri == standin.issuer + ".well-known/jwks.json"
    assert requests.get(meta.jwks_uri, timeout=5).json() == standin.jwks


def test_auth0_statuses_and_waits_measured_from_each_answer(standin: Auth0Standin) -> None:
    standin.play(PENDING, PENDING, APPROVED)
    outcome = sign_in(standin)
    assert isinstance(outcome, Authorized)
    assert [p.status for p in standin.polls] == [403, 403, 200]
    assert all(wait >= 0.05 for wait in standin.poll_waits())
    claims = verify_id_token(outcome.tokens.id_token or "", jwks=standin.jwks, issuer=standin.issuer,
                             client_id=standin.client_id, now=time.time())
    assert profile_from_claims(claims).email == "sam@example.com"
    expiry = access_token_expiry(outcome.tokens.access_token)
    assert expiry is not None
    assert abs(expiry - (time.time() + 86400)) < 60


def test_slow_down_is_429_and_the_client_slows_down(standin: Auth0Standin, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(deviceflow, "SLOW_DOWN_STEP", 0.1)
    standin.play(SLOW_DOWN, PENDING, APPROVED)
    assert isinstance(sign_in(standin), Authorized)
    assert [p.status for p in standin.polls] == [429, 403, 200]
    assert all(wait >= 0.15 for wait in standin.poll_waits())


def test_a_slow_server_does_not_shorten_the_wait(rsa_key: rsa.RSAPrivateKey) -> None:
    with Auth0Standin(interval=0.05, poll_latency=0.2, key=rsa_key, script=[PENDING, APPROVED]) as idp:
        assert isinstance(sign_in(idp), Authorized)
        first, second = idp.polls
        assert first.answered_at - first.arrived_at >= 0.2
        assert second.arrived_at - first.answered_at >= 0.05


def test_denied_is_403(standin: Auth0Standin) -> None:
    standin.play(PENDING, DENIED)
    outcome = sign_in(standin)
    assert isinstance(outcome, Failed)
    assert outcome.reason is FailureReason.DENIED
    assert standin.polls[-1].status == 403


def test_expired_token_once_then_invalid_grant(standin: Auth0Standin) -> None:
    standin.expire_now()  # no device code yet: the next request starts a fresh one
    meta = metadata(standin)
    code = requests.post(meta.device_authorization_endpoint or "", data={"client_id": standin.client_id},
                         timeout=5).json()
    standin.expire_now()
    form = {"grant_type": DEVICE_GRANT, "device_code": code["device_code"], "client_id": standin.client_id}
    answers = [requests.post(meta.token_endpoint, data=form, timeout=5) for _ in range(3)]
    assert [(a.status_code, a.json()["error"]) for a in answers] == [
        (403, "expired_token"), (403, "invalid_grant"), (403, "invalid_grant")]
    flow = DeviceFlow(parse_device_authorization(code, 0.0), 0.0)
    assert flow.on_response(403, answers[0].json(), 1.0) == Failed(
        FailureReason.EXPIRED, "The code expired before it was approved. Start again to get a new code.")


def test_a_short_expires_in_ends_the_flow(rsa_key: rsa.RSAPrivateKey) -> None:
    with Auth0Standin(interval=0.05, expires_in=0.3, key=rsa_key) as idp:
        outcome = sign_in(idp)
    assert isinstance(outcome, Failed)
    assert outcome.reason is FailureReason.EXPIRED


def test_interval_can_be_left_out_like_oidc_provider(rsa_key: rsa.RSAPrivateKey) -> None:
    with Auth0Standin(interval=None, key=rsa_key) as idp:
        code = requests.post(idp.discovery["device_authorization_endpoint"], data={"client_id": idp.client_id},
                             timeout=5).json()
    assert "interval" not in code
    assert parse_device_authorization(code, 0.0).interval == 5.0
    assert code["verification_uri_complete"].endswith("?user_code=QTZL-MCBW")


def test_confidential_clients_are_refused_like_auth0(standin: Auth0Standin) -> None:
    answer = requests.post(standin.issuer + "oauth/device/code",
                           data={"client_id": standin.client_id, "client_secret": "s"}, timeout=5)
    assert (answer.status_code, answer.json()["error"]) == (403, "unauthorized_client")
    assert standin.device_requests[-1]["client_secret"] == "s"


def test_refresh_rotation_with_reuse_detection(standin: Auth0Standin) -> None:
    standin.play(APPROVED)
    outcome = sign_in(standin)
    assert isinstance(outcome, Authorized)
    first = outcome.tokens.refresh_token
    assert first is not None
    profile = profile_from_claims(standin.profile)
    session = start_session(profile, outcome.tokens, time.monotonic())

    def refresh(token: str | None) -> requests.Response:
        form = {"grant_type": "refresh_token", "client_id": standin.client_id, "refresh_token": token or ""}
        return requests.post(standin.issuer + "oauth/token", data=form, timeout=5)

    answer = refresh(session.refresh_token)
    assert answer.status_code == 200
    session = apply_refresh(session, parse_token_response(answer.json(), time.monotonic()), time.monotonic())
    assert session.refresh_token not in (None, first)
    reused = refresh(first)
    assert RefreshError.from_answer(reused.status_code, reused.json()).kind == "reauth"
    assert refresh(session.refresh_token).status_code == 403  # the whole family is revoked
    assert len(standin.refresh_requests) == 3


def test_no_refresh_token_without_offline_access(standin: Auth0Standin) -> None:
    standin.play((200, TOKENS))
    outcome = sign_in(standin, scope="openid profile")
    assert isinstance(outcome, Authorized)
    assert outcome.tokens.refresh_token is None


def test_userinfo_and_revoke(standin: Auth0Standin) -> None:
    standin.play(APPROVED)
    outcome = sign_in(standin)
    assert isinstance(outcome, Authorized)
    headers = {"Authorization": f"Bearer {outcome.tokens.access_token}"}
    assert requests.get(standin.issuer + "userinfo", headers=headers, timeout=5).json()["sub"] == "auth0|standin-user"
    assert requests.get(standin.issuer + "userinfo", timeout=5).status_code == 401
    form = {"client_id": standin.client_id, "token": outcome.tokens.refresh_token or ""}
    answer = requests.post(standin.issuer + "oauth/revoke", data=form, timeout=5)
    assert (answer.status_code, answer.content) == (200, b"")
    assert standin.revocations == [form]


def test_a_broken_discovery_document_can_be_served(standin: Auth0Standin) -> None:
    del standin.discovery["device_authorization_endpoint"]
    with pytest.raises(DiscoveryError, match="does not support the device authorization flow"):
        metadata(standin)
