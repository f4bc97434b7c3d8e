"""Every HTTP caller in desktop/ keeps the total deadline and the byte cap: against a loopback server that drips,
floods, hangs or sends garbage, each fails with its own clear error instead of waiting or reading it all.

Before the HTTP boundary, each of these passed a dripped answer (only each read had a timeout) and read a flood
whole before looking at its size; the JWKS refetch held the key-set lock, so one slow provider stalled every
verification.
"""

from __future__ import annotations

import json
import threading
import time
import tracemalloc
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from support.http_stub import Drip, Flood, Garbage, Hang, HttpStub, Play, Reply
from support.waiting import wait_until

from desktop.auth.provider import OidcProvider, ProviderUnreachable
from desktop.authserver.profiles import ProfileLookup, UserInfoClient
from desktop.authserver.server import AuthServerSetupError, _get_json, discover
from desktop.authserver.tokens import AccessTokenVerifier
from desktop.chat.sender import EndpointSender
from desktop.pusher.auth import AuthorizationError, HttpAuthorizer
from desktop.util.http import HttpClient, HttpError

DRIP = Drip(Reply(200, {"auth": "k:" + "a" * 4000}), interval=0.05, size=8)  # ~25 s in all; each gap 50 ms
FLOOD = Flood(100 * 1024 * 1024, announce_length=False)
TOKEN = "secret-bearer-token-42"


@pytest.fixture
def authorizer() -> Iterator[HttpAuthorizer]:
    made: list[HttpAuthorizer] = []

    def make(url: str) -> HttpAuthorizer:
        made.append(HttpAuthorizer(url, timeout=1.0, headers_provider=lambda: {"Authorization": f"Bearer {TOKEN}"}))
        return made[-1]

    yield make  # type: ignore[misc]
    for one in made:
        one.close()


@pytest.mark.parametrize(("play", "message", "status"), [
    (DRIP, "the authorization endpoint did not answer within 1 s", None),
    (Hang(), "the authorization endpoint did not answer within 1 s", None),
    (Garbage(), "the authorization endpoint did not answer in HTTP", None),
    (Reply(403, {"error": "not your channel"}), "the authorization endpoint answered 403: not your channel", 403),
    (Reply(500, b"<html>Internal Server Error</html>"), "the authorization endpoint answered 500", 500),
    (Reply(200, b"<html/>"), "the authorization endpoint's answer is not JSON", 200),
], ids=["drip", "hang", "garbage", "403", "500", "not-json"])
def test_the_channel_authorizer(authorizer: Any, play: Play, message: str, status: int | None) -> None:
    with HttpStub(play) as stub:
        with pytest.raises(AuthorizationError) as raised:
            authorizer(stub.url("/pusher/auth")).authorize_channel("1.2", "private-feed")
        stub.wait_idle()
    assert (raised.value.message, raised.value.status) == (message, status)
    assert TOKEN not in str(raised.value)


def test_the_channel_authorizer_refuses_a_flood_with_bounded_memory(authorizer: Any) -> None:
    with HttpStub(FLOOD) as stub:
        tracemalloc.start()
        try:
            with pytest.raises(AuthorizationError) as raised:
                authorizer(stub.url("/pusher/auth")).authorize_channel("1.2", "private-feed")
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        stub.wait_idle()
    print(f"\nauthorizer vs a 100 MB answer: peak {peak / 1024:.0f} KB, {stub.bytes_sent / 2**20:.1f} MB sent")
    assert raised.value.message == "the authorization endpoint's answer is too large (over 64 KB)"
    assert peak < 2 * 1024 * 1024


def test_the_authorizer_still_renews_once_after_a_401(authorizer: Any) -> None:
    renewals: list[int] = []
    with HttpStub(Reply(401, {"error": "invalid_token"})) as stub:
        one = authorizer(stub.url("/pusher/auth"))
        one.on_unauthorized = lambda: renewals.append(1)
        with pytest.raises(AuthorizationError) as raised:
            one.authorize_channel("1.2", "private-feed")
    assert raised.value.message == "the authorization endpoint answered 401: invalid_token"
    assert raised.value.status == 401
    assert len(renewals) == 1 and len(stub.requests) == 2


@pytest.mark.parametrize(("play", "ending"), [
    (DRIP, " did not answer within 1 s"),
    (Hang(), " did not answer within 1 s"),
    (FLOOD, "'s answer is too large (over 256 KB)"),
    (Garbage(), " did not answer in HTTP"),
], ids=["drip", "hang", "flood", "garbage"])
def test_the_openid_provider_client(play: Play, ending: str) -> None:
    with HttpStub(play) as stub:
        provider = OidcProvider(stub.url("/"), "client-id", timeout=1.0)
        try:
            with pytest.raises(ProviderUnreachable) as raised:
                provider.metadata()
        finally:
            provider.close()
        stub.wait_idle()
    assert str(raised.value) == stub.url("/") + ending  # the issuer names the service


def test_the_userinfo_client_and_the_profile_fallback() -> None:
    with HttpStub(DRIP) as stub:
        client = UserInfoClient(stub.url("/userinfo"), timeout=1.0)
        try:
            with pytest.raises(HttpError, match=r"^/userinfo did not answer within 1 s$"):
                client(TOKEN)
            stub.play = Reply(200, {"sub": "auth0|ada", "name": "Ada Lovelace"})
            assert client(TOKEN)["name"] == "Ada Lovelace"
            stub.play = FLOOD
            assert ProfileLookup(client).lookup({"sub": "auth0|ada"}, TOKEN) == {}  # the user id alone
        finally:
            client.close()
        stub.wait_idle()
    assert stub.requests[0].headers["authorization"] == f"Bearer {TOKEN}"


def test_the_authservers_discovery_names_what_failed_without_the_query() -> None:
    with HttpStub(Hang()) as stub:
        http = HttpClient("the sign-in service", timeout=1.0)
        try:
            with pytest.raises(AuthServerSetupError) as raised:
                discover(stub.url("/"), http)
            stub.play = Reply(404, b"")
            with pytest.raises(HttpError) as refused:
                _get_json(http, stub.url("/jwks?sig=s3cret"), "the JWKS")
        finally:
            http.close()
    assert raised.value.exit_code == 1
    assert str(raised.value).endswith(f"the discovery document at {stub.url('/.well-known/openid-configuration')} "
                                      "did not answer within 1 s")
    assert str(refused.value) == f"the JWKS at {stub.url('/jwks')} answered HTTP 404"


def test_a_hanging_jwks_refetch_does_not_stall_other_verifications(rsa_key: rsa.RSAPrivateKey) -> None:
    """The key set is stale, one request refetches it and the provider hangs: a token whose key is in hand is
    still verified meanwhile. Before, the refetch held the key-set lock, so this verify waited for the deadline."""
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(rsa_key.public_key())) | {"kid": "k1", "alg": "RS256"}
    issuer, audience, now = "https://tenant.example/", "https://api.example/", [time.time()]
    token = jwt.encode({"iss": issuer, "aud": audience, "sub": "auth0|ada", "exp": int(now[0]) + 7200,
                        "iat": int(now[0])}, rsa_key, algorithm="RS256", headers={"kid": "k1"})
    with HttpStub(Reply(200, {"keys": [jwk]})) as stub:
        http = HttpClient("the sign-in service", timeout=60.0)
        verifier = AccessTokenVerifier(issuer, audience, lambda: _get_json(http, stub.url("/jwks"), "the JWKS"),
                                       lambda: now[0], max_age=600)
        try:
            assert verifier.verify(token)["sub"] == "auth0|ada"
            stub.play = Hang()
            now[0] += 601  # the keys are stale: the next verification refetches them
            refetching = threading.Thread(target=verifier.verify, args=(token,), daemon=True)
            refetching.start()
            wait_until(lambda: len(stub.requests) == 2, message="the refetch did not start")
            assert verifier.verify(token)["sub"] == "auth0|ada"
            assert refetching.is_alive()  # still waiting on the provider, and nobody waited for it
        finally:
            stub.close()  # ends the hang: the refetch fails and the old keys stay
            refetching.join(10)
            http.close()
    assert not refetching.is_alive()
    assert verifier.fetch_count == 2


def test_the_chat_sender(qtbot: Any) -> None:
    with HttpStub(DRIP) as stub:
        sender = EndpointSender(stub.url("/message"), lambda: TOKEN, timeout=1.0)
        try:
            with qtbot.waitSignal(sender.failed, timeout=10_000) as blocker:
                sender.send("m1", "hello", "Ada")
            assert blocker.args == ["m1", "Not sent: the message endpoint did not answer within 1 s."]
            stub.play = Garbage()
            with qtbot.waitSignal(sender.failed, timeout=10_000) as blocker:
                sender.send("m2", "hello", "Ada")
            assert blocker.args == ["m2", "Not sent: the message endpoint did not answer in HTTP."]
        finally:
            sender.close()
        stub.wait_idle()
