"""The engine's fault suite (issue 9): server crashes and graceful restarts during a stream, a frozen server,
and fuzzed traffic. Real soketi, real processes, pusher-js in the same run for comparison, loopback only.

Behaviour is asserted (every restart recovered, nothing duplicated or reordered, the right reason given);
timings are printed as a table (the README's fault-suite figures come from it), never asserted.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import random
import signal
import time
from pathlib import Path

import pytest
from support.cli_process import CliProcess, cli_environment
from support.core_harness import Harness, established, msg
from support.engine_flow import connect, subscribe
from support.fault_stream import (
    TABLE_HEADER,
    Arrivals,
    Publisher,
    PusherJsSubscriber,
    Restart,
    figures_row,
    restart_figures,
    wait_for_event_after,
)
from support.frame_fuzz import fuzzed_stream, split
from support.recording import StateRecorder
from support.soketi import APP_KEY, APP_SECRET, Soketi
from support.waiting import wait_until

from desktop.pusher import core as c
from desktop.pusher.core import Options, State
from desktop.pusher.protocol import ProtocolError, decode_frame
from desktop.pusher.wsframes import OP_TEXT, FrameError, FrameReader

pytestmark = pytest.mark.integration

#: Restarts per kind of fault, and how many of them pusher-js is measured on. The issue asks for 20 each.
#: Every restart costs a soketi start (0.5-1.5 s on a loaded 2-core machine) plus the time the clients need
#: to come back, and pusher-js needs about 14 s after each graceful restart (it goes connecting, then
#: unavailable, and only reconnects when its 15 s connection-strategy timeout runs out), so 20 of each
#: with pusher-js would take six minutes. By default our engine
#: goes through 10 of each and pusher-js through the first 3 (the module then runs in about a minute and a
#: half); LOGIN_FEED_FAULT_RESTARTS=20 runs 20 of each for both, which is how the README's figures were made.
_FULL = os.environ.get("LOGIN_FEED_FAULT_RESTARTS")
RESTARTS = int(_FULL or 10)
PUSHERJS_RESTARTS = min(RESTARTS, int(_FULL or 3))
#: Our engine must be back within this: a deadline for "it recovers", far above what it needs.
RECOVERY_DEADLINE = 20.0
#: How long pusher-js is given; if it is not back by then, that is a figure ("recovered" column), not a failure.
PUSHERJS_PATIENCE = 30.0
FUZZED_FRAMES = 100_000


@pytest.mark.timeout(120 + RESTARTS * 10 + PUSHERJS_RESTARTS * 2 * PUSHERJS_PATIENCE)  # a hang guard only
@pytest.mark.parametrize("fault", ["SIGKILL", "SIGTERM"])
def test_the_stream_comes_back_after_every_server_restart(fresh_soketi: Soketi, make_client, fault: str,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    channel = f"private-faults-{fault.lower()}"
    client = make_client(fresh_soketi)  # default options: the figures are what users get
    states = StateRecorder()
    client.on_state_change(states)
    ours = Arrivals()
    client.on_batch(ours.on_batch)
    subscribe(client, connect(client), channel)
    pusherjs = PusherJsSubscriber(fresh_soketi, channel)
    restarts: list[Restart] = []
    try:
        wait_until(lambda: pusherjs.subscribed, 20, message=lambda: f"pusher-js: {pusherjs.stderr[-5:]}")
        with Publisher(fresh_soketi, channel) as publisher:
            for number in range(RESTARTS):
                compared = number < PUSHERJS_RESTARTS
                if number == PUSHERJS_RESTARTS:
                    pusherjs.close()  # measured enough: from here on only our engine goes through restarts
                mark = time.monotonic()
                assert wait_for_event_after(ours, mark, RECOVERY_DEADLINE), f"no events before restart {number}"
                if compared:
                    wait_for_event_after(pusherjs.arrivals, mark, PUSHERJS_PATIENCE)
                down = time.monotonic()
                if fault == "SIGKILL":
                    fresh_soketi.kill()
                else:
                    fresh_soketi.stop()  # soketi says 4200 to every socket, then exits
                fresh_soketi.start()
                ready = time.monotonic()
                restarts.append(Restart(down, ready))
                assert wait_for_event_after(ours, ready, RECOVERY_DEADLINE), (
                    f"our engine did not recover from {fault} #{number}: {states.changes[-3:]}")
                back = time.monotonic() - ready
                if compared:
                    wait_for_event_after(pusherjs.arrivals, ready, PUSHERJS_PATIENCE)
                # Shown when the test fails (pytest keeps captured output of failures): where it stood.
                theirs = f", pusher-js within {time.monotonic() - ready:.2f} s" if compared else ""
                print(f"{fault} #{number}: server back {ready - down:.2f} s after the fault, "
                      f"our engine {back:.2f} s later{theirs}")
            accepted = publisher.accepted_numbers()
    finally:
        pusherjs.close()

    numbers, _ = ours.snapshot()
    assert all(a < b for a, b in itertools.pairwise(numbers)), "duplicated or out of order"
    mine = [restart_figures(ours, accepted, r) for r in restarts]
    theirs = [restart_figures(pusherjs.arrivals, accepted, r) for r in restarts[:PUSHERJS_RESTARTS]]
    assert all(f.recovery is not None for f in mine)
    assert State.FAILED not in states.states
    assert client.state is State.CONNECTED
    with capsys.disabled():
        print(f"\n{TABLE_HEADER}\n{figures_row(f'login-feed engine, {fault}', mine)}\n"
              f"{figures_row(f'pusher-js 8.6, {fault}', theirs)}")


def _signal(server: Soketi, signum: signal.Signals) -> None:
    assert server.pid is not None
    os.kill(server.pid, signum)


@pytest.mark.parametrize("then", ["SIGCONT", "SIGKILL and start"])
def test_a_frozen_server_is_noticed_by_ping_timeout_and_recovered_from(fresh_soketi: Soketi, make_client,
                                                                      then: str) -> None:
    # soketi's activity timeout is a fixed 30 s; the engine takes the smaller of the server's and its own,
    # so a short one of ours keeps this test to seconds while running the same ping/pong-timeout code.
    client = make_client(fresh_soketi, options=Options(activity_timeout=1.0, pong_timeout=1.0))
    states = StateRecorder()
    client.on_state_change(states)
    ours = Arrivals()
    client.on_batch(ours.on_batch)
    channel = "private-faults-frozen"
    subscribe(client, connect(client), channel)
    seen = len(states.changes)
    _signal(fresh_soketi, signal.SIGSTOP)
    try:
        lost = states.wait_for(State.CONNECTING, after=seen, timeout=RECOVERY_DEADLINE)
        assert lost.previous is State.CONNECTED
        assert lost.reason.startswith("ping timeout"), lost.reason
        assert "asked us to reconnect" not in lost.reason
    finally:
        if then == "SIGCONT" or not fresh_soketi.is_running:
            _signal(fresh_soketi, signal.SIGCONT)
        else:
            fresh_soketi.kill()
            fresh_soketi.start()
    back = time.monotonic()
    with Publisher(fresh_soketi, channel):
        assert wait_for_event_after(ours, back, RECOVERY_DEADLINE), f"no recovery: {states.changes[-3:]}"
    assert client.state is State.CONNECTED
    assert State.FAILED not in states.states


def test_tail_says_one_line_per_outage_and_when_it_is_over(fresh_soketi: Soketi, tmp_path: Path) -> None:
    channel = "private-faults-tail"
    config = tmp_path / "config.toml"
    config.write_text(f'[pusher]\nkey = "{APP_KEY}"\nhost = "127.0.0.1"\nport = {fresh_soketi.port}\n'
                      f'tls = false\napp_id = "1"\n[authorization]\nmode = "local"\n[feed]\nchannel = "{channel}"\n',
                      encoding="utf-8")
    env = cli_environment({"LOGIN_FEED_PUSHER_SECRET": APP_SECRET})
    with CliProcess(["--config", config, "tail", "--format", "jsonl"], env) as tail:
        tail.wait_for_stderr(f"subscribed to {channel}")
        fresh_soketi.kill()
        tail.wait_for_stderr("connection lost")
        time.sleep(2.5)  # the outage itself: long enough for several retries, still one line for all of it
        fresh_soketi.start()
        tail.wait_for_stderr("reconnected", timeout=RECOVERY_DEADLINE)
        fresh_soketi.trigger(channel, "user-loggedIn", {"v": 1, "type": "login", "user_id": "u1"})
        assert json.loads(tail.wait_for_stdout_lines(1)[0])["user_id"] == "u1"
        tail.send_signal(signal.SIGTERM)
        assert tail.wait(30) == 0, tail.describe()
    lost = [line for line in tail.stderr_lines if line.startswith("connection lost")]
    assert len(lost) == 1, tail.stderr_lines
    assert "without a close frame" in lost[0] or "connection lost: " in lost[0]
    # Past 10 s (a very slow restart) the outage is also called "unavailable", once.
    assert len([line for line in tail.stderr_lines if "still trying" in line]) <= 1, tail.stderr_lines


def _connected_core() -> Harness:
    """A core subscribed to every kind of channel and signed in, for fuzzed frames to land on."""
    h = Harness()
    for name in ("feed", "presence-team", "private-encrypted-x"):
        h.core.subscribe(name, h.now)
    h.core.signin(h.now)
    h.connect()
    _answer_authorizations(h)
    h.receive(*(msg("pusher_internal:subscription_succeeded", n) for n in ("feed", "presence-team",
                                                                         "private-encrypted-x")))
    h.receive(msg("pusher:signin_success", data={"user_data": '{"id":"u1"}'}))
    return h


def _answer_authorizations(h: Harness) -> None:
    """Sign whatever the core asked for (resubscriptions, key refreshes after undecryptable events)."""
    while h.auth:
        request = h.auth.pop(0)
        if isinstance(request, c.Authorize):
            h.core.authorized(request.channel, request.request, {
                "auth": "k:s", "channel_data": '{"user_id":"u1"}', "shared_secret": "A" * 43 + "="}, h.now)
        else:
            h.core.user_authorized(request.request, {"auth": "k:s", "user_data": '{"id":"u1"}'}, h.now)
        h.drain()


def test_100000_fuzzed_frames_through_the_reader_codec_and_core_crash_nothing() -> None:
    rng = random.Random(9)  # seeded: a failure here is reproducible
    h = _connected_core()
    frames = framing_errors = protocol_errors = checked_streams = 0
    while frames < FUZZED_FRAMES:
        count = rng.randrange(1, 40)
        data, expected = fuzzed_stream(rng, count)
        frames += count
        limit = rng.choice([64, 4096, 1 << 20])
        reader = FrameReader(max_message=limit)
        texts: list[bytes] = []
        broken = False
        for piece in split(rng, data):
            try:
                texts += [p for op, p in reader.feed(piece) if op == OP_TEXT and p is not None]
            except FrameError:
                # The transport drops the connection here; read the rest as if a new one started mid-stream.
                framing_errors += 1
                broken = True
                reader = FrameReader(max_message=limit)
        if expected is not None and not broken and limit == 1 << 20:
            assert texts == expected  # intact framing: every message exactly as sent
            checked_streams += 1
        for text in texts:
            with contextlib.suppress(ProtocolError):
                decode_frame(text)
                continue
            protocol_errors += 1
        h.receive(*texts)  # the core drops what it cannot use; it must never raise
        _answer_authorizations(h)
        h.events.clear()
        h.sent.clear()
        h.advance(rng.choice([0, 0.5, 5]))
        if h.core.state is not State.CONNECTED:  # a fuzzed handshake or close: connect again
            h.advance(h.states[-1].retry_in or 0)
            h.core.socket_opened(h.gen, h.now)
            h.receive(established())
            _answer_authorizations(h)
    assert checked_streams > 100
    print(f"{frames} frames: {framing_errors} framing errors, {protocol_errors} undecodable frames")
