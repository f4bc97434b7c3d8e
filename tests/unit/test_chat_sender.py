"""Chat senders: the message endpoint (a local HTTP server here) and client events (a stand-in engine)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from typing import Any

import pytest
from support.http_stub import HttpStub, Reply, StubRequest

from desktop.chat.sender import ChatSetupError, ClientEventSender, EndpointSender, build_sender
from desktop.config_schema import ChatConfig
from desktop.pusher.types import ClientEventError

TOKEN = "secret-access-token-123"
SIGNAL_TIMEOUT = 5000


class Endpoint:
    """A message endpoint (the loopback :class:`HttpStub`) that records each POST and answers what ``reply``
    says, once ``release`` is set."""

    def __init__(self) -> None:
        self.reply: Callable[[], tuple[int, bytes]] = lambda: (200, b'{"ok": true}')
        self.release = threading.Event()
        self.release.set()
        self._stub = HttpStub(self._answer).__enter__()
        self.url = self._stub.url("/chat/messages")

    @property
    def requests(self) -> list[tuple[dict[str, str], dict[str, str]]]:
        return [({k: v for k, v in r.form.items() if v}, dict(r.headers)) for r in self._stub.requests]

    def _answer(self, _request: StubRequest) -> Reply:
        self.release.wait(10)
        status, body = self.reply()
        return Reply(status, body)

    def close(self) -> None:
        self.release.set()
        self._stub.close()


@pytest.fixture
def endpoint() -> Iterator[Endpoint]:
    server = Endpoint()
    yield server
    server.close()


@pytest.fixture
def make_sender() -> Iterator[Callable[..., EndpointSender]]:
    made: list[EndpointSender] = []

    def make(*args: Any, **kwargs: Any) -> EndpointSender:
        sender = EndpointSender(*args, **kwargs)
        made.append(sender)
        return sender

    yield make
    for sender in made:
        sender.close()


def test_posts_the_samples_form_with_the_bearer_token(qtbot, endpoint, make_sender) -> None:
    sender = make_sender(endpoint.url, lambda: TOKEN, socket_id=lambda: "123.456")
    with qtbot.waitSignal(sender.sent, timeout=SIGNAL_TIMEOUT) as blocker:
        sender.send("m1", "hello <b>team</b>", "Ada")
    assert blocker.args == ["m1"]
    form, headers = endpoint.requests[0]
    assert form == {"message": "hello <b>team</b>", "name": "Ada", "id": "m1", "socket_id": "123.456"}
    assert headers["Authorization"] == f"Bearer {TOKEN}"
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"


def test_messages_go_out_in_order(qtbot, endpoint, make_sender) -> None:
    sender = make_sender(endpoint.url, None)
    sent: list[str] = []
    sender.sent.connect(sent.append)
    for n in range(5):
        sender.send(f"m{n}", f"text {n}", "Ada")
    qtbot.waitUntil(lambda: len(sent) == 5, timeout=SIGNAL_TIMEOUT)
    assert [form["message"] for form, _ in endpoint.requests] == [f"text {n}" for n in range(5)]
    assert "Authorization" not in endpoint.requests[0][1]


def test_the_gui_thread_does_not_wait_for_the_endpoint(qtbot, endpoint, make_sender) -> None:
    endpoint.release.clear()
    sender = make_sender(endpoint.url, lambda: TOKEN)
    started = time.monotonic()
    sender.send("m1", "hello", "Ada")
    assert time.monotonic() - started < 3  # the endpoint never answers until released: a wait would hang here
    with qtbot.waitSignal(sender.sent, timeout=SIGNAL_TIMEOUT):
        endpoint.release.set()


@pytest.mark.parametrize(("status", "body", "expected"), [
    (401, b'{"error": "token expired"}', "refused it (401: token expired). Signing in again may help."),
    (403, b"{}", "refused it (403). Signing in again may help."),
    (500, b"<html>oops</html>", "answered 500."),
    (400, b'{"message": "message is required"}', "answered 400: message is required."),
])
def test_a_refusal_fails_the_message_with_a_reason(qtbot, endpoint, make_sender, status, body, expected) -> None:
    endpoint.reply = lambda: (status, body)
    sender = make_sender(endpoint.url, lambda: TOKEN)
    with qtbot.waitSignal(sender.failed, timeout=SIGNAL_TIMEOUT) as blocker:
        sender.send("m1", "hello", "Ada")
    message_id, reason = blocker.args
    assert message_id == "m1"
    assert reason.startswith("Not sent: ") and reason.endswith(expected)
    assert TOKEN not in reason


def test_a_slow_endpoint_times_out(qtbot, endpoint, make_sender) -> None:
    endpoint.release.clear()
    sender = make_sender(endpoint.url, lambda: TOKEN, timeout=0.3)
    with qtbot.waitSignal(sender.failed, timeout=SIGNAL_TIMEOUT) as blocker:
        sender.send("m1", "hello", "Ada")
    assert blocker.args[1] == "Not sent: the message endpoint did not answer within 0.3 s."


def test_an_unreachable_endpoint_fails(qtbot, endpoint, make_sender) -> None:
    url = endpoint.url
    endpoint.close()
    sender = make_sender(url, None, timeout=2)
    with qtbot.waitSignal(sender.failed, timeout=SIGNAL_TIMEOUT) as blocker:
        sender.send("m1", "hello", "Ada")
    assert blocker.args[1] == "Not sent: could not reach the message endpoint (ConnectionError)."


def test_no_token_fails_without_a_request(qtbot, endpoint, make_sender) -> None:
    def bearer() -> str:
        raise RuntimeError("nobody is signed in")

    sender = make_sender(endpoint.url, bearer)
    with qtbot.waitSignal(sender.failed, timeout=SIGNAL_TIMEOUT) as blocker:
        sender.send("m1", "hello", "Ada")
    assert blocker.args[1] == "Not sent: no sign-in for the message endpoint (nobody is signed in)."
    assert endpoint.requests == []


def test_a_closed_sender_fails_at_once(qtbot, endpoint, make_sender) -> None:
    sender = make_sender(endpoint.url, None)
    sender.close()
    with qtbot.waitSignal(sender.failed, timeout=SIGNAL_TIMEOUT):
        sender.send("m1", "hello", "Ada")


# -- client events --------------------------------------------------------------------------------------
class StandInClient:
    """Answers ``trigger`` with a future that ``complete`` finishes from another thread (as the engine)."""

    socket_id = "1.2"

    def __init__(self) -> None:
        self.triggered: list[tuple[str, str, Any, Future[None]]] = []

    def trigger(self, channel: str, event: str, data: Any) -> Future[None]:
        future: Future[None] = Future()
        self.triggered.append((channel, event, data, future))
        return future

    def complete(self, index: int, error: Exception | None = None) -> None:
        future = self.triggered[index][3]

        def run() -> None:
            if error is None:
                future.set_result(None)
            else:
                future.set_exception(error)

        thread = threading.Thread(target=run)
        thread.start()
        thread.join()


def test_client_events_are_triggered_with_the_client_prefix(qtbot) -> None:
    client = StandInClient()
    sender = ClientEventSender(client, "private-chat", "message-added")  # type: ignore[arg-type]
    assert not sender.echoes
    sender.send("m1", "hello", "Ada")
    channel, event, data, _ = client.triggered[0]
    assert (channel, event, data) == ("private-chat", "client-message-added",
                                      {"message": "hello", "name": "Ada", "id": "m1"})
    with qtbot.waitSignal(sender.sent, timeout=SIGNAL_TIMEOUT) as blocker:
        client.complete(0)
    assert blocker.args == ["m1"]


def test_a_refused_client_event_fails_with_the_engines_reason(qtbot) -> None:
    client = StandInClient()
    sender = ClientEventSender(client, "private-chat", "message-added")  # type: ignore[arg-type]
    sender.send("m1", "hello", "Ada")
    with qtbot.waitSignal(sender.failed, timeout=SIGNAL_TIMEOUT) as blocker:
        client.complete(0, ClientEventError("at most 10 client events per second; try again in a moment"))
    assert blocker.args == ["m1", "Not sent: at most 10 client events per second; try again in a moment."]


def test_a_client_event_nobody_answers_fails_after_the_timeout(qtbot) -> None:
    client = StandInClient()
    sender = ClientEventSender(client, "private-chat", "message-added", timeout=0.2)  # type: ignore[arg-type]
    outcomes: list[tuple[str, ...]] = []
    sender.sent.connect(lambda message_id: outcomes.append(("sent", message_id)))
    sender.failed.connect(lambda message_id, reason: outcomes.append(("failed", message_id, reason)))
    sender.send("m1", "hello", "Ada")
    qtbot.waitUntil(lambda: bool(outcomes), timeout=SIGNAL_TIMEOUT)
    client.complete(0)  # too late: reported once only
    qtbot.wait(50)
    assert outcomes == [("failed", "m1", "Not sent: the connection did not take the message within 0.2 s.")]


def test_build_sender_follows_the_send_mode() -> None:
    client = StandInClient()
    by_events = build_sender(ChatConfig(send="client-events"), client)  # type: ignore[arg-type]
    assert isinstance(by_events, ClientEventSender) and by_events.event_name == "client-message-added"
    by_endpoint = build_sender(ChatConfig(message_endpoint="https://example.com/messages"), client)  # type: ignore[arg-type]
    assert isinstance(by_endpoint, EndpointSender) and by_endpoint.echoes
    by_endpoint.close()
    with pytest.raises(ChatSetupError, match="message_endpoint"):
        build_sender(ChatConfig(send="endpoint"), client)  # type: ignore[arg-type]


def test_the_endpoint_gets_the_engines_socket_id(qtbot, endpoint) -> None:
    client = StandInClient()
    sender = build_sender(ChatConfig(message_endpoint=endpoint.url), client, lambda: TOKEN)  # type: ignore[arg-type]
    try:
        with qtbot.waitSignal(sender.sent, timeout=SIGNAL_TIMEOUT):
            sender.send("m1", "hello", "Ada")
        assert endpoint.requests[0][0]["socket_id"] == "1.2"
    finally:
        sender.close()
