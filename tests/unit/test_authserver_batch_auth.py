"""Batched channel authorization (pusher-js-auth's format): one request, each channel its own verdict."""

from __future__ import annotations

import base64
import json
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

from desktop.authserver.app import create_app
from desktop.authserver.batch_auth import MAX_BATCH_CHANNELS
from desktop.authserver.profiles import ProfileLookup
from desktop.authserver.tokens import AccessTokenVerifier
from desktop.config_schema import Auth0Config, Config, PusherConfig
from desktop.signing.signatures import shared_secret, verify_channel_auth

ISSUER = "https://tenant.example.auth0.com/"
AUDIENCE = "https://login-feed.example.com/api"
KEY, SECRET = "app-key", "app-secret-for-tests"
MASTER = bytes(range(32))
SOCKET = "1234.5678"
NOW = 1_750_000_000


def token(key: rsa.RSAPrivateKey, permissions: list[str] | None = None) -> dict[str, str]:
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "auth0|ada", "iat": NOW - 5, "exp": NOW + 3600,
              "name": "Ada Lovelace", "email": "ada@example.com",
              "permissions": ["read:login-feed"] if permissions is None else permissions}
    return {"Authorization": "Bearer " + jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})}


@pytest.fixture
def client(rsa_key: rsa.RSAPrivateKey) -> Iterator[TestClient]:
    jwks = {"keys": [public_jwk(rsa_key)]}
    verifier = AccessTokenVerifier(ISSUER, AUDIENCE, lambda: jwks, clock=lambda: float(NOW))
    config = Config(auth0=Auth0Config(issuer=ISSUER, audience=AUDIENCE),
                    pusher=PusherConfig(key=KEY, host="127.0.0.1", port=6001, tls=False, app_id="1"))
    app = create_app(config, SECRET, MASTER, verifier, None, profiles=ProfileLookup(None))
    with TestClient(app) as test_client:
        yield test_client


def batch(client: TestClient, headers: dict[str, str], channels: list[str], **extra: str) -> Any:
    form = {"socket_id": SOCKET, **{f"channel_name[{i}]": name for i, name in enumerate(channels)}, **extra}
    return client.post("/pusher/auth", data=form, headers=headers)


def test_a_reconnect_signs_feed_encrypted_feed_chat_and_presence_in_one_request(
        client: TestClient, rsa_key: rsa.RSAPrivateKey) -> None:
    channels = ["private-login-feed", "private-encrypted-login-feed", "private-chat", "presence-support"]
    response = batch(client, token(rsa_key), channels)
    assert response.status_code == 200, response.text
    answers = response.json()[SOCKET]
    assert list(answers) == channels
    for channel in channels:
        assert answers[channel]["status"] == 200
        data = answers[channel]["data"]
        assert verify_channel_auth(KEY, SECRET, SOCKET, channel, auth=data["auth"],
                                   channel_data=data.get("channel_data"))
    secret = base64.b64decode(answers["private-encrypted-login-feed"]["data"]["shared_secret"])
    assert secret == shared_secret("private-encrypted-login-feed", MASTER)
    assert json.loads(answers["presence-support"]["data"]["channel_data"])["user_id"] == "auth0|ada"


def test_one_refused_channel_does_not_refuse_the_others(client: TestClient, rsa_key: rsa.RSAPrivateKey) -> None:
    response = batch(client, token(rsa_key), ["private-login-feed", "private-someone-elses", "bad name!",
                                                  "public-news", "private-chat"])
    assert response.status_code == 200
    answers = response.json()[SOCKET]
    assert answers["private-login-feed"]["status"] == 200 and answers["private-chat"]["status"] == 200
    refused = answers["private-someone-elses"]
    assert (refused["status"], refused["error"]) == (403, "forbidden") and refused["error_description"]
    assert answers["bad name!"]["status"] == 400 and answers["public-news"]["status"] == 400
    assert "data" not in answers["private-someone-elses"]


def test_the_token_and_permission_still_gate_the_whole_request(client: TestClient,
                                                               rsa_key: rsa.RSAPrivateKey) -> None:
    assert batch(client, {}, ["private-login-feed"]).status_code == 401
    assert batch(client, token(rsa_key, permissions=[]), ["private-login-feed"]).status_code == 403


def test_json_lists_work_too_and_limits_are_enforced(client: TestClient, rsa_key: rsa.RSAPrivateKey) -> None:
    headers = token(rsa_key)
    response = client.post("/pusher/auth", json={"socket_id": SOCKET, "channel_name": ["private-login-feed"]},
                           headers=headers)
    assert response.json()[SOCKET]["private-login-feed"]["status"] == 200
    too_many = batch(client, headers, [f"private-c{i}" for i in range(MAX_BATCH_CHANNELS + 1)])
    assert too_many.status_code == 400
    both = batch(client, headers, ["private-login-feed"], channel_name="private-chat")
    assert both.status_code == 400
    empty = client.post("/pusher/auth", json={"socket_id": SOCKET, "channel_name": []}, headers=headers)
    assert empty.status_code == 400
    assert batch(client, headers, ["private-login-feed"], socket_id="nope").status_code == 400


def test_a_single_channel_request_is_answered_as_before(client: TestClient, rsa_key: rsa.RSAPrivateKey) -> None:
    response = client.post("/pusher/auth", data={"socket_id": SOCKET, "channel_name": "private-login-feed"},
                           headers=token(rsa_key))
    assert set(response.json()) == {"auth"}
