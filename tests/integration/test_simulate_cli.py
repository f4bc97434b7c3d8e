"""``login-feed simulate`` end to end: the real command publishes through a real soketi to a subscribed engine."""

from __future__ import annotations

import base64
import re
import signal
import time
from pathlib import Path

import pytest
from support.cli_process import CliProcess, cli_environment
from support.engine import local_authorizer
from support.engine_flow import connect, subscribe
from support.recording import EventRecorder
from support.soketi import APP_ID, APP_KEY, APP_SECRET, Soketi
from support.waiting import wait_until

from desktop.feed.events import FEED_EVENT_NAMES, normalise

pytestmark = pytest.mark.integration

FEED = "private-login-feed"
MASTER_KEY = bytes(range(7, 39))
SUMMARY = re.compile(r"simulate: (done|stopped by SIG\w+): (\d+) events sent to \S+ in ([\d.]+) s")


def write_config(tmp_path: Path, server: Soketi) -> Path:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[pusher]\nkey = "{APP_KEY}"\nhost = "127.0.0.1"\nport = {server.port}\ntls = false\napp_id = "{APP_ID}"\n\n'
        f'[feed]\nchannel = "{FEED}"\n',
        encoding="utf-8",
    )
    return config


def simulate(config: Path, *args: str, secret: str = APP_SECRET, **extra_env: str) -> CliProcess:
    env = cli_environment({"LOGIN_FEED_PUSHER_SECRET": secret, **extra_env})
    return CliProcess(["--config", config, "simulate", *args], env)


def feed_events(recorder: EventRecorder, channel: str) -> list:
    return [e for e in recorder.events if e.channel == channel and e.event in FEED_EVENT_NAMES]


def wait_for_feed_events(recorder: EventRecorder, channel: str, count: int, timeout: float = 15) -> list:
    wait_until(lambda: len(feed_events(recorder, channel)) >= count, timeout,
               message=lambda: f"{count} feed events on {channel}; got {len(feed_events(recorder, channel))}")
    return feed_events(recorder, channel)


def summary(process: CliProcess) -> tuple[str, int, float]:
    found = SUMMARY.match(process.stderr_lines[-1]) if process.stderr_lines else None
    assert found, process.describe()
    return found.group(1), int(found.group(2)), float(found.group(3))


def assert_all_normalise(events: list) -> None:
    for event in events:
        parsed = normalise(event.event, event.channel, event.data, event.received_at)
        assert parsed.type == ("signup" if event.event == "user-signedUp" else "login"), parsed.reason
        assert parsed.user_id and parsed.email and parsed.name and parsed.at


def test_500_events_as_fast_as_possible_all_arrive_and_read_as_signups_and_logins(
        soketi: Soketi, make_client, tmp_path: Path) -> None:
    client = make_client(soketi, authorizer=local_authorizer())
    recorder = connect(client)
    subscribe(client, recorder, FEED)

    with simulate(write_config(tmp_path, soketi), "--count", "500", "--rate", "0") as run:
        assert run.wait(30) == 0, run.describe()
    events = wait_for_feed_events(recorder, FEED, 500)
    time.sleep(0.2)  # nothing more than what was sent
    events = feed_events(recorder, FEED)
    assert len(events) == 500
    assert_all_normalise(events)
    signups = sum(1 for e in events if e.event == "user-signedUp")
    assert 20 <= signups <= 90  # about one in ten
    assert summary(run)[:2] == ("done", 500)
    assert not any(APP_SECRET in line for line in run.stderr_lines + run.stdout_lines)


def test_the_rate_is_kept(soketi: Soketi, make_client, tmp_path: Path) -> None:
    channel = "private-simulate-rate"
    client = make_client(soketi, authorizer=local_authorizer())
    recorder = connect(client)
    subscribe(client, recorder, channel)

    started = time.monotonic()
    with simulate(write_config(tmp_path, soketi), "--rate", "200", "--count", "400", "--channel", channel) as run:
        assert run.wait(30) == 0, run.describe()
    wall = time.monotonic() - started
    outcome, sent, elapsed = summary(run)
    assert (outcome, sent) == ("done", 400)
    print(f"400 events at 200/s: {elapsed:.2f} s of sending, {wall:.2f} s with the interpreter's start")
    # ~1.95 s: 390 events after the first batch at 200/s. Never less (the rate is kept); a loaded machine may
    # take longer, which says nothing about the rate.
    assert elapsed >= 1.5, run.describe()
    assert wall >= 1.5
    assert any(line.startswith("simulate: ") and " sent, 0 failed, " in line for line in run.stderr_lines)
    assert len(wait_for_feed_events(recorder, channel, 400)) == 400


def test_a_wrong_secret_stops_with_a_clear_line(soketi: Soketi, tmp_path: Path) -> None:
    with simulate(write_config(tmp_path, soketi), "--count", "100", "--rate", "0",
                  secret="not-the-app-secret") as run:
        code = run.wait(30)
    assert code == 1, run.describe()
    assert any("the Pusher HTTP API refused the app secret (401)" in line for line in run.stderr_lines), \
        run.describe()
    assert not any("not-the-app-secret" in line for line in run.stderr_lines)


def test_a_missing_secret_exits_2(soketi: Soketi, tmp_path: Path) -> None:
    env = cli_environment(drop=["LOGIN_FEED_PUSHER_SECRET"])
    with CliProcess(["--config", write_config(tmp_path, soketi), "simulate", "--count", "1"], env) as run:
        assert run.wait(30) == 2
    assert run.stderr_lines == ["login-feed: simulate needs the Pusher app secret: set LOGIN_FEED_PUSHER_SECRET or "
                                "store it in the keyring"]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_stops_cleanly_after_the_requests_in_flight(soketi: Soketi, make_client, tmp_path: Path,
                                                             signum: signal.Signals) -> None:
    channel = f"private-simulate-{signum.name.lower()}"
    client = make_client(soketi, authorizer=local_authorizer())
    recorder = connect(client)
    subscribe(client, recorder, channel)

    with simulate(write_config(tmp_path, soketi), "--rate", "300", "--channel", channel) as run:
        run.wait_for_stderr(" sent, ")  # the first progress line: about a second in
        run.send_signal(signum)
        assert run.wait(30) == 0, run.describe()
    outcome, sent, _ = summary(run)
    assert outcome == f"stopped by {signum.name}"
    assert sent >= 200
    # Everything counted as sent was delivered, and nothing beyond it.
    assert len(wait_for_feed_events(recorder, channel, sent)) == sent
    time.sleep(0.2)
    assert len(feed_events(recorder, channel)) == sent


def test_an_encrypted_channel_is_published_encrypted_and_decrypted_by_the_engine(
        soketi: Soketi, make_client, tmp_path: Path) -> None:
    channel = "private-encrypted-login-feed"
    client = make_client(soketi, authorizer=local_authorizer(master_key=MASTER_KEY))
    recorder = connect(client)
    subscribe(client, recorder, channel)
    eavesdropper = make_client(soketi, authorizer=local_authorizer(master_key=bytes(32)))
    wrong_key = connect(eavesdropper)
    subscribe(eavesdropper, wrong_key, channel)

    master = base64.b64encode(MASTER_KEY).decode()
    with simulate(write_config(tmp_path, soketi), "--count", "60", "--rate", "0", "--channel", channel,
                  LOGIN_FEED_ENCRYPTION_MASTER_KEY=master) as run:
        assert run.wait(30) == 0, run.describe()
    events = wait_for_feed_events(recorder, channel, 60)
    assert len(events) == 60
    assert all(isinstance(e.data, dict) and e.data["v"] == 1 for e in events)
    assert_all_normalise(events)
    assert not any(master in line for line in run.stderr_lines)
    # A subscriber holding another key receives the events but cannot open them: they are really encrypted.
    time.sleep(0.3)
    assert feed_events(wrong_key, channel) == []
