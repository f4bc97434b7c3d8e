"""The connection state machine and subscriptions, driven with a fake clock and no sockets."""

import base64
import json

import pytest
from nacl.secret import SecretBox
from nacl.utils import random as nacl_random
from support.core_harness import Harness, established, msg

from desktop.pusher import core as c
from desktop.pusher.channels import AuthFailure
from desktop.pusher.core import ClientEventError, State


def test_connects_and_reports_each_state_change():
    h = Harness()
    h.connect()
    assert h.core.state is State.CONNECTED
    assert [(s.previous, s.current) for s in h.states] == [
        (State.INITIALIZED, State.CONNECTING), (State.CONNECTING, State.CONNECTED)]
    assert h.core.socket_id == "1.1"


def test_activity_timeout_is_the_smaller_of_ours_and_the_servers_and_a_ping_goes_out():
    h = Harness(activity_timeout=120)
    h.connect()  # the server says 30
    h.advance(29)
    assert h.sent == []
    h.advance(1.5)
    assert h.sent == [{"event": "pusher:ping", "data": {}}]


def test_no_pong_within_the_pong_timeout_reconnects_at_once():
    h = Harness(pong_timeout=30)
    h.connect()
    h.advance(31)  # ping sent
    h.advance(29)
    assert h.core.state is State.CONNECTED
    h.advance(2)
    assert h.closed and h.closed[-1].code == 4201
    assert h.core.state is State.CONNECTING
    h.advance(0)
    assert len(h.opened) == 2


def test_any_message_counts_as_a_pong():
    h = Harness()
    h.connect()
    h.advance(31)
    h.receive(msg("pusher:pong", data={}))
    h.advance(29)
    assert h.core.state is State.CONNECTED
    assert not h.closed


def test_server_ping_is_answered():
    h = Harness()
    h.connect()
    h.receive(msg("pusher:ping", data={}))
    assert h.sent == [{"event": "pusher:pong", "data": {}}]


@pytest.mark.parametrize("code", [4001, 4003, 4004, 4009, 4099])
def test_fatal_codes_stop_with_a_clear_reason(code):
    h = Harness()
    h.connect()
    h.close(code, "nope")
    assert h.core.state is State.FAILED
    assert f"code {code}" in h.states[-1].reason
    h.advance(3600)
    assert len(h.opened) == 1


def test_4200_reconnects_immediately():
    h = Harness()
    h.connect()
    h.close(4200, "server restarting")
    assert h.states[-1].retry_in == 0
    h.advance(0)
    assert len(h.opened) == 2


def test_back_off_grows_exponentially_with_jitter_and_is_capped():
    h = Harness(backoff_base=1, backoff_cap=8, unavailable_timeout=1000)
    h.core.connect(h.now)
    h.drain()
    delays = []
    for _ in range(7):
        h.core.socket_closed(h.gen, None, "could not connect", h.now)
        h.drain()
        delays.append(h.states[-1].retry_in)
        h.advance(h.states[-1].retry_in)
    assert all(0.5 <= d <= 1 for d in delays[:1])
    assert 2 <= delays[2] <= 4
    assert all(4 <= d <= 8 for d in delays[4:])


def test_4100_backs_off_at_least_a_second():
    h = Harness(backoff_base=0.1)
    h.connect()
    h.close(4100, "over capacity")
    assert h.states[-1].retry_in >= 1


def test_4000_switches_to_tls():
    h = Harness()
    h.core.use_tls = False
    h.connect()
    h.close(4000)
    h.advance(0)
    assert h.opened[-1].use_tls is True


def test_unavailable_after_ten_seconds_without_a_connection_and_keeps_trying():
    h = Harness(unavailable_timeout=10, backoff_base=1, backoff_cap=2)
    h.core.connect(h.now)
    h.drain()
    for _ in range(8):
        h.core.socket_closed(h.gen, None, "connection refused", h.now)
        h.drain()
        h.advance(h.states[-1].retry_in or 0.01)
    assert h.core.state is State.UNAVAILABLE
    assert "connection refused" in h.states[-1].reason or h.core.last_error
    h.core.socket_opened(h.gen, h.now)
    h.receive(established())
    assert h.core.state is State.CONNECTED


def test_stale_socket_messages_are_ignored():
    h = Harness()
    h.connect()
    old = h.gen
    h.close(1006)
    h.advance(5)
    h.core.socket_closed(old, 1006, "again", h.now)  # late news from the dead socket
    h.core.frames_received(old, [msg("e", "c", "x")], h.now)
    h.drain()
    assert len([s for s in h.states if s.retry_in is not None]) == 1
    assert h.events == []


def test_private_channel_is_authorized_then_subscribed_and_again_after_a_reconnect():
    h = Harness()
    h.core.subscribe("private-feed", h.now)
    h.connect("1.1")
    first = h.authorize()
    assert first.socket_id == "1.1"
    assert h.sent[-1]["event"] == "pusher:subscribe"
    assert h.sent[-1]["data"]["channel"] == "private-feed"
    h.receive(msg("pusher_internal:subscription_succeeded", "private-feed"))
    assert h.core.channels["private-feed"].subscribed
    h.close(1006)
    assert not h.core.channels["private-feed"].subscribed
    h.advance(h.states[-1].retry_in)
    h.core.socket_opened(h.gen, h.now)
    h.receive(established("2.2"))
    second = h.authorize()
    assert second.socket_id == "2.2"  # fresh auth for the new socket id, never the old signature
    assert h.sent[-1]["data"]["auth"] != h.sent[0]["data"]["auth"]


def test_stale_authorization_answers_are_ignored():
    h = Harness()
    h.core.subscribe("private-feed", h.now)
    h.connect("1.1")
    stale = h.auth.pop(0)
    h.close(4200)
    h.advance(0)
    h.core.socket_opened(h.gen, h.now)
    h.receive(established("2.2"))
    h.core.authorized("private-feed", stale.request, {"auth": "k:old"}, h.now)
    h.drain()
    assert not any(m["event"] == "pusher:subscribe" for m in h.sent)


def test_auth_failure_affects_that_channel_only():
    h = Harness()
    h.core.subscribe("private-a", h.now)
    h.core.subscribe("public-b", h.now)
    h.connect()
    request = h.auth.pop(0)
    h.core.authorized(request.channel, request.request, AuthFailure("forbidden", 403), h.now)
    h.drain()
    (error,) = h.named("pusher:subscription_error")
    assert error.channel == "private-a"
    assert error.data == {"type": "AuthError", "error": "forbidden", "status": 403, "code": None,
                          "reason": "authorization refused (HTTP 403): forbidden"}
    assert h.core.state is State.CONNECTED
    assert {"event": "pusher:subscribe", "data": {"channel": "public-b"}} in h.sent


@pytest.mark.parametrize(("channel", "body", "why"), [
    ("private-a", "garbage", "not a JSON object"),
    ("private-a", {"auth": 5}, "auth"),
    ("presence-a", {"auth": "k:s"}, "channel_data"),
    ("private-encrypted-a", {"auth": "k:s"}, "shared_secret"),
])
def test_garbage_authorization_answers_become_subscription_errors(channel, body, why):
    h = Harness()
    h.core.subscribe(channel, h.now)
    h.connect()
    request = h.auth.pop(0)
    h.core.authorized(channel, request.request, body if isinstance(body, dict) else AuthFailure(
        "the authorization endpoint's answer is not a JSON object", 200), h.now)
    h.drain()
    (error,) = h.named("pusher:subscription_error")
    assert why in error.data["error"]
    assert error.data["status"] == 200


def test_soketi_subscription_error_is_reported_on_the_channel():
    h = Harness()
    h.core.subscribe("private-a", h.now)
    h.connect()
    h.authorize()
    h.receive(msg("pusher:subscription_error", "private-a",
                  {"type": "AuthError", "error": "The connection is unauthorized.", "status": 401}))
    (error,) = h.named("pusher:subscription_error")
    assert error.data["status"] == 401
    assert h.core.state is State.CONNECTED


def test_pusher_bad_signature_error_is_mapped_to_the_channel_it_names():
    h = Harness()
    h.core.subscribe("private-a", h.now)
    h.connect()
    h.authorize()
    h.receive(msg("pusher:error", data={"code": None, "message": "Invalid signature: Expected HMAC SHA256 hex "
                                        "digest of 1.1:private-a, but got abc"}))
    assert h.named("pusher:subscription_error")[0].channel == "private-a"


def test_presence_members_join_leave_and_me():
    h = Harness()
    h.core.subscribe("presence-team", h.now)
    h.connect()
    h.authorize(channel_data={"user_id": "ada", "user_info": {"name": "Ada"}})
    roster = {"presence": {"ids": ["ada", "bob"], "hash": {"ada": {"name": "Ada"}, "bob": {"name": "Bob"}},
                           "count": 2}}
    h.receive(msg("pusher_internal:subscription_succeeded", "presence-team", roster))
    (ok,) = h.named("pusher:subscription_succeeded")
    assert ok.data["count"] == 2
    assert ok.data["me"] == {"id": "ada", "info": {"name": "Ada"}}
    h.receive(msg("pusher_internal:member_added", "presence-team", {"user_id": "cy", "user_info": {"name": "Cy"}}),
              msg("pusher_internal:member_added", "presence-team", {"user_id": "cy", "user_info": {"name": "Cy"}}),
              msg("pusher_internal:member_removed", "presence-team", {"user_id": "bob"}))
    assert [e.data["id"] for e in h.named("pusher:member_added")] == ["cy"]  # second connection of cy: no news
    assert [e.data["id"] for e in h.named("pusher:member_removed")] == ["bob"]
    members = h.core.channels["presence-team"].members
    assert set(members.by_id) == {"ada", "cy"}
    h.close(1006)
    assert members.count == 0


def test_encrypted_channel_decrypts_and_refetches_the_key_once_on_failure():
    master = nacl_random(32)
    h = Harness()
    h.core.subscribe("private-encrypted-x", h.now)
    h.connect()
    h.authorize(master_key=master)
    h.receive(msg("pusher_internal:subscription_succeeded", "private-encrypted-x"))
    from desktop.signing.signatures import shared_secret

    def sealed(payload, key):
        box = SecretBox(key)
        nonce = nacl_random(24)
        ct = box.encrypt(json.dumps(payload).encode(), nonce).ciphertext
        return {"nonce": base64.b64encode(nonce).decode(), "ciphertext": base64.b64encode(ct).decode()}

    good_key = shared_secret("private-encrypted-x", master)
    h.receive(msg("user-loggedIn", "private-encrypted-x", sealed({"n": 1}, good_key)))
    assert [e.data for e in h.events if e.event == "user-loggedIn"] == [{"n": 1}]
    # An event sealed with a key we do not have: hold it, ask once for a fresh key, then drop it.
    h.receive(msg("user-loggedIn", "private-encrypted-x", sealed({"n": 2}, nacl_random(32))))
    assert len(h.auth) == 1
    h.receive(msg("user-loggedIn", "private-encrypted-x", sealed({"n": 3}, good_key)))
    h.authorize(master_key=master)
    assert [e.data for e in h.events if e.event == "user-loggedIn"] == [{"n": 1}, {"n": 3}]
    assert h.core.channels["private-encrypted-x"].subscribed
    assert not [m for m in h.sent if m["event"] == "pusher:subscribe"][1:]  # a key refresh is not a resubscribe


def test_client_event_rules():
    h = Harness()
    h.core.subscribe("private-chat", h.now)
    h.core.subscribe("public", h.now)
    h.connect()
    with pytest.raises(ClientEventError, match="not subscribed"):
        h.core.trigger("private-chat", "client-typing", {}, h.now)
    h.authorize()
    h.receive(msg("pusher_internal:subscription_succeeded", "private-chat"),
              msg("pusher_internal:subscription_succeeded", "public"))
    with pytest.raises(ClientEventError, match="client-"):
        h.core.trigger("private-chat", "typing", {}, h.now)
    with pytest.raises(ClientEventError, match="private or presence"):
        h.core.trigger("public", "client-typing", {}, h.now)
    with pytest.raises(ClientEventError, match="10240 bytes"):
        h.core.trigger("private-chat", "client-big", "x" * 10241, h.now)
    for _ in range(10):
        h.core.trigger("private-chat", "client-typing", {"a": 1}, h.now)
    with pytest.raises(ClientEventError, match="10 client events per second"):
        h.core.trigger("private-chat", "client-typing", {}, h.now + 0.5)
    h.core.trigger("private-chat", "client-typing", {}, h.now + 1.0)
    h.drain()
    assert len([m for m in h.sent if m["event"] == "client-typing"]) == 11


def test_signin_then_server_to_user_events_and_again_after_reconnect():
    h = Harness()
    h.core.signin(h.now)
    h.connect()
    (user_auth,) = h.auth
    assert isinstance(user_auth, c.AuthorizeUser)
    h.auth.clear()
    h.core.user_authorized(user_auth.request, {"auth": "k:sig", "user_data": '{"id":"u1"}'}, h.now)
    h.drain()
    assert h.sent[-1] == {"event": "pusher:signin", "data": {"auth": "k:sig", "user_data": '{"id":"u1"}'}}
    h.receive(msg("pusher:signin_success", data={"user_data": '{"id":"u1"}'}))
    assert h.sent[-1] == {"event": "pusher:subscribe", "data": {"channel": "#server-to-user-u1"}}
    h.receive(msg("pusher_internal:subscription_succeeded", "#server-to-user-u1"),
              msg("hello", "#server-to-user-u1", {"x": 1}))
    assert h.named("hello")[0].channel == "#server-to-user-u1"
    h.close(4200)
    h.advance(0)
    h.core.socket_opened(h.gen, h.now)
    h.receive(established("3.3"))
    assert any(isinstance(a, c.AuthorizeUser) and a.socket_id == "3.3" for a in h.auth)


def test_cache_miss_and_subscription_count_are_reported():
    h = Harness()
    h.core.subscribe("cache-news", h.now)
    h.connect()
    h.receive(msg("pusher_internal:subscription_succeeded", "cache-news"),
              msg("pusher:cache_miss", "cache-news"),
              msg("pusher_internal:subscription_count", "cache-news", {"subscription_count": 7}))
    assert h.named("pusher:cache_miss")[0].channel == "cache-news"
    assert h.core.channels["cache-news"].subscription_count == 7


def test_malformed_frames_are_dropped_and_the_rest_of_the_batch_is_delivered(caplog):
    h = Harness()
    h.core.subscribe("feed", h.now)
    h.connect()
    h.receive(msg("pusher_internal:subscription_succeeded", "feed"))
    h.receive(b"{nope", b"[1,2]", msg("user-loggedIn", "feed", {"ok": True}), b'{"event":7}')
    assert [e.data for e in h.events if e.event == "user-loggedIn"] == [{"ok": True}]
    assert h.core.state is State.CONNECTED
    assert "malformed" in caplog.text


def test_disconnect_is_final_until_connect_and_resubscribes_then():
    h = Harness()
    h.core.subscribe("feed", h.now)
    h.connect()
    h.core.disconnect(h.now)
    h.drain()
    assert h.core.state is State.DISCONNECTED
    assert h.closed[-1].code == 1000
    h.advance(3600)
    assert len(h.opened) == 1
    h.connect("9.9")
    assert h.sent[-1] == {"event": "pusher:subscribe", "data": {"channel": "feed"}}


def test_invalid_channel_names_are_refused_up_front():
    h = Harness()
    for bad in ["", "#server-to-user-1", "has space", "x" * 165]:
        with pytest.raises(ValueError):
            h.core.subscribe(bad, h.now)


def test_a_client_event_that_is_not_valid_text_is_refused_not_fatal():
    h = Harness()
    h.core.subscribe("private-chat", h.now)
    h.connect()
    h.authorize()
    h.receive(msg("pusher_internal:subscription_succeeded", "private-chat"))
    with pytest.raises(ClientEventError, match="cannot be sent"):
        h.core.trigger("private-chat", "client-message-added", {"message": "bad \ud800"}, h.now)
