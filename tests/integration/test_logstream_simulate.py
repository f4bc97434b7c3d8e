"""``login-feed simulate --source log-stream`` against a real ``login-feed server``: every record stored once."""

from __future__ import annotations

import re

import pytest
from support.cli_process import CliProcess, cli_environment
from support.logstream_server import STREAM_TOKEN, LogStreamServer, StartServer, access_token
from support.oidc_provider import OidcProvider

pytestmark = pytest.mark.integration

SUMMARY = re.compile(r"simulate: done: (\d+) records .*: (\d+) stored, (\d+) duplicates, 0 rejected, \d+ retries, "
                     r"0 failed")


@pytest.fixture
def server(start_log_stream_server: StartServer) -> LogStreamServer:
    return start_log_stream_server()


@pytest.mark.parametrize("scenario", ["normal", "credential-stuffing"])
def test_simulated_deliveries_are_stored_once_each(server: LogStreamServer, oidc_provider: OidcProvider,
                                                   scenario: str) -> None:
    env = cli_environment({"LOGIN_FEED_LOG_STREAM_TOKEN": STREAM_TOKEN})
    args = ["--config", server.config, "simulate", "--source", "log-stream", "--url",
            f"{server.base}/auth0/log-stream", "--count", "300", "--rate", "0", "--seed", "11",
            "--scenario", scenario]
    with CliProcess(args, env) as run:
        assert run.wait(120) == 0, run.describe()
    found = SUMMARY.search("\n".join(run.stderr_lines))
    assert found, run.describe()
    made, stored, duplicates = map(int, found.groups())
    print(f"simulate {scenario}: {made} records, {stored} stored, {duplicates} duplicates")
    assert made == stored == 300
    token = access_token(oidc_provider)
    events = server.get("/events?limit=1000", token)["events"]
    assert len(events) == 300 and len({e["log_id"] for e in events}) == 300
    kinds = {e["kind"] for e in events}
    assert {"login", "login_failed"} <= kinds


def test_a_wrong_token_stops_the_producer_with_a_clear_message(server: LogStreamServer) -> None:
    env = cli_environment({"LOGIN_FEED_LOG_STREAM_TOKEN": "Bearer wrong"})
    args = ["--config", server.config, "simulate", "--source", "log-stream", "--url",
            f"{server.base}/auth0/log-stream", "--count", "5"]
    with CliProcess(args, env) as run:
        assert run.wait(60) == 1, run.describe()
    assert any("refused the stream token (HTTP 401)" in line for line in run.stderr_lines), run.describe()
    assert "wrong" not in "\n".join(run.stderr_lines)
