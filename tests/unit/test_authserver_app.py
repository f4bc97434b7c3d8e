"""The authorization server's routes, in-process with Starlette's TestClient: statuses, JSON bodies, logs."""

from __future__ import annotations

import base64
import json
import logging
import warnings
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.exceptions import StarletteDeprecationWarning

with warnings.catch_warnings():  # Starlette 1.x prefers httpx2 and warns when it finds only httpx
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

from support.keys import public_jwk

from desktop.authserver.app import MAX_BODY_BYTES, create_app
from desktop.authserver.profiles import ProfileLookup
from desktop.authserver.tokens import AccessTokenVerifier
from desktop.config_schema import Auth0Config, AuthServerConfig, ChatConfig, Config, PusherConfig
from desktop.signing.pusher_http import TriggerError
from desktop.signing.signatures import shared_secret, verify_channel_auth, verify_user_auth

ISSUER = "https://tenant.example.auth0.com/"
AUDIENCE = "https://login-feed.example.com/api"
KEY, SECRET = "app-key", "app-secret-for-tests"
MASTER = bytes(range(32))
SOCKET = "1234.5678"
NOW = 1_750_000_000


@pytest.fixture(scope="module")
def jwks(rsa_key: rsa.RSAPrivateKey) -> dict[str, Any]:
    return {"keys": [public_jwk(rsa_key)]}


@pytest.fixture
def make_token(rsa_key: rsa.RSAPrivateKey):
    def make(sub: str = "auth0|ada", permissions: list[str] | None = None, **extra: Any) -> str:
        claims = {"iss": ISSUER, "aud": [AUDIENCE, f"{ISSUER}userinfo"], "sub": sub, "iat": NOW - 5,
                  "exp": NOW + 3600, "scope": "openid profile email",
                  "permissions": ["read:login-feed"] if permissions is None else permissions, **extra}
        return jwt.encode(claims, rsa_key, algorithm="RS256", headers={"kid": "k1"})

    return make


class FakeTrigger:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str, str | None]] = []
        self.error: Exception | None = None

    def __call__(self, channel: str, event: str, data: str, socket_id: str | None) -> None:
        if self.error is not None:
            raise self.error
        self.calls.append((channel, event, data, socket_id))


class FakeUserInfo:
    def __init__(self) -> None:
        self.tokens: list[str] = []
        self.answer: dict[str, Any] | Exception = {"sub": "auth0|ada", "name": "Ada Lovelace",
                                                  "email": "ada@example.com", "nickname": "ada"}

    def __call__(self, token: str) -> dict[str, Any]:
        self.tokens.append(token)
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def make_config(authserver: AuthServerConfig | None = None, **chat: Any) -> Config:
    return Config(auth0=Auth0Config(issuer=ISSUER, audience=AUDIENCE),
                  pusher=PusherConfig(key=KEY, host="127.0.0.1", port=6001, tls=False, app_id="1"),
                  chat=ChatConfig(**chat), authserver=authserver or AuthServerConfig())


class Server:
    def __init__(self, jwks: dict[str, Any], *, master_key: bytes | None = MASTER, trigger: bool = True,
                 config: Config | None = None) -> None:
        self.jwks_calls = 0
        self.jwks_down = False
        self.now = 100.0  # the rate limit's monotonic clock

        def fetch() -> dict[str, Any]:
            self.jwks_calls += 1
            if self.jwks_down:
                raise ConnectionError("down")
            return jwks

        self.trigger = FakeTrigger()
        self.userinfo = FakeUserInfo()
        verifier = AccessTokenVerifier(ISSUER, AUDIENCE, fetch, clock=lambda: float(NOW))
        self.app = create_app(config or make_config(), SECRET, master_key, verifier,
                              self.trigger if trigger else None, profiles=ProfileLookup(self.userinfo),
                              clock=lambda: self.now)


@pytest.fixture
def server(jwks: dict[str, Any]) -> Server:
    return Server(jwks)


@pytest.fixture
def client(server: Server) -> Iterator[TestClient]:
    with TestClient(server.app) as test_client:
        yield test_client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_error(response: Any, status: int, error: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"error", "error_description"}
    assert body["error"] == error
    assert isinstance(body["error_description"], str)
    assert body["error_description"]
    return body


# ---------------------------------------------------------------------------------------------- health, routing


def test_healthz_needs_no_token(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"ok": True}
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_unknown_route_and_wrong_method_answer_json(client: TestClient) -> None:
    assert_error(client.get("/nope"), 404, "not_found")
    body = assert_error(client.get("/pusher/auth"), 405, "method_not_allowed")
    assert body["error_description"] == "Method Not Allowed"
    assert client.get("/pusher/auth").headers["allow"] == "POST"


# ---------------------------------------------------------------------------------------------- 401 and 403


@pytest.mark.parametrize("path", ["/pusher/auth", "/pusher/user-auth", "/message"])
def test_no_token_is_401_with_www_authenticate(client: TestClient, path: str) -> None:
    response = client.post(path, data={"socket_id": SOCKET, "channel_name": "private-login-feed", "message": "hi"})
    assert_error(response, 401, "invalid_token")
    assert response.headers["www-authenticate"].startswith("Bearer ")
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer a b", "token abc", "Bearer not-a-jwt"])
def test_malformed_authorization_is_401(client: TestClient, header: str) -> None:
    response = client.post("/pusher/auth", headers={"Authorization": header},
                           data={"socket_id": SOCKET, "channel_name": "private-login-feed"})
    body = assert_error(response, 401, "invalid_token")
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
    assert "dXNlcjpwYXNz" not in body["error_description"]


def test_bad_tokens_are_401_and_never_echoed(client: TestClient, make_token) -> None:
    for token in (make_token(exp=NOW - 3600), make_token(iss="https://evil.example.com/"),
                  make_token(aud="https://other.example.com/"), make_token(sub="")):
        response = client.post("/pusher/auth", headers=bearer(token),
                               data={"socket_id": SOCKET, "channel_name": "private-login-feed"})
        assert_error(response, 401, "invalid_token")
        assert token not in response.text
        assert token.split(".")[2] not in response.text


@pytest.mark.parametrize("path", ["/pusher/auth", "/pusher/user-auth", "/message"])
def test_a_valid_token_without_the_permission_is_403(client: TestClient, make_token, path: str) -> None:
    response = client.post(path, headers=bearer(make_token(permissions=["read:other"])),
                           data={"socket_id": SOCKET, "channel_name": "private-login-feed", "message": "hi"})
    body = assert_error(response, 403, "insufficient_scope")
    assert "read:login-feed" in body["error_description"]
    assert response.headers["www-authenticate"] == (
        'Bearer realm="login-feed", error="insufficient_scope", scope="read:login-feed"')


@pytest.mark.parametrize("path", ["/pusher/auth", "/pusher/user-auth", "/message"])
def test_the_permission_in_the_scope_is_not_enough(client: TestClient, make_token, path: str) -> None:
    # With the API's RBAC off, Auth0 grants any defined scope to anyone who asks for it.
    token = make_token(permissions=[], scope="openid read:login-feed")
    response = client.post(path, headers=bearer(token),
                           data={"socket_id": SOCKET, "channel_name": "private-login-feed", "message": "hi"})
    assert_error(response, 403, "insufficient_scope")


def test_tokens_for_other_applications_are_403_when_client_ids_are_configured(jwks: dict[str, Any],
                                                                               make_token) -> None:
    config = make_config(AuthServerConfig(allowed_client_ids=("desktop-app",)))
    with TestClient(Server(jwks, config=config).app) as client:
        def auth(token: str) -> Any:
            return client.post("/pusher/auth", headers=bearer(token),
                               data={"socket_id": SOCKET, "channel_name": "private-login-feed"})

        assert auth(make_token(azp="desktop-app")).status_code == 200
        assert auth(make_token(client_id="desktop-app")).status_code == 200  # RFC 9068 access tokens
        assert_error(auth(make_token(azp="someone-elses-app")), 403, "unauthorized_client")
        assert_error(auth(make_token()), 403, "unauthorized_client")


def test_jwks_unreachable_is_503(server: Server, client: TestClient, make_token) -> None:
    server.jwks_down = True
    response = client.post("/pusher/auth", headers=bearer(make_token()),
                           data={"socket_id": SOCKET, "channel_name": "private-login-feed"})
    assert_error(response, 503, "temporarily_unavailable")
    assert response.headers["retry-after"] == "5"


# ---------------------------------------------------------------------------------------------- /pusher/auth


def test_private_channel_is_signed(client: TestClient, make_token) -> None:
    response = client.post("/pusher/auth", headers=bearer(make_token()),
                           data={"socket_id": SOCKET, "channel_name": "private-login-feed"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"auth"}
    assert body["auth"].startswith(f"{KEY}:")
    assert verify_channel_auth(KEY, SECRET, SOCKET, "private-login-feed", auth=body["auth"])
    assert response.headers["cache-control"] == "no-store"


def test_json_requests_are_accepted_too(client: TestClient, make_token) -> None:
    response = client.post("/pusher/auth", headers=bearer(make_token()),
                           json={"socket_id": SOCKET, "channel_name": "private-chat"})
    assert response.status_code == 200, response.text
    assert verify_channel_auth(KEY, SECRET, SOCKET, "private-chat", auth=response.json()["auth"])


def test_multipart_forms_are_accepted_but_not_files(client: TestClient, make_token) -> None:
    response = client.post("/pusher/auth", headers=bearer(make_token()),
                           files={"socket_id": (None, SOCKET), "channel_name": (None, "private-chat")})
    assert response.status_code == 200, response.text
    response = client.post("/pusher/auth", headers=bearer(make_token()), data={"socket_id": SOCKET},
                           files={"channel_name": ("x.txt", b"private-chat", "text/plain")})
    assert_error(response, 400, "invalid_request")


def test_presence_channel_data_comes_from_the_token_when_it_has_name_and_email(
    server: Server, client: TestClient, make_token
) -> None:
    token = make_token(sub="auth0|grace", name="Grace Hopper", email="grace@example.com")
    response = client.post("/pusher/auth", headers=bearer(token),
                           data={"socket_id": SOCKET, "channel_name": "presence-support"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"auth", "channel_data"}
    assert json.loads(body["channel_data"]) == {
        "user_id": "auth0|grace", "user_info": {"name": "Grace Hopper", "email": "grace@example.com"}}
    assert verify_channel_auth(KEY, SECRET, SOCKET, "presence-support", auth=body["auth"],
                               channel_data=body["channel_data"])
    assert server.userinfo.tokens == []  # nothing to look up


def test_presence_channel_data_from_userinfo_cached_per_user(server: Server, client: TestClient, make_token) -> None:
    token = make_token()
    for _ in range(3):
        response = client.post("/pusher/auth", headers=bearer(token),
                               data={"socket_id": SOCKET, "channel_name": "presence-support"})
        assert response.status_code == 200, response.text
        assert json.loads(response.json()["channel_data"]) == {
            "user_id": "auth0|ada", "user_info": {"name": "Ada Lovelace", "email": "ada@example.com"}}
    assert server.userinfo.tokens == [token]  # asked once, with the caller's own token


def test_presence_without_userinfo_uses_the_sub_alone(server: Server, client: TestClient, make_token) -> None:
    server.userinfo.answer = ConnectionError("provider down")
    response = client.post("/pusher/auth", headers=bearer(make_token()),
                           data={"socket_id": SOCKET, "channel_name": "presence-support"})
    assert response.status_code == 200, response.text
    assert json.loads(response.json()["channel_data"]) == {"user_id": "auth0|ada", "user_info": {}}


def test_userinfo_for_another_user_is_not_trusted(server: Server, client: TestClient, make_token) -> None:
    server.userinfo.answer = {"sub": "auth0|mallory", "name": "Mallory"}
    response = client.post("/pusher/auth", headers=bearer(make_token()),
                           data={"socket_id": SOCKET, "channel_name": "presence-support"})
    assert json.loads(response.json()["channel_data"]) == {"user_id": "auth0|ada", "user_info": {}}


def test_encrypted_feed_gets_its_shared_secret(client: TestClient, make_token) -> None:
    channel = "private-encrypted-login-feed"
    response = client.post("/pusher/auth", headers=bearer(make_token()),
                           data={"socket_id": SOCKET, "channel_name": channel})
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"auth", "shared_secret"}
    assert base64.b64decode(body["shared_secret"]) == shared_secret(channel, MASTER)
    assert verify_channel_auth(KEY, SECRET, SOCKET, channel, auth=body["auth"])


def test_encrypted_channels_are_refused_without_a_master_key(jwks: dict[str, Any], make_token) -> None:
    with TestClient(Server(jwks, master_key=None).app) as client:
        response = client.post("/pusher/auth", headers=bearer(make_token()),
                               data={"socket_id": SOCKET, "channel_name": "private-encrypted-login-feed"})
    assert_error(response, 403, "forbidden")


@pytest.mark.parametrize("channel", ["private-other", "presence-admins", "private-encrypted-chat"])
def test_channels_outside_the_policy_are_403(client: TestClient, make_token, channel: str) -> None:
    response = client.post("/pusher/auth", headers=bearer(make_token()),
                           data={"socket_id": SOCKET, "channel_name": channel})
    body = assert_error(response, 403, "forbidden")
    assert channel in body["error_description"]


@pytest.mark.parametrize(("form", "fragment"), [
    ({"socket_id": "abc", "channel_name": "private-login-feed"}, "socket_id"),
    ({"socket_id": "1234.5678:private-x", "channel_name": "private-login-feed"}, "socket_id"),
    ({"channel_name": "private-login-feed"}, "'socket_id' is required"),
    ({"socket_id": SOCKET}, "'channel_name' is required"),
    ({"socket_id": SOCKET, "channel_name": "private-bad name"}, "may only contain"),
    ({"socket_id": SOCKET, "channel_name": "#server-to-user-1"}, "channel name"),
    ({"socket_id": SOCKET, "channel_name": "login-feed"}, "public channel"),
])
def test_bad_parameters_are_400(client: TestClient, make_token, form: dict[str, str], fragment: str) -> None:
    body = assert_error(client.post("/pusher/auth", headers=bearer(make_token()), data=form), 400, "invalid_request")
    assert fragment in body["error_description"]


def test_bad_json_and_unknown_content_types(client: TestClient, make_token) -> None:
    headers = bearer(make_token())
    assert_error(client.post("/pusher/auth", headers={**headers, "Content-Type": "application/json"},
                             content=b"{nope"), 400, "invalid_request")
    assert_error(client.post("/pusher/auth", headers=headers, json=["socket_id"]), 400, "invalid_request")
    assert_error(client.post("/pusher/auth", headers=headers, json={"socket_id": 1234.5, "channel_name": "x"}),
                 400, "invalid_request")
    assert_error(client.post("/pusher/auth", headers={**headers, "Content-Type": "text/plain"}, content=b"hi"),
                 415, "unsupported_media_type")


def test_oversized_bodies_are_413(client: TestClient, make_token) -> None:
    big = {"socket_id": SOCKET, "channel_name": "private-login-feed", "padding": "x" * MAX_BODY_BYTES}
    assert_error(client.post("/pusher/auth", headers=bearer(make_token()), data=big), 413, "payload_too_large")

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted while reading
        yield b"socket_id=1234.5678&channel_name=private-login-feed&padding="
        for _ in range(20):
            yield b"x" * 8192

    response = client.post("/pusher/auth", content=chunks(), headers={
        **bearer(make_token()), "Content-Type": "application/x-www-form-urlencoded"})
    assert_error(response, 413, "payload_too_large")


@pytest.mark.parametrize("path", ["/pusher/auth", "/message"])
def test_deeply_nested_json_is_400(client: TestClient, make_token, path: str) -> None:
    nested = b'{"socket_id": "1234.5678", "x": ' + b"[" * 30_000 + b"]" * 30_000 + b"}"  # RecursionError to parse
    response = client.post(path, headers={**bearer(make_token()), "Content-Type": "application/json"},
                           content=nested)
    body = assert_error(response, 400, "invalid_request")
    assert "nested" in body["error_description"]


@pytest.mark.parametrize(("path", "document"), [
    ("/message", '{"message": "hi \\ud800 there"}'),
    ("/message", '{"message": "hi", "\\udfff": 1}'),
    ("/pusher/auth", '{"socket_id": "1234.5678", "channel_name": "private-login-feed", "x": ["\\udc00"]}'),
    ("/pusher/user-auth", '{"socket_id": "1234.5678", "note": {"k": "\\ud83d"}}'),
])
def test_lone_surrogates_are_400(server: Server, client: TestClient, make_token, path: str, document: str) -> None:
    response = client.post(path, headers={**bearer(make_token()), "Content-Type": "application/json"},
                           content=document.encode())
    body = assert_error(response, 400, "invalid_request")
    assert "Unicode" in body["error_description"]
    assert server.trigger.calls == []


def test_invalid_utf8_in_a_form_is_not_a_500(server: Server, client: TestClient, make_token) -> None:
    response = client.post("/message", headers={**bearer(make_token()),
                                                "Content-Type": "application/x-www-form-urlencoded"},
                           content=b"message=hi%ED%A0%80%FF&id=m1")
    assert response.status_code in (200, 400), response.text
    assert response.headers["content-type"] == "application/json"
    for (_, _, data, _) in server.trigger.calls:
        data.encode("utf-8")


# ---------------------------------------------------------------------------------------------- /pusher/user-auth


def test_user_auth_signs_the_user_from_the_token(client: TestClient, make_token) -> None:
    response = client.post("/pusher/user-auth", headers=bearer(make_token()), data={"socket_id": SOCKET})
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"auth", "user_data"}
    # The id is the sub in Pusher's channel-name alphabet: '|' cannot be part of #server-to-user-<id>.
    assert json.loads(body["user_data"]) == {
        "id": "auth0=7Cada", "user_info": {"name": "Ada Lovelace", "email": "ada@example.com"}}
    assert verify_user_auth(KEY, SECRET, SOCKET, body["user_data"], auth=body["auth"])


def test_user_auth_refuses_a_sub_too_long_for_a_server_to_user_channel(client: TestClient, make_token) -> None:
    response = client.post("/pusher/user-auth", headers=bearer(make_token(sub="auth0|" + "x" * 150)),
                           data={"socket_id": SOCKET})
    assert_error(response, 400, "invalid_request")


def test_user_auth_needs_a_socket_id(client: TestClient, make_token) -> None:
    assert_error(client.post("/pusher/user-auth", headers=bearer(make_token()), data={}), 400, "invalid_request")
    assert_error(client.post("/pusher/user-auth", headers=bearer(make_token()), data={"socket_id": "1.x"}),
                 400, "invalid_request")


# ---------------------------------------------------------------------------------------------- /message


def test_message_triggers_the_chat_event(server: Server, client: TestClient, make_token) -> None:
    response = client.post("/message", headers=bearer(make_token()), data={"message": "hello team"})
    assert response.status_code == 200, response.text
    assert response.json() == {"ok": True}
    [(channel, event, data, socket_id)] = server.trigger.calls
    assert (channel, event, socket_id) == ("private-chat", "message-added", None)
    assert json.loads(data) == {"message": "hello team", "name": "Ada Lovelace", "user_id": "auth0|ada"}


@pytest.mark.parametrize("send", ["form", "json"])
def test_message_is_published_with_the_tokens_name_not_the_requests(server: Server, client: TestClient,
                                                                     make_token, send: str) -> None:
    body = {"message": "Please reset my password", "name": "Grace Hopper", "user_id": "auth0|grace",
            "id": "m-1"}
    sent = {"data": body} if send == "form" else {"json": body}
    response = client.post("/message", headers=bearer(make_token()), **sent)  # type: ignore[arg-type]
    assert response.status_code == 200, response.text
    [(_, _, data, _)] = server.trigger.calls
    assert json.loads(data) == {"message": "Please reset my password", "name": "Ada Lovelace",
                                "user_id": "auth0|ada", "id": "m-1"}


def test_message_id_is_passed_through_only_when_well_formed(server: Server, client: TestClient,
                                                           make_token) -> None:
    for message_id in ("x" * 65, "a b", "<b>"):
        response = client.post("/message", headers=bearer(make_token()), data={"message": "hi", "id": message_id})
        assert response.status_code == 200, response.text
    assert all("id" not in json.loads(data) for (_, _, data, _) in server.trigger.calls)


def test_message_as_json_takes_the_name_from_the_profile_and_excludes_a_socket(
    server: Server, client: TestClient, make_token
) -> None:
    response = client.post("/message", headers=bearer(make_token()), json={"message": "hi", "socket_id": SOCKET})
    assert response.status_code == 200, response.text
    [(_, _, data, socket_id)] = server.trigger.calls
    assert json.loads(data) == {"message": "hi", "name": "Ada Lovelace", "user_id": "auth0|ada"}
    assert socket_id == SOCKET


def test_message_name_falls_back_to_the_sub(server: Server, client: TestClient, make_token) -> None:
    server.userinfo.answer = RuntimeError("no profile")
    client.post("/message", headers=bearer(make_token()), data={"message": "hi"})
    assert json.loads(server.trigger.calls[0][2]) == {"message": "hi", "name": "auth0|ada", "user_id": "auth0|ada"}


def test_message_follows_the_chat_configuration(jwks: dict[str, Any], make_token) -> None:
    config = make_config(channel="presence-chat", event="chat-line")
    server = Server(jwks, config=config)
    with TestClient(server.app) as client:
        assert client.post("/message", headers=bearer(make_token()), data={"message": "hi"}).status_code == 200
    assert server.trigger.calls[0][:2] == ("presence-chat", "chat-line")


@pytest.mark.parametrize(("form", "status", "error"), [
    ({}, 400, "invalid_request"),
    ({"message": ""}, 400, "invalid_request"),
    ({"message": "   "}, 400, "invalid_request"),
    ({"message": "hi", "socket_id": "nope"}, 400, "invalid_request"),
    ({"message": "é" * 5200}, 413, "payload_too_large"),  # 10.4 KB once encoded
])
def test_message_validation(server: Server, client: TestClient, make_token, form: dict[str, str], status: int,
                            error: str) -> None:
    body = assert_error(client.post("/message", headers=bearer(make_token()), data=form), status, error)
    if status == 413:
        assert "10 KB" in body["error_description"]
    assert server.trigger.calls == []


def test_message_json_with_a_non_text_message_is_400(server: Server, client: TestClient, make_token) -> None:
    assert_error(client.post("/message", headers=bearer(make_token()), json={"message": 42}), 400, "invalid_request")


def test_message_refused_by_pusher_is_502(server: Server, client: TestClient, make_token) -> None:
    server.trigger.error = TriggerError("Pusher answered HTTP 401", 401)
    body = assert_error(client.post("/message", headers=bearer(make_token()), data={"message": "hi"}),
                        502, "pusher_error")
    assert "401" in body["error_description"]


def test_message_too_large_for_pusher_is_413(server: Server, client: TestClient, make_token) -> None:
    server.trigger.error = TriggerError("the event data is larger than Pusher's 10 KB limit", 413)
    assert_error(client.post("/message", headers=bearer(make_token()), data={"message": "hi"}),
                 413, "payload_too_large")


def test_message_without_app_id_is_503(jwks: dict[str, Any], make_token) -> None:
    with TestClient(Server(jwks, trigger=False).app) as client:
        body = assert_error(client.post("/message", headers=bearer(make_token()), data={"message": "hi"}),
                            503, "not_configured")
    assert "app_id" in body["error_description"]


def test_an_unexpected_failure_is_a_json_500(server: Server, make_token) -> None:
    server.trigger.error = RuntimeError("boom")
    with TestClient(server.app, raise_server_exceptions=False) as client:
        response = client.post("/message", headers=bearer(make_token()), data={"message": "hi"})
    assert_error(response, 500, "server_error")
    assert "boom" not in response.text


# ---------------------------------------------------------------------------------------------- rate limit


def limited_server(jwks: dict[str, Any]) -> Server:
    return Server(jwks, config=make_config(AuthServerConfig(rate_limit=60, rate_burst=3)))  # 1 a second, 3 at once


def test_one_user_is_rate_limited_per_sub_with_retry_after(jwks: dict[str, Any], make_token) -> None:
    server = limited_server(jwks)
    ada, grace = make_token(), make_token(sub="auth0|grace")
    with TestClient(server.app) as client:
        def message(token: str) -> Any:
            return client.post("/message", headers=bearer(token), data={"message": "hi"})

        assert [message(ada).status_code for _ in range(3)] == [200, 200, 200]
        refused = message(ada)
        body = assert_error(refused, 429, "rate_limited")
        assert refused.headers["retry-after"] == "1"
        assert "1 s" in body["error_description"]
        assert message(grace).status_code == 200  # another user has their own bucket
        server.now += 1.0  # one token back
        assert message(ada).status_code == 200
        assert message(ada).status_code == 429
    assert len(server.trigger.calls) == 5  # refused messages never reach Pusher


def test_signing_and_messages_have_separate_limits(jwks: dict[str, Any], make_token) -> None:
    server = limited_server(jwks)
    token = make_token()
    with TestClient(server.app) as client:
        for _ in range(3):
            assert client.post("/message", headers=bearer(token), data={"message": "hi"}).status_code == 200
        assert client.post("/message", headers=bearer(token), data={"message": "hi"}).status_code == 429
        signing = [client.post("/pusher/auth", headers=bearer(token),
                               data={"socket_id": SOCKET, "channel_name": "private-chat"}).status_code,
                   client.post("/pusher/user-auth", headers=bearer(token), data={"socket_id": SOCKET}).status_code,
                   client.post("/pusher/auth", headers=bearer(token),
                               data={"socket_id": SOCKET, "channel_name": "private-login-feed"}).status_code]
        assert signing == [200, 200, 200]  # the chat did not use up the reconnect's signatures
        response = client.post("/pusher/user-auth", headers=bearer(token), data={"socket_id": SOCKET})
        assert_error(response, 429, "rate_limited")
        assert int(response.headers["retry-after"]) >= 1


def test_unauthenticated_requests_do_not_use_a_users_bucket(jwks: dict[str, Any], make_token) -> None:
    server = limited_server(jwks)
    with TestClient(server.app) as client:
        for _ in range(5):
            assert client.post("/message", data={"message": "hi"}).status_code == 401
        assert client.post("/message", headers=bearer(make_token()), data={"message": "hi"}).status_code == 200


# ---------------------------------------------------------------------------------------------- logs


def test_access_log_has_one_line_per_request_and_no_secrets(
    client: TestClient, make_token, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    token = make_token()
    denied = make_token(permissions=[])
    auth = client.post("/pusher/auth", headers=bearer(token),
                       data={"socket_id": SOCKET, "channel_name": "private-login-feed"}).json()["auth"]
    presence = client.post("/pusher/auth", headers=bearer(token),
                           data={"socket_id": SOCKET, "channel_name": "presence-support"}).json()["auth"]
    user = client.post("/pusher/user-auth", headers=bearer(token), data={"socket_id": SOCKET}).json()["auth"]
    client.post("/pusher/auth", headers=bearer(denied), data={"socket_id": SOCKET, "channel_name": "private-chat"})
    client.post("/pusher/auth?access_token=" + token, data={"socket_id": SOCKET})
    client.post("/message", headers=bearer(token), data={"message": "hi"})
    client.get("/healthz")

    # Everything the server side logged (the test client's own httpx lines show the URL it sent).
    text = "\n".join(f"{r.name} {r.getMessage()}" for r in caplog.records if not r.name.startswith("httpx"))
    for secret in (token, denied, token.split(".")[2], auth, presence, user, auth.split(":")[1],
                   presence.split(":")[1], user.split(":")[1], SECRET, "Bearer"):
        assert secret not in text
    access = [r.getMessage() for r in caplog.records if r.name == "desktop.authserver.access"]
    assert len(access) == 7
    assert access[0].startswith("testclient POST /pusher/auth 200 ")
    assert access[0].endswith(" sub=auth0|ada")
    assert " 403 " in access[3]
    assert access[3].endswith("sub=auth0|ada")  # known once the token was verified, even when refused
    assert access[4].startswith("testclient POST /pusher/auth 401 ")  # the query string is never logged
    assert access[4].endswith("sub=-")
    assert access[6].startswith("testclient GET /healthz 200 ")
