"""Remote authorization end to end: the signed-in user's access token reaches the channel endpoint.

A real sign-in (oidc-provider), the engine's own ``build_authorizer`` in remote mode, an endpoint that checks
the bearer token like a real one would (RS256 against the provider's JWKS, issuer, audience) and answers 401
the first time (a token revoked or expired server-side), and a real soketi private channel.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import jwt
import pusher
import pytest
import requests
from support.auth_endpoint import AuthEndpoint
from support.engine import sdk_client
from support.engine_flow import connect, subscribe
from support.oidc_provider import OidcProvider as OidcTestServer
from support.signin_helpers import LoginRun, MemoryKeyring, closing_manager
from support.soketi import APP_KEY, Soketi

from desktop.auth.signin import SignInManager
from desktop.config_schema import AuthorizationConfig, Config, PusherConfig
from desktop.engine import build_authorizer
from desktop.pusher.auth import HttpAuthorizer
from desktop.secrets import SecretStore

pytestmark = pytest.mark.integration

ADA = "auth0|demo-ada"


class BearerAuthEndpoint(AuthEndpoint):
    """Signs only for a valid bearer access token; the first ``refuse_first`` requests get 401 regardless."""

    def __init__(self, sdk: pusher.Pusher, idp: OidcTestServer, refuse_first: int = 1) -> None:
        super().__init__(sdk)
        with requests.get(idp.jwks_uri, timeout=5) as answer:
            self._keys = jwt.PyJWKSet.from_dict(answer.json())
        self._issuer, self._audience = idp.issuer, idp.audience
        self._refuse_first = refuse_first
        self._answered = 0
        self._count_lock = threading.Lock()
        self.claims: list[dict[str, Any]] = []

    def _answer(self, form: dict[str, str]) -> tuple[int, str, bytes]:
        # Requests come one at a time here: the last one recorded is the one being answered.
        headers = self.requests[-1].headers
        with self._count_lock:
            self._answered += 1
            refuse = self._answered <= self._refuse_first
        if refuse:
            return 401, "application/json", b'{"error": "invalid_token"}'
        scheme, _, token = headers.get("Authorization", "").partition(" ")
        try:
            header = jwt.get_unverified_header(token)
            claims = jwt.decode(token, self._keys[header["kid"]].key, algorithms=["RS256"],
                                audience=self._audience, issuer=self._issuer)
        except (jwt.PyJWTError, KeyError):
            return 401, "application/json", b'{"error": "invalid_token"}'
        if scheme != "Bearer":
            return 401, "application/json", b'{"error": "invalid_request"}'
        self.claims.append(claims)
        return super()._answer(form)


@pytest.fixture
def keyring_backend() -> MemoryKeyring:
    return MemoryKeyring()


@pytest.fixture
def signed_in(oidc_provider: OidcTestServer, keyring_backend: MemoryKeyring) -> Iterator[SignInManager]:
    with closing_manager(oidc_provider.issuer, oidc_provider.client_id, oidc_provider.audience,
                         keyring_backend) as manager:
        run = LoginRun(manager)
        try:
            oidc_provider.approve(run.code().user_code, sub=ADA)
            run.result()
        finally:
            run.stop()
        yield manager


@pytest.fixture
def endpoint(soketi: Soketi, oidc_provider: OidcTestServer) -> Iterator[BearerAuthEndpoint]:
    with BearerAuthEndpoint(sdk_client(soketi), oidc_provider) as server:
        yield server


@pytest.fixture
def remote_authorizer(soketi: Soketi, endpoint: BearerAuthEndpoint,
                      signed_in: SignInManager) -> Iterator[HttpAuthorizer]:
    config = Config(
        pusher=PusherConfig(key=APP_KEY, host=soketi.host, port=soketi.port, tls=False, cluster=None),
        authorization=AuthorizationConfig(mode="remote", endpoint=endpoint.url),
    )
    authorizer = build_authorizer(config, SecretStore({}), signin=signed_in)
    assert isinstance(authorizer, HttpAuthorizer)
    try:
        yield authorizer
    finally:
        authorizer.close()


def bearer(request: Any) -> str:
    scheme, _, token = request.headers["Authorization"].partition(" ")
    assert scheme == "Bearer"
    return token


def test_bearer_token_renewed_once_after_a_401(soketi: Soketi, make_client, endpoint: BearerAuthEndpoint,
                                               remote_authorizer: HttpAuthorizer, signed_in: SignInManager,
                                               keyring_backend: MemoryKeyring,
                                               oidc_provider: OidcTestServer) -> None:
    assert signed_in.session is not None
    first_access = signed_in.session.access_token
    assert len(keyring_backend.writes) == 1
    channel = "private-signin-remote"

    client = make_client(soketi, authorizer=remote_authorizer)
    recorder = connect(client)
    subscribe(client, recorder, channel)

    refused, accepted = endpoint.requests
    assert refused.form == accepted.form == {"socket_id": client.socket_id, "channel_name": channel}
    # First the token of the sign-in; after the 401, a renewed one (one refresh, one rotation).
    assert bearer(refused) == first_access
    assert bearer(accepted) != first_access
    assert signed_in.session is not None
    assert bearer(accepted) == signed_in.session.access_token
    assert len(keyring_backend.writes) == 2
    # The token the endpoint accepted is a JWT for the API, about the signed-in user.
    [claims] = endpoint.claims
    audience = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    assert oidc_provider.audience in audience
    assert claims["sub"] == ADA
    assert claims["iss"] == oidc_provider.issuer

    # The subscription is real: events on the private channel arrive.
    soketi.trigger(channel, "user-loggedIn", {"user": "ada"})
    assert recorder.wait_for("user-loggedIn", channel)[0].data == {"user": "ada"}


def test_a_401_whose_renewal_fails_fails_the_channel(soketi: Soketi, make_client, endpoint: BearerAuthEndpoint,
                                                     remote_authorizer: HttpAuthorizer, signed_in: SignInManager,
                                                     keyring_backend: MemoryKeyring) -> None:
    # The token family dies (a used refresh token was replayed): the renewal after the 401 is refused.
    assert signed_in.session is not None
    old = signed_in.session.refresh_token
    assert old
    signed_in.access_token(force_refresh=True)
    status, _ = signed_in.provider.refresh(old)
    assert status != 200
    channel = "private-signin-remote-dead"

    client = make_client(soketi, authorizer=remote_authorizer)
    recorder = connect(client)
    client.subscribe(channel)
    error = recorder.wait_for("pusher:subscription_error", channel)[0]
    assert error.data["type"] == "AuthError"
    assert error.data["status"] == 401
    assert "could not be renewed" in error.data["error"]
    assert "Sign in again" in error.data["error"]
    assert len(endpoint.requests) == 1  # no retry with a token that could not be renewed
    assert signed_in.session is None
    assert keyring_backend.only_value() is None
