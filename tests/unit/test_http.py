"""The HTTP boundary against a loopback server that misbehaves: the total deadline and the byte cap hold.

No assertion is on elapsed time: a dripped answer must end in a timeout error before the server could send it
all (``bytes_sent``), and a flood must end in a size error with the client's memory peak far below what was
offered (``tracemalloc``). Figures are printed (``-s``) for the record.
"""

from __future__ import annotations

import gzip
import socket
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from support.http_stub import Drip, Flood, Garbage, Hang, Hangup, HttpStub, Reply, self_signed_tls
from support.waiting import wait_until

from desktop.util.deadline import deadline, watch_socket
from desktop.util.http import ERROR_BODY_BYTES, HttpClient, HttpError, error_detail

WHAT = "the test server"
SECRET = "s3cr3t-token-value"


@pytest.fixture
def client() -> Any:
    http = HttpClient(WHAT, timeout=1.0, max_bytes=64 * 1024)
    yield http
    http.close()


def peak_bytes(call: Callable[[], Any]) -> tuple[int, BaseException | None]:
    """The Python memory peak while ``call`` runs (all threads), and what it raised."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    raised: BaseException | None = None
    try:
        call()
    except Exception as exc:
        raised = exc
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak, raised


def test_a_normal_answer(client: HttpClient) -> None:
    with HttpStub(Reply(200, {"auth": "key:sig"})) as stub:
        answer = client.post(stub.url("/pusher/auth?x=1"), data={"socket_id": "1.2"},
                             headers={"Authorization": "Bearer t"})
    assert (answer.status, answer.ok, answer.json_object()) == (200, True, {"auth": "key:sig"})
    [request] = stub.requests
    assert (request.method, request.path, request.form) == ("POST", "/pusher/auth?x=1", {"socket_id": "1.2"})
    assert request.headers["authorization"] == "Bearer t"
    assert request.headers["accept-encoding"] == "identity"


@pytest.mark.parametrize(("size", "interval"), [(1, 0.05), (64, 0.05)], ids=["headers-dripped", "body-dripped"])
def test_a_dripped_answer_hits_the_total_deadline(client: HttpClient, size: int, interval: float,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    """Every gap is far below the 1 s timeout; the whole answer would take > 6 s. Before: it was accepted."""
    reply = Reply(200, b'{"auth": "' + b"a" * 8000 + b'"}')
    with HttpStub(Drip(reply, interval=interval, size=size)) as stub:
        started = time.monotonic()
        with pytest.raises(HttpError) as raised:
            client.get(stub.url("/slow"))
        elapsed = time.monotonic() - started
        stub.wait_idle()
    print(f"\ndrip {size} B / {interval} s: gave up after {elapsed:.2f} s, {stub.bytes_sent} of "
          f"{len(reply.wire())} bytes sent")
    assert str(raised.value) == "the test server did not answer within 1 s"
    assert raised.value.status is None
    assert stub.bytes_sent < len(reply.wire())
    assert "/slow" not in caplog.text  # urllib3's warning about headers cut short (with the URL) is not logged


def test_a_pooled_connection_is_under_the_next_requests_deadline(client: HttpClient) -> None:
    """A keep-alive connection reused from the pool is watched by the request that reuses it."""
    first, slow = Reply(200, {"n": 1}), Reply(200, {"n": "x" * 4000})
    with HttpStub(first, keep_alive=True) as stub:
        assert client.get(stub.url()).json() == {"n": 1}
        stub.play = Drip(slow, interval=0.05, size=16)
        with pytest.raises(HttpError, match=r"^the test server did not answer within 1 s$"):
            client.get(stub.url())
        client.close()
        stub.wait_idle()
    assert (len(stub.requests), stub.connections) == (2, 1)
    assert stub.bytes_sent < len(first.wire(keep_alive=True)) + len(slow.wire())  # cut, not read to the end


def test_no_answer_at_all_hits_the_deadline(client: HttpClient) -> None:
    with HttpStub(Hang()) as stub:
        with pytest.raises(HttpError, match=r"^the test server did not answer within 1 s$"):
            client.get(stub.url())
        stub.wait_idle()  # the client closed its end: nothing is left hanging
    assert len(stub.requests) == 1


@pytest.mark.parametrize("announce", [True, False], ids=["content-length", "until-close"])
def test_a_huge_answer_is_refused_with_bounded_memory(client: HttpClient, announce: bool) -> None:
    """100 MB offered, 64 KB accepted. Before: the whole body was read (and copied) first."""
    offered = 100 * 1024 * 1024
    with HttpStub(Flood(offered, announce_length=announce)) as stub:
        peak, raised = peak_bytes(lambda: client.get(stub.url("/huge")))
        stub.wait_idle()
    print(f"\nflood ({'announced' if announce else 'until close'}): memory peak {peak / 1024:.0f} KB, "
          f"{stub.bytes_sent / 1024 / 1024:.1f} MB sent of {offered // 1024 // 1024} MB")
    assert isinstance(raised, HttpError)
    assert str(raised) == "the test server's answer is too large (over 64 KB)"
    assert raised.status == 200
    assert peak < 2 * 1024 * 1024
    assert stub.bytes_sent < offered // 4


def test_a_huge_error_body_is_cut_not_refused(client: HttpClient) -> None:
    with HttpStub(Reply(500, b'{"error": "boom"}' + b" " * (10 * ERROR_BODY_BYTES))) as stub:
        answer = client.get(stub.url())
    assert answer.status == 500
    assert len(answer.body) == ERROR_BODY_BYTES


@pytest.mark.parametrize(("play", "message"), [
    (Garbage(), "the test server did not answer in HTTP"),
    (Garbage(b"x" * 200_000), "the test server did not answer in HTTP"),
    (Hangup(), "the test server closed the connection without answering"),
    (Reply(200, b"", {"Content-Length": "100"}), "the test server closed the connection in the middle of its answer"),
], ids=["not-http", "endless-line", "hang-up", "short-body"])
def test_broken_answers_are_named(client: HttpClient, play: Any, message: str) -> None:
    with HttpStub(play) as stub, pytest.raises(HttpError) as raised:
        client.get(stub.url())
    assert (str(raised.value), raised.value.status) == (message, None)


@pytest.mark.parametrize(("status", "body", "detail"), [
    (401, {"error": "invalid_token", "error_description": "The token\nexpired"}, ": The token expired"),
    (403, {"error": "forbidden"}, ": forbidden"),
    (500, b"<html>oops</html>", ""),
    (400, {"error": {"message": "message is required"}}, ": message is required"),
])
def test_refusals_come_back_as_answers_with_their_detail(client: HttpClient, status: int, body: Any,
                                                         detail: str) -> None:
    with HttpStub(Reply(status, body)) as stub:
        answer = client.get(stub.url())
    assert (answer.status, answer.ok, answer.error_detail()) == (status, False, detail)


def test_answers_that_are_not_json_objects(client: HttpClient) -> None:
    with HttpStub(Reply(200, b"<html/>")) as stub:
        answer = client.get(stub.url())
    with pytest.raises(HttpError, match=r"^the test server's answer is not JSON$") as raised:
        answer.json()
    assert raised.value.status == 200
    with HttpStub(Reply(200, b"[1]")) as stub:
        answer = client.get(stub.url())
    with pytest.raises(HttpError, match=r"^the test server's answer is not a JSON object$"):
        answer.json_object()


def test_error_detail_is_one_short_printable_line() -> None:
    assert error_detail(b'{"message": "' + b"x" * 500 + b'"}') == ": " + "x" * 199 + "…"
    assert error_detail(b'{"error": "a\\u0000b"}') == ": a b"
    assert error_detail(b"[" * 100_000) == ""
    assert error_detail(b"\xff") == ""


def test_an_unreachable_server_and_no_secrets_in_messages(client: HttpClient) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(HttpError) as raised:
        client.get(f"http://127.0.0.1:{port}/x?access_token={SECRET}", headers={"Authorization": SECRET})
    assert str(raised.value) == "could not reach the test server (ConnectionError)"
    with HttpStub(Hang()) as stub, pytest.raises(HttpError) as timed_out:
        client.get(stub.url(f"/x?access_token={SECRET}"), headers={"Authorization": SECRET})
    for error in (raised.value, timed_out.value):
        assert SECRET not in str(error) and "?" not in str(error)
        assert error.__cause__ is None and error.__suppress_context__


def test_a_compressed_answer_is_decoded_within_the_cap(client: HttpClient) -> None:
    small = gzip.compress(b'{"ok": true}')
    with HttpStub(Reply(200, small, {"Content-Encoding": "gzip"})) as stub:
        assert client.get(stub.url()).json() == {"ok": True}
    bomb = gzip.compress(b" " * (50 * 1024 * 1024))  # 50 KB on the wire, 50 MB unpacked
    with HttpStub(Reply(200, bomb, {"Content-Encoding": "gzip"})) as stub:
        peak, raised = peak_bytes(lambda: client.get(stub.url()))
    assert isinstance(raised, HttpError) and "too large" in str(raised)
    assert peak < 2 * 1024 * 1024


def test_tls_is_verified_and_the_deadline_holds_under_tls(tmp_path: Path) -> None:
    context, ca = self_signed_tls(tmp_path)
    with HttpStub(Reply(200, {"ok": True}), tls=context) as stub:
        untrusting = HttpClient(WHAT, timeout=5)
        with pytest.raises(HttpError, match=r"^the TLS certificate of the test server could not be verified$"):
            untrusting.get(stub.url())
        untrusting.close()
        session = requests.Session()
        session.verify = str(ca)
        session.trust_env = False  # else REQUESTS_CA_BUNDLE, when set, wins over session.verify
        trusting = HttpClient(WHAT, timeout=1, session=session)
        assert trusting.get(stub.url()).json() == {"ok": True}
        stub.play = Drip(Reply(200, {"ok": "x" * 2000}), interval=0.05, size=16)
        with pytest.raises(HttpError, match=r"^the test server did not answer within 1 s$"):
            trusting.get(stub.url())
        trusting.close()


def test_the_watchdog_cuts_a_blocked_read_and_spares_a_socket_handed_on() -> None:
    left, right = socket.socketpair()
    kept, peer = socket.socketpair()
    with left, right, kept, peer:
        with deadline(0.2) as window:
            watch_socket(left)
            watch_socket(kept)
            with deadline(3600) as later:  # ``kept`` now belongs to a later request (a pooled connection)
                watch_socket(kept)
                assert left.recv(10) == b""  # woken by the shutdown, not by the peer
                assert window.expired and not later.expired
                peer.sendall(b"still here")
                assert kept.recv(10) == b"still here"
        watch_socket(right)  # outside any window: nothing happens
        wait_until(lambda: window.done)
