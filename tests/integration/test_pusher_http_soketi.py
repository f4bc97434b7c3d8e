"""The one Pusher HTTP API client against a real soketi: one event, a batch with an encrypted channel, a refusal."""

from __future__ import annotations

import pytest
from support.engine import local_authorizer
from support.engine_flow import connect, subscribe
from support.soketi import APP_ID, APP_KEY, APP_SECRET, Soketi
from support.waiting import wait_until

from desktop.signing.pusher_http import PusherHttpApi, TriggerError

pytestmark = pytest.mark.integration

MASTER_KEY = bytes(range(3, 35))


def api(soketi: Soketi, secret: str = APP_SECRET) -> PusherHttpApi:
    return PusherHttpApi(f"http://127.0.0.1:{soketi.port}", APP_ID, APP_KEY, secret, master_key=MASTER_KEY)


def test_events_and_batches_reach_a_subscriber_encrypted_ones_decrypted(soketi: Soketi, make_client) -> None:
    plain, sealed = "private-http-api-plain", "private-encrypted-http-api"
    client = make_client(soketi, authorizer=local_authorizer(master_key=MASTER_KEY))
    recorder = connect(client)
    subscribe(client, recorder, plain)
    subscribe(client, recorder, sealed)
    sender = api(soketi)
    try:
        sender.trigger(plain, "one", '{"n": 0}')
        sender.trigger_batch([(plain, "batched", '{"n": 1}'), (sealed, "batched", '{"n": 2}')])
    finally:
        sender.close()
    wait_until(lambda: len(recorder.named("batched")) == 2 and recorder.named("one", plain),
               message=lambda: f"three events; got {recorder.describe()}")
    assert [e.data for e in recorder.named("one", plain)] == [{"n": 0}]
    assert sorted((e.data["n"], e.channel) for e in recorder.named("batched")) == [(1, plain), (2, sealed)]


def test_a_wrong_secret_is_a_refusal_though_soketi_answers_200(soketi: Soketi) -> None:
    sender = api(soketi, secret="not-the-app-secret")
    try:
        with pytest.raises(TriggerError) as refused:
            sender.trigger_batch([("private-http-api-plain", "x", "{}")])
    finally:
        sender.close()
    assert refused.value.status == 401 and not refused.value.retryable
    assert "not-the-app-secret" not in str(refused.value)
