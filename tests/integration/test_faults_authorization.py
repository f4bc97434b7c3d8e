"""Fault suite: the channel authorization endpoint answers 401, 403, 500, garbage, slowly, or not at all.

The real engine against real soketi, with the endpoint played by a loopback stub that signs one channel
properly (so the connection has a working private channel throughout) and misbehaves on the other as told.
Each fault must end in a subscription error that says what happened, within the authorizer's deadline, with
the connection up and the good channel still receiving; once the endpoint is fixed, subscribing again works.
The figures (time from subscribe to the error) are printed, not asserted.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from support.engine import close_sdk_client, sdk_client
from support.engine_flow import connect, subscribe
from support.http_stub import Drip, Garbage, Hang, HttpStub, Play, Reply, StubRequest
from support.recording import StateRecorder
from support.soketi import Soketi

from desktop.pusher.auth import HttpAuthorizer
from desktop.pusher.core import State

pytestmark = pytest.mark.integration

GOOD = "private-faults-authz-good"
FAULTY = "private-faults-authz-target"
DEADLINE = 2.0


def _signed(sdk: Any, request: StubRequest) -> Reply:
    form = request.form
    return Reply(200, json.dumps(sdk.authenticate(channel=form["channel_name"], socket_id=form["socket_id"])).encode())


# name, how the endpoint misbehaves (given the proper answer), the status and the words the error must carry
FAULTS: list[tuple[str, Any, int | None, str]] = [
    ("401", lambda ok: Reply(401, {"error": "invalid_token", "error_description": "The token expired"}), 401,
     "the authorization endpoint answered 401: The token expired"),
    ("403", lambda ok: Reply(403, {"error": "you may not read this channel"}), 403,
     "the authorization endpoint answered 403: you may not read this channel"),
    ("500", lambda ok: Reply(500, b"<html><h1>Internal Server Error</h1></html>", {"Content-Type": "text/html"}),
     500, "the authorization endpoint answered 500"),
    ("garbage", lambda ok: Garbage(b"\x00\xffSSH-2.0-OpenSSH_9.2\r\n\r\n"), None,
     "the authorization endpoint did not answer in HTTP"),
    ("not JSON", lambda ok: Reply(200, b"<html>Sign in first</html>", {"Content-Type": "text/html"}), 200,
     "the authorization endpoint's answer is not JSON"),
    ("slowly", lambda ok: Drip(ok, interval=0.1, size=1), None,
     f"the authorization endpoint did not answer within {DEADLINE:g} s"),
    ("not at all", lambda ok: Hang(), None, f"the authorization endpoint did not answer within {DEADLINE:g} s"),
]


def test_a_misbehaving_authorization_endpoint_fails_the_channel_clearly_and_recovers(soketi: Soketi,
                                                                                       make_client: Any) -> None:
    sdk = sdk_client(soketi)
    fault: list[Any] = [None]

    def answer(request: StubRequest) -> Play:
        proper = _signed(sdk, request)
        if request.form.get("channel_name") == FAULTY and fault[0] is not None:
            return fault[0](proper)
        return proper

    figures: list[str] = []
    try:
        with HttpStub(answer) as endpoint:
            client = make_client(soketi, authorizer=HttpAuthorizer(endpoint.url("/pusher/auth"), timeout=DEADLINE))
            states = StateRecorder()
            client.on_state_change(states)
            recorder = connect(client)
            subscribe(client, recorder, GOOD)

            for n, (name, misbehave, status, message) in enumerate(FAULTS, 1):
                fault[0] = misbehave
                started = time.monotonic()
                handle = client.subscribe(FAULTY)
                error = recorder.wait_for("pusher:subscription_error", FAULTY, count=n)[-1].data
                figures.append(f"{name:>11} | {error['status']!s:>6} | {time.monotonic() - started:5.2f} s | "
                               f"{error['error']}")
                assert (error["status"], error["error"]) == (status, message), name
                assert not handle.subscribed
                assert client.state is State.CONNECTED
                soketi.trigger(GOOD, "still-here", {"after": name})
                assert recorder.wait_for("still-here", GOOD, count=n)[-1].data == {"after": name}

            fault[0] = None  # the endpoint is fixed: subscribing again works on the same connection
            started = time.monotonic()
            handle = client.subscribe(FAULTY)
            recorder.wait_for("pusher:subscription_succeeded", FAULTY)
            figures.append(f"{'fixed':>11} | {'200':>6} | {time.monotonic() - started:5.2f} s | subscribed")
            soketi.trigger(FAULTY, "recovered", {"ok": True})
            assert recorder.wait_for("recovered", FAULTY)[0].data == {"ok": True}
            assert handle.subscribed
            assert states.states == [State.CONNECTING, State.CONNECTED]  # never dropped, never reconnected
            endpoint_requests = [r.form.get("channel_name") for r in endpoint.requests]
    finally:
        close_sdk_client(sdk)
    assert endpoint_requests.count(FAULTY) == len(FAULTS) + 1  # one request per attempt: no hidden retries
    print("\nauthorization endpoint fault | status | to error | what the subscription error says")
    print("\n".join(figures))
