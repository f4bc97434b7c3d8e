"""Alerts end to end (issue 15): ``simulate --scenario`` into a real ``login-feed server``, alerts out of a real
``login-feed tail --alerts-only`` (through soketi), exactly the expected ones, and none from normal traffic.

Ten minutes of a tenant's traffic take a second: ``simulate --time-step 0.5`` dates records half a second apart
(the detector goes by the events' time, not the clock), each run an hour after the previous one (``--start``),
so one run's windows never reach into the next. The runs: normal traffic, then each attack in its own normal
background, then one more brute force as the sentinel. The server stores alerts in cursor order, so when the
sentinel's alerts reach tail, every alert the earlier runs could raise has reached it too: what tail printed
by then is all there is, and its distinct alerts must be exactly what each ``simulate`` said its attack should
raise (the producer prints them; nothing for normal traffic).
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from support.auth0_log_samples import as_array, record
from support.cli_process import CliProcess, cli_environment
from support.logstream_server import STREAM_TOKEN, LogStreamServer, StartServer, access_token
from support.oidc_provider import OidcProvider
from support.soketi import APP_ID, APP_KEY, APP_SECRET, Soketi
from support.waiting import wait_until

pytestmark = pytest.mark.integration

CHANNEL = "private-alerts-e2e"
START = datetime(2026, 11, 21, 5, 0, tzinfo=UTC)
RUNS = (("normal", 1200), ("brute-force", 600), ("credential-stuffing", 1200), ("impossible-travel", 600),
        ("signup-burst", 600), ("brute-force", 600))  # the last: the sentinel
EXPECTED = re.compile(r"simulate: (\S+) complete; the alerts it should raise: (.*)$")
PAIR = re.compile(r"(\w+) \(([^)]*)\)")


@pytest.fixture
def server(start_log_stream_server: StartServer) -> LogStreamServer:
    return start_log_stream_server(channel=CHANNEL, alerts=True)


def tail(tmp_path: Path, soketi: Soketi, fmt: str) -> CliProcess:
    config = tmp_path / f"tail-{fmt}.toml"
    config.write_text(f'[pusher]\nkey = "{APP_KEY}"\nhost = "127.0.0.1"\nport = {soketi.port}\ntls = false\n'
                      f'app_id = "{APP_ID}"\n\n[authorization]\nmode = "local"\n\n[feed]\nchannel = "{CHANNEL}"\n',
                      encoding="utf-8")
    return CliProcess(["--config", config, "tail", "--alerts-only", "--format", fmt],
                      cli_environment({"LOGIN_FEED_PUSHER_SECRET": APP_SECRET}))


def simulate(server: LogStreamServer, scenario: str, count: int, hour: int) -> list[tuple[str, str]]:
    """One run; the alerts its attack should raise, as the producer says."""
    args = ["--config", server.config, "simulate", "--source", "log-stream", "--url", f"{server.base}/auth0/log-stream",
            "--count", str(count), "--rate", "0", "--seed", str(hour), "--scenario", scenario, "--time-step", "0.5",
            "--start", (START + timedelta(hours=hour)).isoformat()]
    with CliProcess(args, cli_environment({"LOGIN_FEED_LOG_STREAM_TOKEN": STREAM_TOKEN})) as run:
        assert run.wait(60) == 0, run.describe()
    said = [m for line in run.stderr_lines if (m := EXPECTED.search(line))]
    if scenario == "normal":
        assert not said, run.describe()
        return []
    assert said and said[0].group(1) == scenario, run.describe()
    return PAIR.findall(said[0].group(2))


def alerts(lines: list[str]) -> dict[str, dict]:
    """The latest version of each alert tail printed (jsonl), by log_id."""
    latest: dict[str, dict] = {}
    for line in lines:
        data = json.loads(line)["data"]
        if data["log_id"] not in latest or data["updates"] > latest[data["log_id"]]["updates"]:
            latest[data["log_id"]] = data
    return latest


def time_to_alert(server: LogStreamServer, tail: CliProcess, at: datetime) -> float:
    """Seconds from posting the failure that completes a brute force to its alert line at ``tail``."""
    def failure(n: int) -> dict:
        when = (at + timedelta(seconds=n)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        return record("fp", log_id=f"90020261121{n:045d}", date=when, user_name="victim@example.com", ip="192.0.2.9")

    assert server.post(as_array([failure(n) for n in range(9)])).status_code == 200
    before = len(tail.stdout_lines)
    posted = time.monotonic()
    assert server.post(as_array([failure(9)])).status_code == 200
    wait_until(lambda: any(json.loads(line)["data"]["subject"] == "victim@example.com"
                           for line in tail.stdout_lines[before:]), 30, message=tail.describe)
    return time.monotonic() - posted


def test_each_attack_raises_exactly_its_alerts_and_normal_traffic_none(server: LogStreamServer, soketi: Soketi,
                                                                      oidc_provider: OidcProvider,
                                                                      tmp_path: Path) -> None:
    began = time.monotonic()
    with tail(tmp_path, soketi, "jsonl") as jsonl, tail(tmp_path, soketi, "text") as text:
        jsonl.wait_for_stderr(f"subscribed to {CHANNEL}")
        text.wait_for_stderr(f"subscribed to {CHANNEL}")
        expected: list[tuple[str, str]] = []
        for hour, (scenario, count) in enumerate(RUNS):
            expected += simulate(server, scenario, count, hour)
            posted = time.monotonic()
            wanted = Counter(expected)

            def arrived(wanted: Counter[tuple[str, str]] = wanted) -> bool:
                found = Counter((a["rule"], a["subject"]) for a in alerts(jsonl.stdout_lines).values())
                return all(found[pair] >= n for pair, n in wanted.items())

            wait_until(arrived, 30, message=lambda: f"{jsonl.describe()}\n{server.describe()}")
            print(f"{scenario}: its alerts reached tail {time.monotonic() - posted:.2f} s after the last delivery")
        raised = alerts(jsonl.stdout_lines)
        assert sorted((a["rule"], a["subject"]) for a in raised.values()) == sorted(expected), raised
        delay = time_to_alert(server, jsonl, START + timedelta(hours=len(RUNS)))
        print(f"a brute force's tenth failure to its alert at tail: {delay:.3f} s")
        wait_until(lambda: {line.rsplit("  ", 1)[-1] for line in text.stdout_lines} >= set(raised), 30,
                   message=text.describe)
    served = server.get("/events?limit=1000", access_token(oidc_provider))["events"]  # the newest 1000
    latest = {e["log_id"]: e for e in served if e["kind"] == "alert"}
    assert len(set(latest) & set(raised)) >= 2  # the sentinel's, at least
    assert all(latest[k]["updates"] >= raised[k]["updates"] for k in set(latest) & set(raised))  # never older
    assert len(latest) == len([e for e in served if e["kind"] == "alert"])  # one row per alert, its latest version
    for line in text.stdout_lines:
        assert re.match(r"\d{4}-\d\d-\d\dT[\d:.]+Z  ALERT (HIGH|MEDIUM)  .+: .+  \[.+; (new|update \d+)\]  alert-",
                        line), line
    print(f"{len(raised)} alerts, {len(jsonl.stdout_lines)} alert lines (with updates), "
          f"{sum(count for _, count in RUNS)} records, {time.monotonic() - began:.1f} s in all")
    print("\n".join(text.stdout_lines))
