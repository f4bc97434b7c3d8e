"""``login-feed tail`` end to end: the real command, a real soketi, events in, lines out, signals, failures."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest
from support.cli_process import CliProcess, cli_environment
from support.payloads import action_payload
from support.soketi import APP_SECRET, Soketi

pytestmark = pytest.mark.integration

CHANNEL = "private-login-feed"
SECRET_ENV = "LOGIN_FEED_PUSHER_SECRET"

SIGNUP = action_payload(name="<img src=x>")  # the Action's payload, with markup in the name
LEGACY_LOGIN = {  # what the original Auth0 rule published: the whole user object
    "created_at": "2026-11-20T09:12:44.512Z",
    "email": "grace@example.com",
    "email_verified": True,
    "family_name": "Hopper",
    "given_name": "Grace",
    "identities": [{"connection": "google-oauth2", "isSocial": True, "provider": "google-oauth2",
                    "user_id": "1234567890"}],
    "name": "Grace Hopper",
    "nickname": "grace",
    "picture": "https://lh3.googleusercontent.com/a/grace.png",
    "updated_at": "2026-11-21T05:03:00.000Z",
    "user_id": "google-oauth2|1234567890",
    "last_ip": "198.51.100.23",
    "last_login": "2026-11-21T05:03:00.000Z",
    "logins_count": 17,
    "country": "US",
}
GARBAGE = "garbage: this is not a feed payload {"


def write_config(tmp_path: Path, server: Soketi, *, key: str = "app-key", extra: str = "") -> Path:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[pusher]\nkey = "{key}"\nhost = "127.0.0.1"\nport = {server.port}\ntls = false\napp_id = "1"\n{extra}\n'
        '[authorization]\nmode = "local"\n\n'
        f'[feed]\nchannel = "{CHANNEL}"\n',
        encoding="utf-8",
    )
    return config


def start_tail(config: Path, fmt: str = "jsonl", **env_options: object) -> CliProcess:
    env = cli_environment({SECRET_ENV: APP_SECRET}) if not env_options else cli_environment(**env_options)
    return CliProcess(["--config", config, "tail", "--format", fmt], env)


def test_tail_prints_one_json_line_per_event_and_stops_on_sigterm(soketi: Soketi, tmp_path: Path) -> None:
    with start_tail(write_config(tmp_path, soketi)) as tail:
        tail.wait_for_stderr(f"subscribed to {CHANNEL}")

        soketi.trigger(CHANNEL, "user-signedUp", SIGNUP)
        soketi.trigger(CHANNEL, "user-loggedIn", LEGACY_LOGIN)
        soketi.trigger(CHANNEL, "user-loggedIn", GARBAGE)
        lines = tail.wait_for_stdout_lines(3)
        tail.send_signal(signal.SIGTERM)
        assert tail.wait(30) == 0, tail.describe()

    signup, login, garbage = (json.loads(line) for line in lines)
    assert signup["type"] == "signup"
    assert signup["event"] == "user-signedUp"
    assert signup["channel"] == CHANNEL
    assert signup["user_id"] == SIGNUP["user_id"]
    assert signup["email"] == "ada@example.com"
    assert signup["name"] == "<img src=x>"  # kept literally: escaping is the display's job
    assert signup["country"] == "GB"
    assert signup["logins_count"] == 1
    assert signup["at"] == "2026-11-21T05:01:02.123Z"
    assert signup["received_at"].endswith("Z")
    assert signup["data"] == SIGNUP

    assert login["type"] == "login"
    assert login["event"] == "user-loggedIn"
    assert login["user_id"] == "google-oauth2|1234567890"
    assert login["email"] == "grace@example.com"
    assert login["name"] == "Grace Hopper"
    assert login["connection"] == "google-oauth2"
    assert login["ip"] == "198.51.100.23"
    assert login["logins_count"] == 17
    assert login["at"] == "2026-11-21T05:03:00.000Z"
    assert login["data"] == LEGACY_LOGIN

    assert garbage["type"] == "unrecognised"
    assert garbage["data"] == GARBAGE
    assert garbage["reason"]
    assert len(tail.stdout_lines) == 3
    assert not any("Traceback" in line for line in tail.stderr_lines), tail.describe()


def test_tail_text_format_and_sigint(soketi: Soketi, tmp_path: Path) -> None:
    with start_tail(write_config(tmp_path, soketi), fmt="text") as tail:
        tail.wait_for_stderr(f"subscribed to {CHANNEL}")

        soketi.trigger(CHANNEL, "user-signedUp", SIGNUP)
        soketi.trigger(CHANNEL, "user-loggedIn", LEGACY_LOGIN)
        soketi.trigger(CHANNEL, "user-loggedIn", GARBAGE)
        lines = tail.wait_for_stdout_lines(3)
        tail.send_signal(signal.SIGINT)
        assert tail.wait(30) == 0, tail.describe()

    assert len(tail.stdout_lines) == 3
    signup, login, garbage = lines
    assert "SIGN UP" in signup
    assert "<img src=x> <ada@example.com>" in signup
    assert "LOG IN" in login
    assert "Grace Hopper <grace@example.com>" in login
    assert "UNRECOGNISED" in garbage
    assert not any("Traceback" in line for line in tail.stderr_lines), tail.describe()


def test_tail_with_an_unknown_app_key_exits_with_one_clear_line(soketi: Soketi, tmp_path: Path) -> None:
    with start_tail(write_config(tmp_path, soketi, key="no-such-app-key")) as tail:
        code = tail.wait(30)  # it must end by itself: 4001 is fatal, retrying cannot help

    assert code != 0
    assert tail.stdout_lines == []
    stderr = [line for line in tail.stderr_lines if line.strip()]
    assert len(stderr) == 1, tail.describe()
    assert "4001" in stderr[0]


def test_tail_without_the_app_secret_names_the_variable(soketi: Soketi, tmp_path: Path) -> None:
    with start_tail(write_config(tmp_path, soketi), drop=[SECRET_ENV]) as tail:
        code = tail.wait(30)

    assert code != 0
    assert any(SECRET_ENV in line for line in tail.stderr_lines), tail.describe()
    assert not any("Traceback" in line for line in tail.stderr_lines), tail.describe()


def test_tail_with_a_bad_config_key_exits_2_naming_file_and_key(soketi: Soketi, tmp_path: Path) -> None:
    config = write_config(tmp_path, soketi, extra='colour = "blue"')
    with start_tail(config) as tail:
        code = tail.wait(30)

    assert code == 2, tail.describe()
    message = "\n".join(tail.stderr_lines)
    assert str(config) in message
    assert "colour" in message
    assert "[pusher]" in message
    assert tail.stdout_lines == []
