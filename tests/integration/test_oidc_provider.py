"""The local OpenID provider (oidc-provider, Auth0-shaped) answers the device flow as Auth0 does.

Plain ``requests`` against the provider, no application code: these tests pin down the behaviour the
client and the channel-authorization server are written against.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
import requests
from support.oidc_fixtures import require_oidc_provider
from support.oidc_provider import DEVICE_CODE_GRANT, OidcProvider, OidcProviderError

pytestmark = pytest.mark.integration


SCOPE = "openid profile email offline_access"
TIMEOUT = 5.0


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def _json(response: requests.Response) -> dict[str, Any]:
    with response:
        body: dict[str, Any] = response.json()
        return body


def start_device_flow(
    http: requests.Session, idp: OidcProvider, scope: str = SCOPE, audience: str | None = None
) -> dict[str, Any]:
    response = http.post(
        idp.device_authorization_endpoint,
        data={"client_id": idp.client_id, "scope": scope, "audience": audience or idp.audience},
        timeout=TIMEOUT,
    )
    assert response.status_code == 200, response.text
    return _json(response)


def poll(http: requests.Session, idp: OidcProvider, device_code: str) -> tuple[int, dict[str, Any]]:
    response = http.post(
        idp.token_endpoint,
        data={"grant_type": DEVICE_CODE_GRANT, "device_code": device_code, "client_id": idp.client_id},
        timeout=TIMEOUT,
    )
    return response.status_code, _json(response)


def refresh(http: requests.Session, idp: OidcProvider, refresh_token: str) -> tuple[int, dict[str, Any]]:
    response = http.post(
        idp.token_endpoint,
        data={"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": idp.client_id},
        timeout=TIMEOUT,
    )
    return response.status_code, _json(response)


def sign_in(http: requests.Session, idp: OidcProvider, sub: str = "auth0|demo-ada", **approve: Any) -> dict[str, Any]:
    """Device authorization, approval, one poll: the token response."""
    grant = start_device_flow(http, idp)
    idp.approve(grant["user_code"], sub, **approve)
    status, tokens = poll(http, idp, grant["device_code"])
    assert status == 200, tokens
    return tokens


def verify(http: requests.Session, idp: OidcProvider, token: str, audience: str) -> dict[str, Any]:
    """Check the signature against the JWKS (by ``kid``, RS256 only), ``iss``, ``aud`` and ``exp``."""
    jwks = _json(http.get(idp.jwks_uri, timeout=TIMEOUT))
    kid = jwt.get_unverified_header(token)["kid"]
    (key,) = [k for k in jwks["keys"] if k["kid"] == kid]
    claims: dict[str, Any] = jwt.decode(
        token,
        jwt.PyJWK(key).key,
        algorithms=["RS256"],
        audience=audience,
        issuer=idp.issuer,
        options={"require": ["exp", "iat", "iss", "aud", "sub"]},
    )
    return claims


# ---------------------------------------------------------------------------------------------- discovery


def test_discovery_lists_auth0_shaped_endpoints(oidc_provider: OidcProvider, http: requests.Session) -> None:
    config = _json(http.get(oidc_provider.discovery_url, timeout=TIMEOUT))
    issuer = oidc_provider.issuer
    assert issuer.endswith("/")
    assert config["issuer"] == issuer
    assert config["device_authorization_endpoint"] == f"{issuer}oauth/device/code"
    assert config["token_endpoint"] == f"{issuer}oauth/token"
    assert config["userinfo_endpoint"] == f"{issuer}userinfo"
    assert config["revocation_endpoint"] == f"{issuer}oauth/revoke"
    assert config["jwks_uri"] == f"{issuer}.well-known/jwks.json"
    assert "offline_access" in config["scopes_supported"]
    assert DEVICE_CODE_GRANT in config["grant_types_supported"]
    assert "RS256" in config["id_token_signing_alg_values_supported"]


def test_jwks_serves_one_rs256_signing_key(oidc_provider: OidcProvider, http: requests.Session) -> None:
    (key,) = _json(http.get(oidc_provider.jwks_uri, timeout=TIMEOUT))["keys"]
    assert key["kty"] == "RSA"
    assert key["alg"] == "RS256"
    assert key["use"] == "sig"
    assert key["kid"]
    assert "d" not in key  # public part only


# ---------------------------------------------------------------------------------------------- device flow


def test_device_authorization_answers_like_auth0(oidc_provider: OidcProvider, http: requests.Session) -> None:
    grant = start_device_flow(http, oidc_provider)
    assert set(grant) == {
        "device_code",
        "user_code",
        "verification_uri",
        "verification_uri_complete",
        "expires_in",
        "interval",
    }
    assert grant["interval"] == 1
    assert grant["expires_in"] == 600
    assert len(grant["user_code"]) == 9
    assert grant["user_code"][4] == "-"
    assert grant["verification_uri"] == f"{oidc_provider.issuer}device"
    assert grant["verification_uri_complete"] == f"{grant['verification_uri']}?user_code={grant['user_code']}"


def test_poll_before_approval_is_pending_with_403(oidc_provider: OidcProvider, http: requests.Session) -> None:
    grant = start_device_flow(http, oidc_provider)
    status, body = poll(http, oidc_provider, grant["device_code"])
    assert (status, body["error"]) == (403, "authorization_pending")


def test_polling_faster_than_the_interval_gets_slow_down_with_429(
    oidc_provider: OidcProvider, http: requests.Session
) -> None:
    grant = start_device_flow(http, oidc_provider)
    assert poll(http, oidc_provider, grant["device_code"])[0] == 403
    status, body = poll(http, oidc_provider, grant["device_code"])
    assert (status, body["error"]) == (429, "slow_down")
    assert "interval of 1 seconds" in body["error_description"]
    time.sleep(grant["interval"])
    status, body = poll(http, oidc_provider, grant["device_code"])
    assert (status, body["error"]) == (403, "authorization_pending")


def test_approved_code_gives_jwt_access_token_id_token_and_refresh_token(
    oidc_provider: OidcProvider, http: requests.Session
) -> None:
    grant = start_device_flow(http, oidc_provider)
    assert poll(http, oidc_provider, grant["device_code"])[0] == 403
    # Case and separators do not matter, as on the verification page.
    approved = oidc_provider.approve(grant["user_code"].lower().replace("-", ""))
    assert approved["user_code"] == grant["user_code"]
    time.sleep(grant["interval"])
    status, tokens = poll(http, oidc_provider, grant["device_code"])
    assert status == 200, tokens
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == 3600
    assert tokens["scope"] == SCOPE
    assert tokens["refresh_token"]

    header = jwt.get_unverified_header(tokens["access_token"])
    assert header["alg"] == "RS256"
    assert header["typ"] == "at+jwt"
    access = verify(http, oidc_provider, tokens["access_token"], oidc_provider.audience)
    assert access["iss"] == oidc_provider.issuer
    assert access["aud"] == [oidc_provider.audience, oidc_provider.userinfo_audience]
    assert access["sub"] == "auth0|demo-ada"
    assert access["permissions"] == ["read:login-feed"]
    assert access["scope"] == SCOPE
    assert access["azp"] == access["client_id"] == oidc_provider.client_id
    assert access["exp"] - access["iat"] == 3600

    assert jwt.get_unverified_header(tokens["id_token"])["alg"] == "RS256"
    identity = verify(http, oidc_provider, tokens["id_token"], oidc_provider.client_id)
    assert identity["aud"] == oidc_provider.client_id
    assert identity["sub"] == "auth0|demo-ada"
    assert identity["name"] == "Ada Lovelace"
    assert identity["nickname"] == "ada"
    assert identity["email"] == "ada@example.com"
    assert identity["email_verified"] is True


def test_a_device_code_gives_tokens_only_once(oidc_provider: OidcProvider, http: requests.Session) -> None:
    grant = start_device_flow(http, oidc_provider)
    oidc_provider.approve(grant["user_code"])
    status, tokens = poll(http, oidc_provider, grant["device_code"])
    assert status == 200
    status, body = poll(http, oidc_provider, grant["device_code"])
    assert (status, body["error"]) == (403, "invalid_grant")
    # oidc-provider treats a reused device code as an attack: the whole grant is revoked.
    status, body = refresh(http, oidc_provider, tokens["refresh_token"])
    assert (status, body["error"]) == (403, "invalid_grant")


def test_approval_as_another_user_with_other_permissions(oidc_provider: OidcProvider, http: requests.Session) -> None:
    tokens = sign_in(http, oidc_provider, "auth0|demo-grace", permissions=[])
    access = verify(http, oidc_provider, tokens["access_token"], oidc_provider.audience)
    assert access["sub"] == "auth0|demo-grace"
    assert access["permissions"] == []
    identity = verify(http, oidc_provider, tokens["id_token"], oidc_provider.client_id)
    assert (identity["name"], identity["email"]) == ("Grace Hopper", "grace@example.com")
    # The override holds for the grant's refreshed tokens too.
    status, refreshed = refresh(http, oidc_provider, tokens["refresh_token"])
    assert status == 200, refreshed
    assert verify(http, oidc_provider, refreshed["access_token"], oidc_provider.audience)["permissions"] == []


def test_denied_code_gives_access_denied_with_403(oidc_provider: OidcProvider, http: requests.Session) -> None:
    grant = start_device_flow(http, oidc_provider)
    oidc_provider.deny(grant["user_code"])
    status, body = poll(http, oidc_provider, grant["device_code"])
    assert (status, body["error"]) == (403, "access_denied")
    assert body["error_description"] == "User cancelled the confirmation prompt."
    with pytest.raises(OidcProviderError, match="409"):
        oidc_provider.approve(grant["user_code"])


def test_expired_code_gives_expired_token_once_then_invalid_grant(
    oidc_provider: OidcProvider, http: requests.Session
) -> None:
    grant = start_device_flow(http, oidc_provider)
    oidc_provider.expire(grant["user_code"])
    status, body = poll(http, oidc_provider, grant["device_code"])
    assert (status, body["error"]) == (403, "expired_token")
    status, body = poll(http, oidc_provider, grant["device_code"])
    assert (status, body["error"]) == (403, "invalid_grant")
    with pytest.raises(OidcProviderError, match="409"):
        oidc_provider.approve(grant["user_code"])


def test_unknown_device_code_is_invalid_grant(oidc_provider: OidcProvider, http: requests.Session) -> None:
    status, body = poll(http, oidc_provider, "no-such-device-code")
    assert (status, body["error"]) == (403, "invalid_grant")
    assert body["error_description"] == "Invalid or expired device code."


def test_test_routes_reject_an_unknown_user_code(oidc_provider: OidcProvider) -> None:
    for action in (oidc_provider.approve, oidc_provider.deny, oidc_provider.expire):
        with pytest.raises(OidcProviderError, match="HTTP 404: not_found"):
            action("BCDF-GHJK")


def test_device_authorization_rejects_an_unknown_client_and_audience(
    oidc_provider: OidcProvider, http: requests.Session
) -> None:
    with http.post(
        oidc_provider.device_authorization_endpoint, data={"client_id": "nobody", "scope": SCOPE}, timeout=TIMEOUT
    ) as response:
        assert (response.status_code, response.json()["error"]) == (401, "invalid_client")
    with http.post(
        oidc_provider.device_authorization_endpoint,
        data={"client_id": oidc_provider.client_id, "scope": SCOPE, "audience": "https://other.example.com/"},
        timeout=TIMEOUT,
    ) as response:
        assert (response.status_code, response.json()["error"]) == (400, "invalid_target")


# ---------------------------------------------------------------------------------------------- refresh, revoke


def test_refresh_rotates_and_reusing_a_used_refresh_token_is_invalid_grant(
    oidc_provider: OidcProvider, http: requests.Session
) -> None:
    tokens = sign_in(http, oidc_provider)
    status, refreshed = refresh(http, oidc_provider, tokens["refresh_token"])
    assert status == 200, refreshed
    assert refreshed["refresh_token"] != tokens["refresh_token"]
    assert refreshed["access_token"] != tokens["access_token"]
    assert refreshed["scope"] == SCOPE
    access = verify(http, oidc_provider, refreshed["access_token"], oidc_provider.audience)
    assert access["permissions"] == ["read:login-feed"]
    assert verify(http, oidc_provider, refreshed["id_token"], oidc_provider.client_id)["name"] == "Ada Lovelace"

    status, body = refresh(http, oidc_provider, tokens["refresh_token"])
    assert (status, body["error"]) == (403, "invalid_grant")
    assert body["error_description"] == "Unknown or invalid refresh token."
    # Reuse detection revokes the whole family: the newest refresh token is dead too.
    status, body = refresh(http, oidc_provider, refreshed["refresh_token"])
    assert (status, body["error"]) == (403, "invalid_grant")


def test_revocation_answers_200_and_kills_the_refresh_token(
    oidc_provider: OidcProvider, http: requests.Session
) -> None:
    tokens = sign_in(http, oidc_provider)
    with http.post(
        oidc_provider.revocation_endpoint,
        data={"client_id": oidc_provider.client_id, "token": tokens["refresh_token"]},
        timeout=TIMEOUT,
    ) as response:
        assert response.status_code == 200
        assert response.content == b""
    status, body = refresh(http, oidc_provider, tokens["refresh_token"])
    assert (status, body["error"]) == (403, "invalid_grant")
    # Revoking an unknown or already revoked token is not an error (RFC 7009).
    with http.post(
        oidc_provider.revocation_endpoint,
        data={"client_id": oidc_provider.client_id, "token": tokens["refresh_token"]},
        timeout=TIMEOUT,
    ) as response:
        assert response.status_code == 200


# ---------------------------------------------------------------------------------------------- userinfo


def test_userinfo_answers_the_profile_for_the_api_access_token(
    oidc_provider: OidcProvider, http: requests.Session
) -> None:
    tokens = sign_in(http, oidc_provider)
    with http.get(
        oidc_provider.userinfo_endpoint,
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
        timeout=TIMEOUT,
    ) as response:
        assert response.status_code == 200, response.text
        profile = response.json()
    assert profile["sub"] == "auth0|demo-ada"
    assert profile["name"] == "Ada Lovelace"
    assert profile["email"] == "ada@example.com"
    assert profile["email_verified"] is True
    assert profile["nickname"] == "ada"

    with http.get(
        oidc_provider.userinfo_endpoint, headers={"Authorization": "Bearer not-a-token"}, timeout=TIMEOUT
    ) as response:
        assert response.status_code == 401
        assert response.json()["error"] == "invalid_token"
        assert response.headers["WWW-Authenticate"].startswith('Bearer error="invalid_token"')


# ---------------------------------------------------------------------------------------------- plain mode


def test_plain_oidc_provider_mode_keeps_its_own_statuses(http: requests.Session) -> None:
    require_oidc_provider()
    with OidcProvider(interval=1, auth0_compat=False) as idp:
        grant = start_device_flow(http, idp)
        assert "interval" not in grant
        status, body = poll(http, idp, grant["device_code"])
        assert (status, body["error"]) == (400, "authorization_pending")
        status, body = poll(http, idp, grant["device_code"])
        assert (status, body["error"]) == (400, "slow_down")
        tokens = sign_in(http, idp)
        access = verify(http, idp, tokens["access_token"], idp.audience)
        assert access["aud"] == idp.audience
        assert access["permissions"] == ["read:login-feed"]
        assert "azp" not in access
        with http.get(
            idp.userinfo_endpoint, headers={"Authorization": f"Bearer {tokens['access_token']}"}, timeout=TIMEOUT
        ) as response:
            assert response.status_code == 401
            assert response.json()["error"] == "invalid_token"
        denied = start_device_flow(http, idp)
        idp.deny(denied["user_code"])
        status, body = poll(http, idp, denied["device_code"])
        assert (status, body["error"]) == (400, "access_denied")
        expired = start_device_flow(http, idp)
        idp.expire(expired["user_code"])
        for _ in range(2):  # oidc-provider repeats expired_token (Auth0 says it once, then invalid_grant)
            status, body = poll(http, idp, expired["device_code"])
            assert (status, body["error"]) == (400, "expired_token")
