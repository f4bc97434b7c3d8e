"""The authorization server end to end: real access tokens from a real OpenID provider (device flow), uvicorn on a
loopback port, a real soketi, and the app's own Pusher client subscribing through it.

Also ``login-feed authserver`` as a subprocess: it starts, answers /healthz, stops on SIGTERM with exit 0, and
refuses to start without the app secret.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import signal
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from support.cli_process import CliProcess, cli_environment
from support.engine import new_client, sdk_session
from support.engine_flow import connect, subscribe
from support.oidc_provider import DEVICE_CODE_GRANT, OidcProvider
from support.recording import EventRecorder
from support.soketi import APP_ID, APP_KEY, APP_SECRET, Soketi
from support.waiting import wait_until

from desktop.authserver.listener import build_server
from desktop.authserver.server import MISSING_SECRET, Runtime, build_runtime
from desktop.config_schema import Auth0Config, AuthServerConfig, Config, PusherConfig
from desktop.pusher.auth import HttpAuthorizer
from desktop.pusher.client import PusherClient

pytestmark = pytest.mark.integration

SCOPE = "openid profile email offline_access"
TIMEOUT = 5.0
MASTER = bytes(range(100, 132))


def sign_in(idp: OidcProvider, sub: str, permissions: list[str]) -> str:
    """Device authorization, approval as ``sub``, one poll: the access token (plain requests, no app code)."""
    with requests.Session() as http:
        response = http.post(idp.device_authorization_endpoint, timeout=TIMEOUT,
                             data={"client_id": idp.client_id, "scope": SCOPE, "audience": idp.audience})
        with response:
            assert response.status_code == 200, response.text
            grant = response.json()
        idp.approve(grant["user_code"], sub, permissions=permissions)
        response = http.post(idp.token_endpoint, timeout=TIMEOUT,
                             data={"grant_type": DEVICE_CODE_GRANT, "device_code": grant["device_code"],
                                   "client_id": idp.client_id})
        with response:
            assert response.status_code == 200, response.text
            token: str = response.json()["access_token"]
    return token


def config_for(idp: OidcProvider, server: Soketi) -> Config:
    return Config(auth0=Auth0Config(issuer=idp.issuer, audience=idp.audience, client_id=idp.client_id),
                  pusher=PusherConfig(key=APP_KEY, host=server.host, port=server.port, tls=False, app_id=APP_ID))


class ServedApp:
    """The runtime's app served by uvicorn on a free loopback port, in a thread."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.server = build_server(runtime.app, "127.0.0.1", 0, max_connections=100)  # as `login-feed authserver`
        self.thread = threading.Thread(target=self.server.run, name="test-authserver", daemon=True)
        self.thread.start()
        wait_until(lambda: self.server.started or not self.thread.is_alive(), message="uvicorn did not start")
        assert self.server.started
        self.port = self.server.servers[0].sockets[0].getsockname()[1]

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.runtime.close()


@pytest.fixture(scope="module")
def authserver(oidc_provider: OidcProvider, soketi: Soketi) -> Iterator[ServedApp]:
    served = ServedApp(build_runtime(config_for(oidc_provider, soketi), APP_SECRET, MASTER))
    try:
        yield served
    finally:
        served.close()


@pytest.fixture(scope="module")
def ada_token(oidc_provider: OidcProvider) -> str:
    return sign_in(oidc_provider, "auth0|demo-ada", ["read:login-feed"])


@pytest.fixture
def clients() -> Iterator[list[PusherClient]]:
    made: list[PusherClient] = []
    yield made
    for client in reversed(made):
        client.close()


def remote_client(clients: list[PusherClient], server: Soketi, authserver: ServedApp, token: str) -> PusherClient:
    authorizer = HttpAuthorizer(authserver.url("/pusher/auth"), authserver.url("/pusher/user-auth"),
                                headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT)
    client = new_client(server, authorizer=authorizer)
    clients.append(client)
    return client


def test_a_permitted_user_subscribes_joins_presence_and_signs_in(
    soketi: Soketi, authserver: ServedApp, ada_token: str, clients: list[PusherClient]
) -> None:
    client = remote_client(clients, soketi, authserver, ada_token)
    recorder = connect(client)

    subscribe(client, recorder, "private-login-feed")
    soketi.trigger("private-login-feed", "user-loggedIn", {"v": 1, "type": "login", "user_id": "auth0|x"})
    assert recorder.wait_for("user-loggedIn", "private-login-feed")[0].data["user_id"] == "auth0|x"

    subscribe(client, recorder, "presence-support")
    wait_until(lambda: client.members("presence-support"), message="no presence members")
    # Access tokens carry no profile: the name and email come from the provider's /userinfo.
    assert client.members("presence-support") == {
        "auth0|demo-ada": {"name": "Ada Lovelace", "email": "ada@example.com"}}

    # Sign-in: the user id is the sub in Pusher's channel-name alphabet, so that the server-to-user channel
    # (which soketi and the official server library refuse with a '|') works.
    notes = EventRecorder()
    client.user.bind("note", notes)
    client.signin()
    success = recorder.wait_for("pusher:signin_success", None)
    assert success[0].data["id"] == "auth0=7Cdemo-ada"
    assert success[0].data["user_info"] == {"name": "Ada Lovelace", "email": "ada@example.com"}
    recorder.wait_for("pusher:subscription_succeeded", "#server-to-user-auth0=7Cdemo-ada")
    with sdk_session(soketi) as sdk:
        sdk.send_to_user("auth0=7Cdemo-ada", "note", {"text": "hello Ada"})
    assert [e.data for e in notes.wait_for("note")] == [{"text": "hello Ada"}]
    assert not recorder.named("pusher:signin_error")
    assert not recorder.named("pusher:subscription_error")


def test_the_encrypted_feed_gets_a_working_shared_secret(
    soketi: Soketi, authserver: ServedApp, ada_token: str, clients: list[PusherClient]
) -> None:
    channel = "private-encrypted-login-feed"
    client = remote_client(clients, soketi, authserver, ada_token)
    recorder = connect(client)
    subscribe(client, recorder, channel)
    with sdk_session(soketi, master_key=MASTER) as sdk:
        sdk.trigger(channel, "user-signedUp", {"v": 1, "type": "signup", "user_id": "auth0|new"})
    assert recorder.wait_for("user-signedUp", channel)[0].data == {"v": 1, "type": "signup", "user_id": "auth0|new"}


def test_a_user_without_the_permission_gets_403(
    oidc_provider: OidcProvider, soketi: Soketi, authserver: ServedApp, clients: list[PusherClient]
) -> None:
    token = sign_in(oidc_provider, "auth0|demo-grace", [])
    client = remote_client(clients, soketi, authserver, token)
    recorder = connect(client)
    client.subscribe("private-login-feed")
    error = recorder.wait_for("pusher:subscription_error", "private-login-feed")[0]
    assert error.data["type"] == "AuthError"
    assert error.data["status"] == 403
    assert "read:login-feed" in error.data["error"]
    assert not recorder.named("pusher:subscription_succeeded", "private-login-feed")


def test_channels_outside_the_policy_get_403(
    soketi: Soketi, authserver: ServedApp, ada_token: str, clients: list[PusherClient]
) -> None:
    client = remote_client(clients, soketi, authserver, ada_token)
    recorder = connect(client)
    client.subscribe("private-admin-only")
    error = recorder.wait_for("pusher:subscription_error", "private-admin-only")[0]
    assert error.data["status"] == 403


def test_a_forged_token_gets_401(soketi: Soketi, authserver: ServedApp, ada_token: str,
                                 clients: list[PusherClient]) -> None:
    header, payload, signature = ada_token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["permissions"] = ["read:login-feed", "admin"]
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    client = remote_client(clients, soketi, authserver, f"{header}.{forged_payload}.{signature}")
    recorder = connect(client)
    client.subscribe("private-login-feed")
    assert recorder.wait_for("pusher:subscription_error", "private-login-feed")[0].data["status"] == 401


def test_message_reaches_subscribers_of_the_chat_channel(
    soketi: Soketi, authserver: ServedApp, ada_token: str, clients: list[PusherClient]
) -> None:
    client = remote_client(clients, soketi, authserver, ada_token)
    recorder = connect(client)
    subscribe(client, recorder, "private-chat")
    with requests.post(authserver.url("/message"), data={"message": "Anyone seen the signup spike?",
                                                         "name": "Grace Hopper"},
                       headers={"Authorization": f"Bearer {ada_token}"}, timeout=TIMEOUT) as response:
        assert response.status_code == 200, response.text
        assert response.json() == {"ok": True}
    event = recorder.wait_for("message-added", "private-chat")[0]
    # The name the request claimed is ignored: who speaks comes from the verified token and its profile.
    assert event.data == {"message": "Anyone seen the signup spike?", "name": "Ada Lovelace",
                          "user_id": "auth0|demo-ada"}

    with requests.post(authserver.url("/message"), json={"message": "hi"}, timeout=TIMEOUT) as response:
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer ")


def test_real_tokens_carry_permissions_and_the_client_id(oidc_provider: OidcProvider, soketi: Soketi,
                                                          ada_token: str) -> None:
    claims = json.loads(base64.urlsafe_b64decode(ada_token.split(".")[1] + "=="))
    assert claims["permissions"] == ["read:login-feed"]
    base = config_for(oidc_provider, soketi)
    for allowed, status in (((oidc_provider.client_id,), 200), (("someone-elses-app",), 403)):
        config = dataclasses.replace(base, authserver=AuthServerConfig(allowed_client_ids=allowed))
        served = ServedApp(build_runtime(config, APP_SECRET, MASTER))
        try:
            with requests.post(served.url("/pusher/auth"), headers={"Authorization": f"Bearer {ada_token}"},
                               data={"socket_id": "1.2", "channel_name": "private-login-feed"},
                               timeout=TIMEOUT) as answer:
                assert answer.status_code == status, answer.text
        finally:
            served.close()


def test_healthz_over_http(authserver: ServedApp) -> None:
    with requests.get(authserver.url("/healthz"), timeout=TIMEOUT) as response:
        assert response.status_code == 200
        assert response.json() == {"ok": True}


# ---------------------------------------------------------------------------------------------- the command


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def write_config(tmp_path: Path, idp: OidcProvider, server: Soketi) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f'[auth0]\nissuer = "{idp.issuer}"\naudience = "{idp.audience}"\n\n'
        f'[pusher]\nkey = "{APP_KEY}"\nhost = "127.0.0.1"\nport = {server.port}\ntls = false\napp_id = "{APP_ID}"\n',
        encoding="utf-8")
    return path


def _healthy(url: str) -> bool:
    try:
        with requests.get(url, timeout=1) as response:
            return response.status_code == 200
    except requests.ConnectionError:
        return False


def test_the_command_serves_and_stops_on_sigterm(
    tmp_path: Path, oidc_provider: OidcProvider, soketi: Soketi, ada_token: str
) -> None:
    port = _free_port()
    config = write_config(tmp_path, oidc_provider, soketi)
    env = cli_environment({"LOGIN_FEED_PUSHER_SECRET": APP_SECRET})
    with CliProcess(["--config", config, "authserver", "--port", str(port)], env) as cli:
        base = f"http://127.0.0.1:{port}"
        wait_until(lambda: _healthy(f"{base}/healthz") or cli.process.poll() is not None,
                   message=lambda: cli.describe())
        assert cli.process.poll() is None, cli.describe()
        with requests.get(f"{base}/healthz", timeout=TIMEOUT) as health:
            assert health.json() == {"ok": True}
            assert "server" not in health.headers  # no product banner
        with requests.post(f"{base}/pusher/auth", headers={"Authorization": f"Bearer {ada_token}"},
                           data={"socket_id": "1.2", "channel_name": "private-login-feed"}, timeout=TIMEOUT) as answer:
            assert answer.status_code == 200, answer.text
            signature = answer.json()["auth"]
        wait_until(lambda: any("POST /pusher/auth 200" in line for line in cli.stderr_lines),
                   message=lambda: cli.describe())
        started = time.monotonic()
        cli.send_signal(signal.SIGTERM)
        assert cli.wait() == 0, cli.describe()
        assert time.monotonic() - started < 9  # not uvicorn's 10 s graceful-shutdown limit (a loaded machine is slow)
    output = "\n".join(cli.stderr_lines + cli.stdout_lines)
    assert "sub=auth0|demo-ada" in output
    assert ada_token not in output
    assert signature.split(":")[1] not in output
    assert APP_SECRET not in output


def test_the_command_refuses_to_start_without_the_app_secret(
    tmp_path: Path, oidc_provider: OidcProvider, soketi: Soketi
) -> None:
    config = write_config(tmp_path, oidc_provider, soketi)
    env = cli_environment()
    with CliProcess(["--config", config, "authserver", "--port", str(_free_port())], env) as cli:
        assert cli.wait() == 2, cli.describe()
    assert f"login-feed: {MISSING_SECRET}" in cli.stderr_lines, cli.describe()
