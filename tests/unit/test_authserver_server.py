"""Start-up of ``login-feed authserver``: secrets and configuration are checked before anything listens."""

from __future__ import annotations

import base64
import socket

import pytest

from desktop.authserver.server import MISSING_SECRET, AuthServerSetupError, build_runtime, load_secrets
from desktop.config_schema import Auth0Config, Config, ConfigError, PusherConfig
from desktop.secrets import SecretStore

CONFIG = Config(pusher=PusherConfig(key="app-key", host="127.0.0.1", port=6001, tls=False, app_id="1"),
                auth0=Auth0Config(issuer="http://127.0.0.1:9/", audience="https://api.example.com/"))


def test_missing_app_secret_is_a_clear_setup_error() -> None:
    with pytest.raises(AuthServerSetupError) as info:
        load_secrets(CONFIG, env={})
    assert str(info.value) == MISSING_SECRET
    assert str(info.value) == ("the authorization server needs the Pusher app secret: set LOGIN_FEED_PUSHER_SECRET "
                               "or store it in the keyring")
    assert info.value.exit_code == 2


def test_secrets_come_from_the_environment() -> None:
    master = base64.b64encode(bytes(range(32))).decode()
    env = {"LOGIN_FEED_PUSHER_SECRET": "s3cret", "LOGIN_FEED_ENCRYPTION_MASTER_KEY": master}
    assert load_secrets(CONFIG, env=env) == ("s3cret", bytes(range(32)))
    assert load_secrets(CONFIG, store=SecretStore({"LOGIN_FEED_PUSHER_SECRET": "s3cret"})) == ("s3cret", None)


def test_a_malformed_master_key_is_refused_without_echo() -> None:
    env = {"LOGIN_FEED_PUSHER_SECRET": "s3cret", "LOGIN_FEED_ENCRYPTION_MASTER_KEY": "c2hvcnQ="}
    with pytest.raises(AuthServerSetupError) as info:
        load_secrets(CONFIG, env=env)
    assert "32 bytes" in str(info.value)
    assert "c2hvcnQ=" not in str(info.value)


def test_no_pusher_key_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="no Pusher key"):
        load_secrets(Config(), env={"LOGIN_FEED_PUSHER_SECRET": "s3cret"})


def test_issuer_and_audience_are_required() -> None:
    no_issuer = Config(pusher=CONFIG.pusher, auth0=Auth0Config(audience="https://api.example.com/"))
    with pytest.raises(AuthServerSetupError, match=r"needs \[auth0\] domain"):
        build_runtime(no_issuer, "s3cret", None)
    no_audience = Config(pusher=CONFIG.pusher, auth0=Auth0Config(domain="tenant.example.com"))
    with pytest.raises(AuthServerSetupError, match=r"needs \[auth0\] audience"):
        build_runtime(no_audience, "s3cret", None)


def test_unreachable_issuer_is_exit_1() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = Config(pusher=CONFIG.pusher,
                    auth0=Auth0Config(issuer=f"http://127.0.0.1:{port}/", audience="https://api.example.com/"))
    with pytest.raises(AuthServerSetupError) as info:
        build_runtime(config, "s3cret", None)
    assert info.value.exit_code == 1
    assert "discovery document" in str(info.value)
