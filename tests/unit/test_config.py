"""Config loading: defaults, the TOML file, environment overrides, every error message, and the writer."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import desktop.config as config_mod
from desktop.config import (
    Auth0Config,
    AuthorizationConfig,
    AuthServerConfig,
    ChatConfig,
    Config,
    ConfigError,
    FeedConfig,
    PusherConfig,
    default_config_path,
    load_config,
    render_toml,
    save_config,
)
from desktop.config_schema import _toml_string

FULL = """\
[auth0]
domain = "acme.eu.auth0.com"
client_id = "abc123"
audience = "https://login-feed.example.com"
scope = "openid offline_access"

[pusher]
key = "278d425bdf160c739803"
cluster = "eu"
app_id = "1234"

[authorization]
mode = "remote"
endpoint = "https://auth.example.com/pusher/auth"
user_endpoint = "https://auth.example.com/pusher/user-auth"
timeout = 5

[authorization.headers]
X-Team = "support"

[feed]
channel = "private-encrypted-login-feed"

[chat]
channel = "presence-chat"
event = "chat-message"
send = "client-events"
message_endpoint = "https://auth.example.com/message"
presence_channel = "presence-team"

[authserver]
permission = "read:feed"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def error_for(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> str:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path, env or {})
    return str(info.value)


# ---- sources ----------------------------------------------------------------------------------------------


def test_missing_default_file_means_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    default = tmp_path / "nowhere" / "config.toml"
    monkeypatch.setattr(config_mod, "default_config_path", lambda: default)
    config = load_config(None, {})
    assert config == Config(path=default)
    assert config.pusher == PusherConfig(key="", cluster="mt1", host=None, port=None, tls=True, app_id=None)
    assert config.auth0.scope == "openid profile email offline_access"
    assert config.authorization == AuthorizationConfig("local", None, None, {}, 10.0)
    assert config.feed.channel == "private-login-feed"
    assert config.chat == ChatConfig("private-chat", "message-added", "endpoint", None, "presence-support")
    assert config.authserver.permission == "read:login-feed"


def test_default_path_is_in_the_platform_config_dir() -> None:
    path = default_config_path()
    assert path.name == "config.toml"
    assert path.parent.name == "login-feed"


def test_missing_explicit_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "typo.toml"
    with pytest.raises(ConfigError, match=r"typo\.toml: config file not found"):
        load_config(path, {})


def test_full_file(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, FULL), {})
    assert config.path == tmp_path / "config.toml"
    assert config.auth0 == Auth0Config(
        "acme.eu.auth0.com", None, "abc123", "https://login-feed.example.com", "openid offline_access"
    )
    assert config.auth0.issuer_url == "https://acme.eu.auth0.com/"
    assert config.pusher == PusherConfig("278d425bdf160c739803", "eu", None, None, True, "1234")
    assert config.authorization.mode == "remote"
    assert config.authorization.headers == {"X-Team": "support"}
    assert config.authorization.timeout == 5.0
    assert isinstance(config.authorization.timeout, float)
    assert config.feed == FeedConfig("private-encrypted-login-feed")
    assert config.chat.send == "client-events"
    assert config.authserver == AuthServerConfig("read:feed")
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.pusher.key = "x"  # type: ignore[misc]


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b'[feed]\nchannel = "\xff"\n')
    with pytest.raises(ConfigError, match=r"config.toml: not valid UTF-8"):
        load_config(path, {})


def test_utf8_bom_is_tolerated(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b'\xef\xbb\xbf[feed]\nchannel = "private-x"\n')
    assert load_config(path, {}).feed.channel == "private-x"


def test_toml_syntax_error_has_line_and_column(tmp_path: Path) -> None:
    message = error_for(tmp_path, '[pusher]\nkey = "abc\n')
    assert message.startswith(f"{tmp_path / 'config.toml'}: invalid TOML: ")
    assert "line 2" in message
    assert "column" in message


# ---- Pusher URLs ------------------------------------------------------------------------------------------


def test_pusher_urls() -> None:
    cloud = PusherConfig(key="k")
    assert cloud.ws_url_base == "wss://ws-mt1.pusher.com:443"
    assert cloud.http_api_base == "https://api-mt1.pusher.com"
    assert cloud.effective_port == 443
    assert not cloud.is_loopback
    local = PusherConfig(key="k", host="127.0.0.1", port=6001, tls=False)
    assert local.ws_url_base == "ws://127.0.0.1:6001"
    assert local.http_api_base == "http://127.0.0.1:6001"
    assert local.is_loopback
    assert PusherConfig(key="k", host="ws.example.com", tls=False).effective_port == 80
    assert PusherConfig(key="k", host="::1", port=6001).ws_url_base == "wss://[::1]:6001"
    assert PusherConfig(key="k", cluster="eu", port=8443).ws_url_base == "wss://ws-eu.pusher.com:8443"


def test_plain_ws_to_a_remote_host_is_stored(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, '[pusher]\nkey = "k"\nhost = "pusher.example.com"\ntls = false\n'), {})
    assert config.pusher.tls is False
    assert config.pusher.ws_url_base == "ws://pusher.example.com:80"
    assert not config.pusher.is_loopback


# ---- environment overrides --------------------------------------------------------------------------------


def test_env_overrides_convert_types_and_beat_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, '[pusher]\nkey = "from-file"\nport = 7000\n[feed]\nchannel = "private-a"\n')
    env = {
        "LOGIN_FEED_PUSHER_KEY": "from-env",
        "LOGIN_FEED_PUSHER_HOST": "127.0.0.1",
        "LOGIN_FEED_PUSHER_PORT": "6001",
        "LOGIN_FEED_PUSHER_TLS": "false",
        "LOGIN_FEED_FEED_CHANNEL": "private-b",
        "LOGIN_FEED_AUTHORIZATION_TIMEOUT": "2.5",
        "LOGIN_FEED_AUTHORIZATION_HEADERS": '{"X-Team": "night"}',
        "LOGIN_FEED_AUTH0_CLIENT_ID": "cid",
        "LOGIN_FEED_CHAT_PRESENCE_CHANNEL": "presence-x",
        "LOGIN_FEED_UNRELATED": "ignored",
    }
    config = load_config(path, env)
    assert config.pusher == PusherConfig("from-env", "mt1", "127.0.0.1", 6001, False, None)
    assert config.pusher.ws_url_base == "ws://127.0.0.1:6001"
    assert config.feed.channel == "private-b"
    assert config.authorization.timeout == 2.5
    assert config.authorization.headers == {"X-Team": "night"}
    assert config.auth0.client_id == "cid"
    assert config.chat.presence_channel == "presence-x"


@pytest.mark.parametrize(("text", "expected"), [("1", True), ("yes", True), ("ON", True), ("0", False)])
def test_env_booleans(tmp_path: Path, text: str, expected: bool) -> None:
    assert load_config(write(tmp_path, ""), {"LOGIN_FEED_PUSHER_TLS": text}).pusher.tls is expected


def test_empty_env_value_clears_an_optional_key(tmp_path: Path) -> None:
    path = write(tmp_path, '[pusher]\nhost = "127.0.0.1"\n')
    assert load_config(path, {"LOGIN_FEED_PUSHER_HOST": ""}).pusher.host is None


def test_secret_env_vars_are_not_config(tmp_path: Path) -> None:
    env = {"LOGIN_FEED_PUSHER_SECRET": "s3cr3t-value", "LOGIN_FEED_ENCRYPTION_MASTER_KEY": "mk-value"}
    config = load_config(write(tmp_path, ""), env)
    assert config == load_config(write(tmp_path, ""), {})
    assert "s3cr3t-value" not in repr(config) + render_toml(config)


def test_env_error_names_the_variable(tmp_path: Path) -> None:
    message = error_for(tmp_path, "", {"LOGIN_FEED_PUSHER_PORT": "abc"})
    assert message == (
        'environment variable LOGIN_FEED_PUSHER_PORT: [pusher] port must be an integer between 1 and 65535, got "abc"'
    )
    message = error_for(tmp_path, "", {"LOGIN_FEED_PUSHER_TLS": "maybe"})
    assert message == 'environment variable LOGIN_FEED_PUSHER_TLS: [pusher] tls must be true or false, got "maybe"'


# ---- value errors -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[pusher]\nport = "abc"', '[pusher] port must be an integer between 1 and 65535, got "abc"'),
        ("[pusher]\nport = 0", "[pusher] port must be an integer between 1 and 65535, got 0"),
        ("[pusher]\nport = 65536", "[pusher] port must be an integer between 1 and 65535, got 65536"),
        ("[pusher]\nport = true", "[pusher] port must be an integer between 1 and 65535, got true"),
        ('[pusher]\ntls = "no"', '[pusher] tls must be true or false, got "no"'),
        ("[pusher]\nkey = 5", "[pusher] key must be a Pusher app key (letters, digits, '-', '_', '.', '~'), got 5"),
        ('[pusher]\nhost = "https://x.io"', "[pusher] host must be a host name or IP address such as 127.0.0.1"),
        ('[pusher]\ncluster = "EU 1"', '[pusher] cluster must be a Pusher cluster name such as mt1 or eu, got "EU 1"'),
        ("[pusher]\napp_id = 1.5", "[pusher] app_id must be a Pusher app id"),
        ('[auth0]\ndomain = "https://acme.auth0.com"', "[auth0] domain must be a host name such as your-tenant"),
        ('[auth0]\nscope = ""', '[auth0] scope must be space-separated scopes, got ""'),
        ('[authorization]\nmode = "cloud"', '[authorization] mode must be one of "local", "remote", got "cloud"'),
        ('[authorization]\ntimeout = "10"', "[authorization] timeout must be a number of seconds greater than 0"),
        ("[authorization]\ntimeout = 0", "[authorization] timeout must be a number of seconds greater than 0"),
        ('[authorization]\nheaders = "x"', "[authorization] headers must be a table of header names to string"),
        ("[authorization.headers]\nX-N = 1", "[authorization] headers must be a table of header names (HTTP tokens)"),
        ('[feed]\nchannel = "private feed"', "[feed] channel must be a channel name of at most 164 characters"),
        (f'[feed]\nchannel = "{"a" * 165}"', "[feed] channel must be a channel name of at most 164 characters"),
        ("[feed]\nchannel = []", "[feed] channel must be a channel name of at most 164 characters"),
        ('[chat]\npresence_channel = "private-x"', "[chat] presence_channel must be a channel name of at most 164"),
        ('[chat]\nsend = "socket"', '[chat] send must be one of "endpoint", "client-events", got "socket"'),
        ('[chat]\nevent = "new message"', "[chat] event must be an event name without spaces"),
        ("[authserver]\npermission = 1", "[authserver] permission must be a permission name without spaces"),
    ],
)
def test_value_errors_name_file_key_and_expectation(tmp_path: Path, text: str, expected: str) -> None:
    message = error_for(tmp_path, text + "\n")
    assert message.startswith(f"{tmp_path / 'config.toml'}: {expected}")


def test_exact_port_message(tmp_path: Path) -> None:
    message = error_for(tmp_path, '[pusher]\nport = "abc"\n')
    assert message == f'{tmp_path / "config.toml"}: [pusher] port must be an integer between 1 and 65535, got "abc"'


def test_presence_channel_needs_its_prefix(tmp_path: Path) -> None:
    message = error_for(tmp_path, '[chat]\npresence_channel = "private-x"\n')
    assert message.endswith('starting with "presence-", got "private-x"')


def test_long_values_are_cut_in_messages(tmp_path: Path) -> None:
    message = error_for(tmp_path, f'[feed]\nchannel = "{"b" * 500}"\n')
    assert "b" * 100 not in message
    assert message.endswith('..."')


# ---- URLs -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://auth.example.com/pusher/auth",
        "http://127.0.0.1:8080/auth",
        "http://127.8.9.1/auth",
        "http://localhost:3000/auth",
        "http://[::1]:3000/auth",
    ],
)
def test_accepted_endpoints(tmp_path: Path, url: str) -> None:
    text = f'[authorization]\nmode = "remote"\nendpoint = "{url}"\n[auth0]\nissuer = "{url}"\n'
    config = load_config(write(tmp_path, text), {})
    assert config.authorization.endpoint == url
    assert config.auth0.issuer_url == url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://auth.example.com/x", "must use https:// (http:// is allowed only for loopback hosts"),
        ("http://10.0.0.1/x", "must use https:// (http:// is allowed only for loopback hosts"),
        ("ftp://auth.example.com/x", "must be an https:// URL"),
        ("auth.example.com/x", "must be an https:// URL"),
        ("https://", "must be an https:// URL"),
        ("https://x.io:99999/", "must be an https:// URL"),
    ],
)
@pytest.mark.parametrize("key", ["endpoint", "user_endpoint"])
def test_rejected_endpoints(tmp_path: Path, url: str, expected: str, key: str) -> None:
    message = error_for(tmp_path, f'[authorization]\n{key} = "{url}"\n')
    assert message.startswith(f"{tmp_path / 'config.toml'}: [authorization] {key} {expected}")
    assert message.endswith(f'got "{url}"')
    assert "127.0.0.0/8, ::1, localhost" in message


def test_http_issuer_and_message_endpoint_need_loopback(tmp_path: Path) -> None:
    assert "[auth0] issuer must use https://" in error_for(tmp_path, '[auth0]\nissuer = "http://acme.io/"\n')
    message = error_for(tmp_path, '[chat]\nmessage_endpoint = "http://chat.example.com/m"\n')
    assert "[chat] message_endpoint must use https://" in message


def test_credentials_in_an_url_are_refused_without_echo(tmp_path: Path) -> None:
    message = error_for(tmp_path, '[authorization]\nendpoint = "https://bob:hunter22@auth.example.com/a"\n')
    assert "[authorization] endpoint must not contain a user name or password" in message
    assert "hunter22" not in message
    assert "keyring" in message


def test_remote_mode_needs_an_endpoint(tmp_path: Path) -> None:
    message = error_for(tmp_path, '[authorization]\nmode = "remote"\n')
    assert message.startswith(f'{tmp_path / "config.toml"}: [authorization] endpoint is required when mode = "remote"')
    message = error_for(tmp_path, "", {"LOGIN_FEED_AUTHORIZATION_MODE": "remote"})
    assert message.startswith("environment variable LOGIN_FEED_AUTHORIZATION_MODE: [authorization] endpoint")


def test_cluster_or_host_is_required(tmp_path: Path) -> None:
    message = error_for(tmp_path, '[pusher]\ncluster = ""\n')
    assert message == f"{tmp_path / 'config.toml'}: [pusher] cluster or [pusher] host must be set, got neither"


@pytest.mark.parametrize("channel", ["private-encrypted-chat", "chat"])
def test_client_events_need_a_private_or_presence_channel(tmp_path: Path, channel: str) -> None:
    message = error_for(tmp_path, f'[chat]\nsend = "client-events"\nchannel = "{channel}"\n')
    assert message.startswith(f"{tmp_path / 'config.toml'}: [chat] channel must be a private- or presence- channel")
    assert message.endswith(f'got "{channel}"')


# ---- structure --------------------------------------------------------------------------------------------


def test_unknown_key_suggests_the_right_one(tmp_path: Path) -> None:
    message = error_for(tmp_path, '[pusher]\nhots = "127.0.0.1"\n')
    assert message.startswith(f"{tmp_path / 'config.toml'}: unknown key [pusher] hots (did you mean host?)")
    assert "known keys in [pusher]: key, cluster, host, port, tls, app_id" in message
    assert "127.0.0.1" not in message


def test_unknown_section_suggests_the_right_one(tmp_path: Path) -> None:
    message = error_for(tmp_path, '[pushr]\nkey = "k"\n')
    assert message.startswith(f"{tmp_path / 'config.toml'}: unknown section [pushr] (did you mean [pusher]?)")
    assert "known sections: auth0, pusher, authorization, feed, chat, authserver" in message
    assert "unknown key [auth0] nonsense;" in error_for(tmp_path, "[auth0]\nnonsense = 1\n")


def test_top_level_key_and_non_table_section(tmp_path: Path) -> None:
    assert "unknown top-level key channel;" in error_for(tmp_path, 'channel = "x"\n')
    message = error_for(tmp_path, 'feed = "private-x"\n')
    assert message == f'{tmp_path / "config.toml"}: feed must be a [feed] table, got "private-x"'


def test_app_id_is_also_accepted_under_authorization(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, "[authorization]\napp_id = 42\n"), {}).pusher.app_id == "42"
    text = '[pusher]\napp_id = "1"\n[authorization]\napp_id = "2"\n'
    assert "[authorization] app_id and [pusher] app_id disagree" in error_for(tmp_path, text)


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ('[pusher]\nsecret = "VALUE-123"', "[pusher] secret"),
        ('[pusher]\napp_secret = "VALUE-123"', "[pusher] app_secret"),
        ('[encryption]\nmaster_key = "VALUE-123"', "[encryption] master_key"),
        ('[pusher]\nencryption_master_key = "VALUE-123"', "[pusher] encryption_master_key"),
        ('[auth0]\nrefresh_token = "VALUE-123"', "[auth0] refresh_token"),
        ('[auth0]\nclient_secret = "VALUE-123"', "[auth0] client_secret"),
        ('[auth0]\nPassword = "VALUE-123"', "[auth0] Password"),
        ('secret = "VALUE-123"', "secret"),
        ('[authorization.headers]\nX-Api-Secret = "VALUE-123"', "[authorization.headers] X-Api-Secret"),
        ('[pusher]\nsecret = 12345\nport = "VALUE-123"', "[pusher] secret"),
    ],
)
def test_secrets_in_the_file_are_refused_without_echo(tmp_path: Path, text: str, label: str) -> None:
    message = error_for(tmp_path, text + "\n")
    assert message.startswith(f"{tmp_path / 'config.toml'}: {label} looks like a secret")
    assert "OS keyring or the environment" in message
    assert "VALUE-123" not in message
    assert "12345" not in message


def test_secret_hints_name_the_right_variable(tmp_path: Path) -> None:
    assert "(LOGIN_FEED_PUSHER_SECRET)" in error_for(tmp_path, '[pusher]\nsecret = "x"\n')
    assert "(LOGIN_FEED_ENCRYPTION_MASTER_KEY)" in error_for(tmp_path, '[pusher]\nmaster_key = "x"\n')


@pytest.mark.parametrize("name", ["Authorization", "cookie", "Proxy-Authorization"])
def test_credential_headers_are_refused_without_echo(tmp_path: Path, name: str) -> None:
    message = error_for(tmp_path, f'[authorization.headers]\n{name} = "Bearer VALUE-123"\n')
    assert f"[authorization] headers must not set {name}" in message
    assert "VALUE-123" not in message


@pytest.mark.parametrize("name", ["X-Api-Key", "X-API-KEY", "Api-Key", "apikey", "X-Auth", "X-Session-Id",
                                  "X-Signature", "xApiKey"])  # X-Auth-Token and the like: see the test above
def test_credential_header_names_are_refused_without_echo(tmp_path: Path, name: str) -> None:
    message = error_for(tmp_path, f'[authorization.headers]\n"{name}" = "VALUE-123"\n')
    assert message.startswith(f"{tmp_path / 'config.toml'}: [authorization] headers must not set '{name}'")
    assert "keyring" in message
    assert "VALUE-123" not in message


@pytest.mark.parametrize("value", [
    "Bearer abc", "basic dXNlcjpwYXNz", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhZGEifQ.c2lnbmF0dXJl",
    "sk_live_4eC39HqLyjWDarjtT1zdp7dc", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
])
def test_secret_looking_header_values_are_refused_without_echo(tmp_path: Path, value: str) -> None:
    message = error_for(tmp_path, f'[authorization.headers]\nX-Team = "{value}"\n')
    assert "[authorization] headers must not set 'X-Team': its value looks like a credential" in message
    assert value not in message


def test_ordinary_headers_are_kept(tmp_path: Path) -> None:
    headers = {"X-Team": "support", "X-Monkey-Id": "7", "X-Client-Version": "1.2.3", "Accept-Language": "en"}
    text = "[authorization.headers]\n" + "".join(f'{k} = "{v}"\n' for k, v in headers.items())
    assert load_config(write(tmp_path, text), {}).authorization.headers == headers


@pytest.mark.parametrize("query", [
    "?api_key=VALUE-123", "?apiKey=VALUE-123", "?token=VALUE-123", "?access_token=VALUE-123", "?secret=VALUE-123",
    "?team=a&sig=VALUE-123", "?password=VALUE-123", "#access_token=VALUE-123",
    "?x=sk_live_VALUE1234567890abcdefghijklmnop",
])
@pytest.mark.parametrize(("section", "key"), [("authorization", "endpoint"), ("authorization", "user_endpoint"),
                                              ("chat", "message_endpoint"), ("auth0", "issuer")])
def test_credentials_in_a_query_string_are_refused_without_echo(tmp_path: Path, query: str, section: str,
                                                                key: str) -> None:
    message = error_for(tmp_path, f'[{section}]\n{key} = "https://auth.example.com/pusher/auth{query}"\n')
    assert message.startswith(f"{tmp_path / 'config.toml'}: [{section}] {key} must not carry a credential")
    assert "keyring" in message
    assert "VALUE" not in message


def test_credentials_in_a_query_string_from_the_environment_name_the_variable(tmp_path: Path) -> None:
    env = {"LOGIN_FEED_AUTHORIZATION_ENDPOINT": "https://auth.example.com/a?api_key=VALUE-123"}
    message = error_for(tmp_path, "", env)
    assert message.startswith("environment variable LOGIN_FEED_AUTHORIZATION_ENDPOINT: [authorization] endpoint "
                              "must not carry a credential")
    assert "VALUE-123" not in message


def test_harmless_query_strings_are_kept(tmp_path: Path) -> None:
    url = "https://auth.example.com/pusher/auth?team=support&region=eu"
    assert load_config(write(tmp_path, f'[authorization]\nendpoint = "{url}"\n'), {}).authorization.endpoint == url


# ---- [authserver] -----------------------------------------------------------------------------------------


def test_authserver_limits_and_client_ids(tmp_path: Path) -> None:
    assert AuthServerConfig() == AuthServerConfig("read:login-feed", (), 60.0, 20, 200)
    text = ('[authserver]\nallowed_client_ids = ["desktop", "cli", "desktop"]\nrate_limit = 30\nrate_burst = 5\n'
            "max_connections = 50\n")
    config = load_config(write(tmp_path, text), {})
    assert config.authserver == AuthServerConfig("read:login-feed", ("desktop", "cli"), 30.0, 5, 50)
    env = {"LOGIN_FEED_AUTHSERVER_ALLOWED_CLIENT_IDS": "a, b c", "LOGIN_FEED_AUTHSERVER_RATE_BURST": "9"}
    config = load_config(write(tmp_path, ""), env)
    assert config.authserver.allowed_client_ids == ("a", "b", "c")
    assert config.authserver.rate_burst == 9


@pytest.mark.parametrize(("text", "expected"), [
    ('allowed_client_ids = "x"', "[authserver] allowed_client_ids must be a list of at most 100 Auth0 client ids"),
    ('allowed_client_ids = ["a b"]', "[authserver] allowed_client_ids must be a list"),
    ("allowed_client_ids = [1]", "[authserver] allowed_client_ids must be a list"),
    ("rate_limit = 0", "[authserver] rate_limit must be a number of requests per minute greater than 0"),
    ('rate_limit = "fast"', "[authserver] rate_limit must be a number of requests per minute"),
    ("rate_burst = 0", "[authserver] rate_burst must be the requests a user may make at once: an integer between 1"),
    ("rate_burst = 2.5", "[authserver] rate_burst must be the requests a user may make at once"),
    ("max_connections = 0", "[authserver] max_connections must be the most open connections: an integer between"),
])
def test_authserver_errors(tmp_path: Path, text: str, expected: str) -> None:
    assert f"{tmp_path / 'config.toml'}: {expected}" in error_for(tmp_path, f"[authserver]\n{text}\n")


# ---- require_pusher ---------------------------------------------------------------------------------------


def test_require_pusher(tmp_path: Path) -> None:
    path = write(tmp_path, "")
    with pytest.raises(ConfigError) as info:
        load_config(path, {}).require_pusher()
    assert str(info.value) == (f"no Pusher key configured: set [pusher] key in {path} or LOGIN_FEED_PUSHER_KEY")
    with pytest.raises(ConfigError, match="key in the config file or"):
        Config().require_pusher()
    assert load_config(path, {"LOGIN_FEED_PUSHER_KEY": "k"}).require_pusher().key == "k"


# ---- writing ----------------------------------------------------------------------------------------------


def test_round_trip_of_every_field(tmp_path: Path) -> None:
    config = Config(
        auth0=Auth0Config(None, "http://localhost:9999/", "cid", "urn:api", "openid email"),
        pusher=PusherConfig("app-key", None, "::1", 6001, False, "77"),
        authorization=AuthorizationConfig(
            "remote",
            "https://a.example/auth",
            "https://a.example/user",
            {"X-Note": 'say "hi" \\ \ttab é ✓', "x.y": "z"},
            0.25,
        ),
        feed=FeedConfig("private-encrypted-feed;=@,."),
        chat=ChatConfig("presence-room", "client-msg", "client-events", "https://a.example/m", "presence-p"),
        authserver=AuthServerConfig("read:stuff", ("desktop-app", "cli"), 12.5, 4, 30),
    )
    path = tmp_path / "sub" / "dir" / "config.toml"
    assert save_config(config, path) == path
    assert load_config(path, {}) == dataclasses.replace(config, path=path)
    assert "\n[authorization.headers]\n" in path.read_text(encoding="utf-8")


def test_round_trip_of_defaults_and_save_to_own_path(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    saved = save_config(Config(path=path))
    assert saved == path
    assert load_config(path, {}) == Config(path=path)
    assert not [p for p in tmp_path.iterdir() if p.name != "config.toml"], "temporary file left behind"


def test_save_refuses_an_invalid_config(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    bad = Config(authorization=AuthorizationConfig(mode="remote"))
    with pytest.raises(ConfigError, match=r"config.toml: \[authorization\] endpoint is required"):
        save_config(bad, path)
    assert not path.exists()


def test_save_reports_unwritable_location(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    with pytest.raises(ConfigError, match="cannot write the config file"):
        save_config(Config(), blocker / "config.toml")


@given(st.text())
def test_toml_strings_round_trip(text: str) -> None:
    assert tomllib.loads(f"k = {_toml_string(text)}")["k"] == text
