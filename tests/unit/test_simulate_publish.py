"""Publishing sample events: signed batch requests, batching, pacing, retries, refusals, stopping, the command."""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import io
import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from nacl.secret import SecretBox
from support.http_stub import Hang, Hangup, HttpStub, Play, Reply, StubRequest, closed_port

from desktop.config_schema import Config, FeedConfig, PusherConfig
from desktop.pusher.channels import decrypt_event
from desktop.signing.pusher_http import PusherHttpApi
from desktop.signing.signatures import shared_secret
from desktop.simulate import command
from desktop.simulate import publisher as publisher_module
from desktop.simulate.pacing import Progress, TokenBucket, batch_size_for, run
from desktop.simulate.people import SampleEvents
from desktop.simulate.publisher import ChannelEncryptor, Publisher, PublishFailed, PublishRefused, encode_batch
from desktop.util.http import HttpClient

KEY, SECRET, APP_ID = "app-key", "app-secret", "7"
CHANNEL = "private-login-feed"
NOW = 1_795_237_262.5


# ---- helpers ----------------------------------------------------------------------------------------------------


def response(status: int = 200, body: bytes = b'{"ok":true}', headers: dict[str, str] | None = None) -> Reply:
    return Reply(status, body, headers or {})


class Slow(Play):
    """Answer ``reply`` after ``seconds``, or after ``before()`` returns (a test's own bookkeeping)."""

    def __init__(self, reply: Reply, seconds: float = 0.0, before: Callable[[], None] | None = None) -> None:
        self.reply, self.seconds, self.before = reply, seconds, before

    def __call__(self, conn: Any) -> None:
        if self.before is not None:
            self.before()
        if self.seconds:
            conn.wait(self.seconds)
        self.reply(conn)


Answer = Play | Callable[[], Play]


class FakePusher(HttpStub):
    """A loopback HTTP API: records every request, answers from a script (then with ``default``)."""

    def __init__(self, *answers: Answer, default: Answer | None = None, delay: float = 0.0) -> None:
        self._answers = list(answers)
        self._default = default if default is not None else response()
        self._delay = delay
        self._script_lock = threading.Lock()
        super().__init__(self._next, keep_alive=True)

    def _next(self, _request: StubRequest) -> Play:
        with self._script_lock:
            answer = self._answers.pop(0) if self._answers else self._default
        play = answer if isinstance(answer, Play) else answer()
        return Slow(play, self._delay) if self._delay and isinstance(play, Reply) else play

    @property
    def calls(self) -> list[dict[str, Any]]:
        """Each request as url path, query (``params``) and body (``data``)."""
        return [{"url": urlsplit(r.path).path, "params": dict(parse_qsl(urlsplit(r.path).query)), "data": r.body,
                 "headers": r.headers} for r in self.requests]

    @property
    def batches(self) -> list[list[dict]]:
        return [json.loads(call["data"])["batch"] for call in self.calls]


@pytest.fixture
def pushers() -> Iterator[Callable[..., FakePusher]]:
    """``pushers(*answers, default=..., delay=...)``: a started :class:`FakePusher`, stopped after the test."""
    started: list[FakePusher] = []

    def make(*answers: Answer, **options: Any) -> FakePusher:
        stub = FakePusher(*answers, **options).__enter__()
        started.append(stub)
        return stub

    yield make
    for stub in started:
        stub.close()


def publisher(server: HttpStub | str, *, clock: Callable[[], float] = lambda: NOW, timeout: float = 10.0,
              **kwargs: Any) -> Publisher:
    url = server.url("/") if isinstance(server, HttpStub) else server
    http = HttpClient("the Pusher HTTP API", timeout=timeout, pool_size=8)
    api = PusherHttpApi(url, APP_ID, KEY, SECRET, http=http, timeout=timeout, clock=clock,
                        what="the Pusher HTTP API")
    return Publisher(api, **{"backoff": 0.001, **kwargs})


def events() -> Iterator[tuple[str, dict]]:
    return SampleEvents(1, clock=lambda: NOW)


def expected_signature(path: str, query: dict[str, str]) -> str:
    params = "&".join(f"{k}={v}" for k, v in sorted(query.items()) if k != "auth_signature")
    return hmac.new(SECRET.encode(), f"POST\n{path}\n{params}".encode(), hashlib.sha256).hexdigest()


# ---- signing, over a real socket --------------------------------------------------------------------------------


def test_the_request_is_signed_and_the_signature_verifies(pushers: Callable[..., FakePusher]) -> None:
    server = pushers(response(200, b"{}"))
    body = encode_batch(CHANNEL, SampleEvents(1, clock=lambda: NOW).take(10))
    publisher(server.url("/")).send(body)
    [call] = server.calls
    path, query, sent_body, content_type = call["url"], call["params"], call["data"], call["headers"]["Content-Type"]
    assert path == f"/apps/{APP_ID}/batch_events"
    assert sent_body == body
    assert content_type == "application/json"
    assert set(query) == {"auth_key", "auth_timestamp", "auth_version", "body_md5", "auth_signature"}
    assert query["auth_key"] == KEY
    assert query["auth_timestamp"] == str(int(NOW))
    assert query["auth_version"] == "1.0"
    assert query["body_md5"] == hashlib.md5(body).hexdigest()
    assert hmac.compare_digest(query["auth_signature"], expected_signature(path, query))


def test_each_attempt_is_signed_with_the_current_time(pushers: Callable[..., FakePusher]) -> None:
    times = iter([NOW, NOW + 2])
    session = pushers(response(503), response(200))
    publisher(session, clock=lambda: next(times)).send(encode_batch(CHANNEL, [next(events())]))
    stamps = [call["params"]["auth_timestamp"] for call in session.calls]
    assert stamps == [str(int(NOW)), str(int(NOW + 2))]
    for call in session.calls:
        assert call["params"]["auth_signature"] == expected_signature(f"/apps/{APP_ID}/batch_events", call["params"])


# ---- batch bodies and encryption --------------------------------------------------------------------------------


def test_a_batch_body_carries_each_payload_as_a_json_string() -> None:
    sample = SampleEvents(9, clock=lambda: NOW).take(10)
    batch = json.loads(encode_batch(CHANNEL, sample))["batch"]
    assert [(item["channel"], item["name"], json.loads(item["data"])) for item in batch] == [
        (CHANNEL, name, payload) for name, payload in sample]
    assert all(isinstance(item["data"], str) for item in batch)
    with pytest.raises(ValueError, match="1 to 10"):
        encode_batch(CHANNEL, SampleEvents(9).take(11))
    with pytest.raises(ValueError, match="1 to 10"):
        encode_batch(CHANNEL, [])


def test_encrypted_data_opens_with_the_channel_key_the_client_derives() -> None:
    channel, master = "private-encrypted-login-feed", bytes(range(32))
    sample = SampleEvents(4, clock=lambda: NOW).take(3)
    batch = json.loads(encode_batch(channel, sample, ChannelEncryptor(channel, master)))["batch"]
    box = SecretBox(shared_secret(channel, master))
    opened = [decrypt_event(box, json.loads(item["data"])) for item in batch]
    assert opened == [payload for _, payload in sample]
    nonces = {json.loads(item["data"])["nonce"] for item in batch}
    assert len(nonces) == 3 and all(len(base64.b64decode(n)) == 24 for n in nonces)


# ---- batching and pacing ----------------------------------------------------------------------------------------


def test_ten_events_per_request_and_a_partial_last_batch(pushers: Callable[..., FakePusher]) -> None:
    session = pushers()
    outcome = run(events(), publisher(session), CHANNEL, stop=threading.Event(), rate=0, count=25)
    assert [len(batch) for batch in sorted(session.batches, key=len, reverse=True)] == [10, 10, 5]
    sent = [json.loads(item["data"]) for batch in session.batches for item in batch]
    assert len({(p["user_id"], p["logins_count"]) for p in sent}) == 25
    assert outcome.sent == 25 and outcome.failed == 0 and outcome.error is None and not outcome.stopped


def test_batch_size_shrinks_at_low_rates_so_demos_trickle() -> None:
    assert [batch_size_for(r) for r in (0, 0.5, 5, 19, 50, 99, 100, 5000)] == [10, 1, 1, 1, 5, 9, 10, 10]


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_token_bucket_paces_to_the_rate() -> None:
    clock = FakeMonotonic()
    bucket = TokenBucket(100, capacity=10, clock=clock)
    assert bucket.reserve(10) == 0  # starts full: the first batch goes at once
    assert bucket.reserve(10) == pytest.approx(0.1)
    clock.now += 0.1
    assert bucket.reserve(10) == pytest.approx(0.1)
    # Sending 1,000 more events in batches of 10, waiting as told, takes 10 s at 100 events/s.
    waited = 0.0
    for _ in range(100):
        wait_s = bucket.reserve(10)
        waited += wait_s
        clock.now += wait_s
    assert waited == pytest.approx(10.0 + 0.1, abs=1e-6)


def test_token_bucket_never_bursts_beyond_its_capacity_after_idling() -> None:
    clock = FakeMonotonic()
    bucket = TokenBucket(50, capacity=5, clock=clock)
    bucket.reserve(5)
    clock.now += 3600  # an hour idle
    assert bucket.reserve(5) == 0
    assert bucket.reserve(5) == pytest.approx(0.1)


def test_token_bucket_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        TokenBucket(0, capacity=10)
    with pytest.raises(ValueError):
        TokenBucket(float("inf"), capacity=10)
    with pytest.raises(ValueError):
        TokenBucket(10, capacity=5).reserve(6)


def test_run_keeps_to_the_rate_in_real_time(pushers: Callable[..., FakePusher]) -> None:
    session = pushers()
    started = time.monotonic()
    outcome = run(events(), publisher(session), CHANNEL, stop=threading.Event(), rate=500, count=200)
    elapsed = time.monotonic() - started
    assert outcome.sent == 200
    print(f"200 events at 500/s in {elapsed:.2f} s")
    assert elapsed >= 0.3  # 190 events after the first batch at 500/s: ~0.38 s, never less (a loaded machine: more)
    assert all(len(batch) == 10 for batch in session.batches)


def test_requests_run_concurrently_up_to_the_limit(pushers: Callable[..., FakePusher]) -> None:
    in_flight, peak, lock = 0, 0, threading.Lock()

    def slow_ok() -> Play:
        def enter() -> None:
            nonlocal in_flight, peak
            with lock:
                in_flight += 1
                peak = max(peak, in_flight)
            time.sleep(0.05)
            with lock:
                in_flight -= 1

        return Slow(response(), before=enter)

    session = pushers(default=slow_ok)
    outcome = run(events(), publisher(session), CHANNEL, stop=threading.Event(), rate=0, count=200, concurrency=4)
    assert outcome.sent == 200
    assert peak == 4


# ---- retries and refusals ---------------------------------------------------------------------------------------


def body() -> bytes:
    return encode_batch(CHANNEL, SampleEvents(2, clock=lambda: NOW).take(2))


def test_429_5xx_and_network_errors_are_retried(pushers: Callable[..., FakePusher]) -> None:
    session = pushers(response(503), response(429, headers={"Retry-After": "0"}), Hangup(), response(200))
    publisher(session).send(body())
    assert len(session.calls) == 4


def test_after_the_retries_a_batch_fails_with_the_reason(pushers: Callable[..., FakePusher]) -> None:
    session = pushers(default=response(502, b"<html>Bad Gateway</html>"))
    with pytest.raises(PublishFailed, match=r"HTTP 502: <html>Bad Gateway</html>"):
        publisher(session, retries=2).send(body())
    assert len(session.calls) == 3


def test_network_errors_never_show_the_signature() -> None:
    # The old stand-in raised requests' errors with the signed URL in their text; now a real refused connection
    # and a real silent server: the client's errors never carry the URL at all.
    with pytest.raises(PublishFailed) as failed:
        publisher(f"http://127.0.0.1:{closed_port()}", retries=0).send(body())
    assert str(failed.value) == "could not reach the Pusher HTTP API (ConnectionError)"
    assert "auth_signature" not in str(failed.value) and "?" not in str(failed.value)
    with HttpStub(Hang()) as silent, pytest.raises(PublishFailed, match=r"did not answer within 0\.5 s") as failed:
        publisher(silent, retries=0, timeout=0.5).send(body())
    assert "auth_signature" not in str(failed.value)


@pytest.mark.parametrize(("status", "text"), [
    (401, "the Pusher HTTP API refused the app secret (401)"),
    (403, "refused the request (403)"),
    (404, "has no app 7"),
    (413, "this is a bug in login-feed simulate"),
    (400, "refused the request (400): Invalid channel"),
])
def test_other_4xx_stop_with_a_clear_message(pushers: Callable[..., FakePusher], status: int, text: str) -> None:
    session = pushers(response(status, b'{"error":"Invalid channel"}' if status == 400 else b""))
    with pytest.raises(PublishRefused) as refused:
        publisher(session).send(body())
    assert text in str(refused.value)
    assert refused.value.status == status
    assert len(session.calls) == 1  # not retried


def test_soketi_refusals_sent_with_status_200_are_refusals(pushers: Callable[..., FakePusher]) -> None:
    # soketi 1.6.1 sends 200 OK with the real status in the body for refusals decided after its CORS headers.
    answer = response(200, b'{"error":"The secret authentication failed","code":401}')
    with pytest.raises(PublishRefused, match=r"refused the app secret \(401\): The secret authentication failed"):
        publisher(pushers(answer)).send(body())
    busy = response(200, b'{"error":"Too many requests","code":429}')
    session = pushers(busy, response(200, b'{"ok":true}'))
    publisher(session).send(body())
    assert len(session.calls) == 2


def test_server_text_in_messages_is_short_and_has_no_long_hex(pushers: Callable[..., FakePusher]) -> None:
    text = b'{"error":"Invalid signature: expected ' + b"f" * 64 + b" for " + b"x" * 500 + b'"}'
    with pytest.raises(PublishRefused) as refused:
        publisher(pushers(response(401, text))).send(body())
    message = str(refused.value)
    assert "f" * 32 not in message
    assert len(message) < 400


def test_a_refusal_stops_the_run_and_is_reported(pushers: Callable[..., FakePusher]) -> None:
    session = pushers(default=response(401))
    outcome = run(events(), publisher(session), CHANNEL, stop=threading.Event(), rate=0, count=1000)
    assert outcome.error is not None and "(401)" in outcome.error
    assert outcome.sent == 0 and not outcome.stopped
    assert len(session.calls) <= 4 + 1  # what was in flight, no more


def test_failed_batches_are_counted_and_the_run_goes_on(pushers: Callable[..., FakePusher]) -> None:
    answers = [response(503)] * 4  # the first batch: three retries, then failed
    session = pushers(*answers, default=response())
    outcome = run(events(), publisher(session), CHANNEL, stop=threading.Event(), rate=0, count=50, concurrency=1)
    assert (outcome.sent, outcome.failed, outcome.error) == (40, 10, None)


def test_the_run_gives_up_when_batch_after_batch_fails() -> None:
    nobody = f"http://127.0.0.1:{closed_port()}"
    outcome = run(events(), publisher(nobody, retries=0), CHANNEL, stop=threading.Event(), rate=0,
                  concurrency=2, max_failed_in_a_row=5)
    assert outcome.error is not None
    assert "gave up after 5 batches in a row failed" in outcome.error
    assert "could not reach the Pusher HTTP API (ConnectionError)" in outcome.error
    assert outcome.sent == 0


# ---- stopping ---------------------------------------------------------------------------------------------------


def test_stop_finishes_what_is_in_flight_and_counts_it(pushers: Callable[..., FakePusher]) -> None:
    session = pushers(delay=0.02)
    stop = threading.Event()
    timer = threading.Timer(0.2, stop.set)
    timer.start()
    try:
        outcome = run(events(), publisher(session), CHANNEL, stop=stop, rate=0, count=None, concurrency=3)
    finally:
        timer.cancel()
        timer.join()
    assert outcome.stopped and outcome.error is None
    assert outcome.sent == 10 * len(session.calls) > 0  # everything handed to the pool was delivered and counted


def test_stop_cuts_a_retry_backoff_short(pushers: Callable[..., FakePusher]) -> None:
    stop = threading.Event()
    pub = publisher(pushers(default=response(503)), backoff=30, stop=stop)
    timer = threading.Timer(0.1, stop.set)
    timer.start()
    started = time.monotonic()
    try:
        with pytest.raises(PublishFailed, match="not retried: stopping"):
            pub.send(body())
    finally:
        timer.join()
    assert time.monotonic() - started < 5


# ---- progress -------------------------------------------------------------------------------------------------


def test_progress_prints_about_once_a_second() -> None:
    clock, out = FakeMonotonic(), io.StringIO()
    progress = Progress(out, clock=clock, live=False)
    progress.tick(0, 0)
    clock.now += 0.5
    progress.tick(50, 0)
    assert out.getvalue() == ""
    clock.now += 0.5
    progress.tick(100, 0)
    clock.now += 1.0
    progress.tick(300, 10, "HTTP 503")
    assert out.getvalue().splitlines() == [
        "simulate: 100 sent, 0 failed, 100 events/s now, 100 events/s overall",
        "simulate: 300 sent, 10 failed, 200 events/s now, 150 events/s overall (last failure: HTTP 503)",
    ]


def test_progress_rewrites_one_line_on_a_terminal() -> None:
    clock, out = FakeMonotonic(), io.StringIO()
    progress = Progress(out, clock=clock, live=True)
    clock.now += 1
    progress.tick(10, 0)
    progress.line("simulate: done")
    assert out.getvalue() == ("\r\x1b[Ksimulate: 10 sent, 0 failed, 10 events/s now, 10 events/s overall\n"
                              "simulate: done\n")


# ---- the command's set-up errors (exit 2) ----------------------------------------------------------------------


def config(tmp_path: Path, **pusher: object) -> Config:
    settings = {"key": KEY, "host": "127.0.0.1", "port": 9, "tls": False, "app_id": APP_ID, **pusher}
    return Config(pusher=PusherConfig(**settings), feed=FeedConfig(), path=tmp_path / "config.toml")


def args(**given: object) -> argparse.Namespace:
    return argparse.Namespace(**{"rate": None, "count": None, "channel": None, "concurrency": None,
                                 "signup_ratio": None, "seed": None, **given})


@pytest.fixture
def no_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LOGIN_FEED_PUSHER_SECRET", raising=False)
    monkeypatch.delenv("LOGIN_FEED_ENCRYPTION_MASTER_KEY", raising=False)


def run_main(cfg: Config, namespace: argparse.Namespace) -> tuple[int, str]:
    err = io.StringIO()
    return command.main(cfg, namespace, stderr=err), err.getvalue()


def test_a_missing_secret_is_explained(tmp_path: Path, no_secrets: None) -> None:
    code, err = run_main(config(tmp_path), args())
    assert code == 2
    assert err == ("login-feed: simulate needs the Pusher app secret: set LOGIN_FEED_PUSHER_SECRET or store it in "
                   "the keyring\n")


def test_a_missing_app_id_names_the_key_and_the_file(tmp_path: Path, no_secrets: None) -> None:
    code, err = run_main(config(tmp_path, app_id=None), args())
    assert code == 2
    assert "[pusher] app_id" in err and str(tmp_path / "config.toml") in err


def test_an_encrypted_channel_needs_a_valid_master_key(tmp_path: Path, no_secrets: None,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOGIN_FEED_PUSHER_SECRET", SECRET)
    code, err = run_main(config(tmp_path), args(channel="private-encrypted-feed"))
    assert code == 2
    assert "private-encrypted-feed is an encrypted channel" in err and "LOGIN_FEED_ENCRYPTION_MASTER_KEY" in err
    monkeypatch.setenv("LOGIN_FEED_ENCRYPTION_MASTER_KEY", base64.b64encode(b"short").decode())
    code, err = run_main(config(tmp_path), args(channel="private-encrypted-feed"))
    assert code == 2
    assert "must decode to 32 bytes" in err and base64.b64encode(b"short").decode() not in err


@pytest.mark.parametrize(("given", "text"), [
    ({"rate": -1.0}, "--rate"),
    ({"rate": float("nan")}, "--rate"),
    ({"count": 0}, "--count"),
    ({"concurrency": 65}, "--concurrency"),
    ({"signup_ratio": 1.5}, "--signup-ratio"),
    ({"channel": "no spaces please"}, "--channel"),
])
def test_bad_options_exit_2(tmp_path: Path, no_secrets: None, given: dict, text: str) -> None:
    code, err = run_main(config(tmp_path), args(**given))
    assert code == 2
    assert text in err


def test_an_unreachable_server_ends_with_a_clear_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOGIN_FEED_PUSHER_SECRET", SECRET)
    monkeypatch.setattr(publisher_module.Publisher, "__init__", _fast_failing_publisher_init)
    code, err = run_main(config(tmp_path), args(rate=0.0))
    assert code == 1
    lines = err.splitlines()
    assert lines[0].startswith("simulate: publishing events until Ctrl+C to private-login-feed via http://127.0.0.1:9")
    assert lines[-2].startswith("simulate: stopped: 0 events sent")
    assert lines[-1].startswith("login-feed: gave up after 5 batches in a row failed")
    assert SECRET not in err


_real_init = publisher_module.Publisher.__init__


def _fast_failing_publisher_init(self: Publisher, *a: object, **kw: object) -> None:
    _real_init(self, *a, **{**kw, "retries": 0})  # type: ignore[arg-type]
