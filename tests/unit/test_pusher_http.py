"""The one Pusher HTTP API client: the signed request, encryption, the size limit, refusals, batches."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from nacl.secret import SecretBox
from support.http_stub import Hang, HttpStub, Reply, StubRequest, closed_port

from desktop.signing.http_api import body_md5, sign_request
from desktop.signing.pusher_http import MAX_EVENT_DATA_BYTES, PusherHttpApi, TriggerError
from desktop.signing.signatures import shared_secret

KEY, SECRET, APP_ID = "app-key", "app-secret", "42"
MASTER = bytes(range(32))


@pytest.fixture
def stub() -> Iterator[HttpStub]:
    with HttpStub(Reply(200, b"{}")) as server:
        yield server


def trigger(base: HttpStub | str, **kwargs: Any) -> PusherHttpApi:
    url = base.url("/") if isinstance(base, HttpStub) else base
    return PusherHttpApi(url, APP_ID, KEY, SECRET, clock=lambda: 1_700_000_000.5, **kwargs)


def posted(request: StubRequest) -> dict[str, Any]:
    """What was sent, as the old stand-in session recorded it: url (no query), headers, body, query."""
    url = urlsplit(request.path)
    return {"url": url.path, "headers": request.headers, "data": request.body, "params": dict(parse_qsl(url.query))}


def test_the_request_is_signed_as_the_http_api_expects(stub: HttpStub) -> None:
    trigger(stub)("private-chat", "message-added", '{"message":"hi","name":"Ada"}', "123.456")
    [post] = [posted(r) for r in stub.requests]
    assert post["url"] == f"/apps/{APP_ID}/events"
    assert post["headers"]["Content-Type"] == "application/json"
    body = post["data"]
    assert json.loads(body) == {"name": "message-added", "channels": ["private-chat"],
                                "data": '{"message":"hi","name":"Ada"}', "socket_id": "123.456"}
    query = post["params"]
    assert query["body_md5"] == body_md5(body)
    assert query["auth_timestamp"] == "1700000000"
    assert query == sign_request("POST", f"/apps/{APP_ID}/events", {}, body, key=KEY, secret=SECRET,
                                 timestamp=1_700_000_000)


def test_encrypted_channels_get_ciphertext_only(stub: HttpStub) -> None:
    channel = "private-encrypted-chat"
    trigger(stub, master_key=MASTER)(channel, "message-added", '{"message":"secret plans"}')
    payload = json.loads(stub.requests[0].body)
    assert "socket_id" not in payload
    assert "secret plans" not in payload["data"]
    sealed = json.loads(payload["data"])
    plain = SecretBox(shared_secret(channel, MASTER)).decrypt(base64.b64decode(sealed["ciphertext"]),
                                                              base64.b64decode(sealed["nonce"]))
    assert plain == b'{"message":"secret plans"}'


def test_encrypted_channel_without_a_master_key_is_refused_before_sending(stub: HttpStub) -> None:
    with pytest.raises(TriggerError, match="no encryption master key"):
        trigger(stub)("private-encrypted-chat", "message-added", "{}")
    assert stub.requests == []


def test_oversized_data_is_refused_before_sending(stub: HttpStub) -> None:
    with pytest.raises(TriggerError) as info:
        trigger(stub)("private-chat", "message-added", "x" * (MAX_EVENT_DATA_BYTES + 1))
    assert info.value.status == 413
    assert stub.requests == []


def test_refusals_say_the_status_and_keep_signatures_out_of_the_log(stub: HttpStub,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    digest = "ab" * 32
    stub.play = Reply(401, f"Invalid signature: you sent {digest}".encode())
    with pytest.raises(TriggerError) as info:
        trigger(stub)("private-chat", "message-added", "{}")
    assert info.value.status == 401
    assert str(info.value) == "Pusher answered HTTP 401"
    assert "Invalid signature" in caplog.text
    assert digest not in caplog.text
    assert SECRET not in caplog.text
    assert posted(stub.requests[0])["params"]["auth_signature"] not in caplog.text


def test_network_failures_become_trigger_errors() -> None:
    # No answer within the total deadline (the old stand-in raised a connect timeout), then nobody listening.
    with HttpStub(Hang()) as hanging, pytest.raises(TriggerError, match=r"did not answer within 0\.5 s") as info:
        trigger(hanging, timeout=0.5)("private-chat", "message-added", "{}")
    assert info.value.status is None
    with pytest.raises(TriggerError, match=r"could not reach Pusher \(ConnectionError\)") as info:
        trigger(f"http://127.0.0.1:{closed_port()}")("private-chat", "message-added", "{}")
    assert info.value.status is None


def test_a_redirect_is_a_refusal_not_followed(stub: HttpStub) -> None:
    stub.play = Reply(302, b"", {"Location": "http://127.0.0.1:1/elsewhere"})
    with pytest.raises(TriggerError) as info:
        trigger(stub)("private-chat", "message-added", "{}")
    assert info.value.status == 302
    assert len(stub.requests) == 1


def test_soketi_refusals_sent_with_status_200_are_refusals(stub: HttpStub) -> None:
    stub.play = Reply(200, b'{"error":"The secret authentication failed","code":401}')
    with pytest.raises(TriggerError) as info:
        trigger(stub)("private-chat", "message-added", "{}")
    assert info.value.status == 401
    assert info.value.detail == "The secret authentication failed"


def test_a_batch_goes_in_one_request_with_each_event_prepared(stub: HttpStub) -> None:
    trigger(stub, master_key=MASTER).trigger_batch([("private-feed", "log-event", '{"n":1}'),
                                                   ("private-encrypted-feed", "log-event", '{"n":2}')])
    [request] = stub.requests
    assert urlsplit(request.path).path == f"/apps/{APP_ID}/batch_events"
    batch = json.loads(request.body)["batch"]
    assert batch[0] == {"channel": "private-feed", "name": "log-event", "data": '{"n":1}'}
    assert "ciphertext" in json.loads(batch[1]["data"])
    with pytest.raises(ValueError, match="1 to 10"):
        trigger(stub).trigger_batch([("private-feed", "e", "{}")] * 11)


def test_repr_shows_no_secret() -> None:
    shown = repr(trigger("http://127.0.0.1:6001/"))
    assert SECRET not in shown
    assert urlsplit("http://127.0.0.1:6001").netloc in shown
