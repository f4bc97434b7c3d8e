"""Publishing chat messages through the Pusher HTTP API: the signed request, encryption, refusals."""

from __future__ import annotations

import base64
import json
import logging
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from nacl.secret import SecretBox

from desktop.authserver.pusher_api import MAX_EVENT_DATA_BYTES, PusherTrigger, TriggerError
from desktop.signing.http_api import body_md5, sign_request
from desktop.signing.signatures import shared_secret

KEY, SECRET, APP_ID = "app-key", "app-secret", "42"
MASTER = bytes(range(32))


class FakeResponse:
    def __init__(self, status: int, body: bytes = b"{}") -> None:
        self.status_code = status
        self.content = body

    def __enter__(self) -> FakeResponse:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


class FakeSession:
    def __init__(self, response: FakeResponse | Exception) -> None:
        self.response = response
        self.posts: list[dict[str, Any]] = []

    def post(self, url: str, **kwargs: Any) -> FakeResponse:
        self.posts.append({"url": url, **kwargs})
        if isinstance(self.response, Exception):
            raise self.response
        return self.response


def trigger(session: FakeSession, **kwargs: Any) -> PusherTrigger:
    return PusherTrigger("http://127.0.0.1:6001/", APP_ID, KEY, SECRET, session=session,  # type: ignore[arg-type]
                         clock=lambda: 1_700_000_000.5, **kwargs)


def test_the_request_is_signed_as_the_http_api_expects() -> None:
    session = FakeSession(FakeResponse(200))
    trigger(session)("private-chat", "message-added", '{"message":"hi","name":"Ada"}', "123.456")
    [post] = session.posts
    assert post["url"] == f"http://127.0.0.1:6001/apps/{APP_ID}/events"
    assert post["headers"]["Content-Type"] == "application/json"
    assert post["allow_redirects"] is False
    body = post["data"]
    assert json.loads(body) == {"name": "message-added", "channels": ["private-chat"],
                                "data": '{"message":"hi","name":"Ada"}', "socket_id": "123.456"}
    query = post["params"]
    assert query["body_md5"] == body_md5(body)
    assert query["auth_timestamp"] == "1700000000"
    assert query == sign_request("POST", f"/apps/{APP_ID}/events", {}, body, key=KEY, secret=SECRET,
                                 timestamp=1_700_000_000)


def test_encrypted_channels_get_ciphertext_only() -> None:
    session = FakeSession(FakeResponse(200))
    channel = "private-encrypted-chat"
    trigger(session, master_key=MASTER)(channel, "message-added", '{"message":"secret plans"}')
    payload = json.loads(session.posts[0]["data"])
    assert "socket_id" not in payload
    assert "secret plans" not in payload["data"]
    sealed = json.loads(payload["data"])
    plain = SecretBox(shared_secret(channel, MASTER)).decrypt(base64.b64decode(sealed["ciphertext"]),
                                                              base64.b64decode(sealed["nonce"]))
    assert plain == b'{"message":"secret plans"}'


def test_encrypted_channel_without_a_master_key_is_refused_before_sending() -> None:
    session = FakeSession(FakeResponse(200))
    with pytest.raises(TriggerError, match="no encryption master key"):
        trigger(session)("private-encrypted-chat", "message-added", "{}")
    assert session.posts == []


def test_oversized_data_is_refused_before_sending() -> None:
    session = FakeSession(FakeResponse(200))
    with pytest.raises(TriggerError) as info:
        trigger(session)("private-chat", "message-added", "x" * (MAX_EVENT_DATA_BYTES + 1))
    assert info.value.status == 413
    assert session.posts == []


def test_refusals_say_the_status_and_keep_signatures_out_of_the_log(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    digest = "ab" * 32
    session = FakeSession(FakeResponse(401, f"Invalid signature: you sent {digest}".encode()))
    with pytest.raises(TriggerError) as info:
        trigger(session)("private-chat", "message-added", "{}")
    assert info.value.status == 401
    assert str(info.value) == "Pusher answered HTTP 401"
    assert "Invalid signature" in caplog.text
    assert digest not in caplog.text
    assert SECRET not in caplog.text
    assert session.posts[0]["params"]["auth_signature"] not in caplog.text


@pytest.mark.parametrize(("error", "text"), [
    (requests.ConnectTimeout("slow"), "did not answer within 5 s"),
    (requests.ConnectionError("refused"), "could not reach Pusher (ConnectionError)"),
])
def test_network_failures_become_trigger_errors(error: Exception, text: str) -> None:
    with pytest.raises(TriggerError, match=text.replace("(", r"\(").replace(")", r"\)")) as info:
        trigger(FakeSession(error))("private-chat", "message-added", "{}")
    assert info.value.status is None


def test_repr_shows_no_secret() -> None:
    shown = repr(trigger(FakeSession(FakeResponse(200))))
    assert SECRET not in shown
    assert urlsplit("http://127.0.0.1:6001").netloc in shown
