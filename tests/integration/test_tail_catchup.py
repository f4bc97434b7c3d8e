"""``login-feed tail`` catches up after a reconnect (issue 12): a real tail process, signed in from a (plain-text
test) keyring, against a real ``login-feed server``, soketi and OpenID provider. While tail's network to soketi
is unplugged (a loopback cable) the server keeps receiving and publishing; after the reconnect tail prints every
missed event, and every event exactly once. ``--no-catch-up`` prints only what arrives live."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest
from keyrings.alt.file import PlaintextKeyring
from support.auth0_log_samples import as_array, record
from support.cable import Cable
from support.cli_process import CliProcess, cli_environment
from support.logstream_server import LogStreamServer, StartServer
from support.oidc_provider import OidcProvider
from support.signin_helpers import sign_in_once
from support.soketi import APP_KEY
from support.waiting import wait_until

pytestmark = pytest.mark.integration
CHANNEL = "private-login-feed"


@pytest.fixture
def server(start_log_stream_server: StartServer) -> LogStreamServer:
    return start_log_stream_server(channel=CHANNEL)



def signed_in_env(home: Path, idp: OidcProvider) -> dict[str, str]:
    """The environment of a user who ran ``login-feed login`` before: the refresh token in a keyring file."""
    for name in ("home", "data", "config"):
        (home / name).mkdir(parents=True)
    backend = PlaintextKeyring()
    backend.file_path = str(home / "data" / "python_keyring" / "keyring_pass.cfg")
    sign_in_once(idp, backend)
    return cli_environment({"PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring",
                            "XDG_DATA_HOME": str(home / "data"), "XDG_CONFIG_HOME": str(home / "config"),
                            "HOME": str(home / "home")})


def write_config(path: Path, idp: OidcProvider, server: LogStreamServer, cable: Cable) -> Path:
    path.write_text(
        f'[auth0]\nissuer = "{idp.issuer}"\nclient_id = "{idp.client_id}"\naudience = "{idp.audience}"\n\n'
        f'[pusher]\nkey = "{APP_KEY}"\nhost = "127.0.0.1"\nport = {cable.port}\ntls = false\n\n'
        f'[authorization]\nmode = "remote"\nendpoint = "{server.base}/pusher/auth"\n\n'
        f'[feed]\nchannel = "{CHANNEL}"\n', encoding="utf-8")
    return path


def post(server: LogStreamServer, numbers: range) -> None:
    records = [record("fp", log_id=f"log-{n:03d}", date=f"2026-11-21T05:00:{n:02d}.000Z") for n in numbers]
    answer = server.post(as_array(records + records[:1]))  # one sent twice, as Auth0 may
    assert answer.status_code == 200, answer.text


def log_ids(tail: CliProcess) -> list[str]:
    return [json.loads(line)["log_id"] for line in tail.stdout_lines]


@pytest.mark.parametrize("catch_up", [True, False], ids=["catch-up", "no-catch-up"])
def test_tail_prints_what_it_missed_while_unplugged_once(tmp_path: Path, oidc_provider: OidcProvider,
                                                        server: LogStreamServer, cable: Cable,
                                                        catch_up: bool) -> None:
    env = signed_in_env(tmp_path / "user", oidc_provider)
    config = write_config(tmp_path / "config.toml", oidc_provider, server, cable)
    post(server, range(1, 3))  # before tail starts: not printed (a tail starts from now)
    args = ["--config", config, "tail", "--format", "jsonl", *([] if catch_up else ["--no-catch-up"])]
    with CliProcess(args, env) as tail:
        tail.wait_for_stderr(f"subscribed to {CHANNEL}")
        post(server, range(3, 5))
        assert [json.loads(line)["log_id"] for line in tail.wait_for_stdout_lines(2)] == ["log-003", "log-004"]

        cable.unplug()
        tail.wait_for_stderr("connection lost")
        post(server, range(5, 9))  # missed: tail's network is cut
        cable.plug()
        tail.wait_for_stderr("reconnected", timeout=30)
        # Reconnected is not subscribed yet: events published in between are missed for good without catch-up.
        wait_until(lambda: sum(f"subscribed to {CHANNEL}" in line for line in tail.stderr_lines) >= 2, 30,
                   message=tail.describe)
        if catch_up:
            tail.wait_for_stderr("caught up 4 events missed while offline", timeout=30)
        post(server, range(9, 11))
        wanted = 8 if catch_up else 4
        tail.wait_for_stdout_lines(wanted, timeout=30)
        tail.send_signal(signal.SIGTERM)
        assert tail.wait(30) == 0, tail.describe()

    missed = [f"log-{n:03d}" for n in range(5, 9)] if catch_up else []
    assert sorted(log_ids(tail)) == sorted(["log-003", "log-004", *missed, "log-009", "log-010"])
    assert len(set(log_ids(tail))) == len(log_ids(tail))
    assert not any("Traceback" in line for line in tail.stderr_lines), tail.describe()
