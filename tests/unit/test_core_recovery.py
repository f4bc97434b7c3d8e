"""Issue 9, points 8-11: recovery after restarts, key refreshes, the user channel, and saying what happened.

The pure core on a fake clock: each test failed on the engine as it was before the fix.
"""

from nacl.utils import random as nacl_random
from support.core_harness import Harness, established, msg, sealed

from desktop.pusher import core as c
from desktop.pusher.channels import AuthFailure, SubscriptionState
from desktop.pusher.core import Options, State
from desktop.signing.signatures import shared_secret

REFUSED = "could not connect: [Errno 111] Connection refused"


def retry_delays_through_a_graceful_restart(h: Harness, draining: int, down: int) -> list[float]:
    """soketi on SIGTERM: 4200 to every socket (and to each new one while it drains), then refused connections."""
    h.close(4200, "Server is closing. Please reconnect shortly.")
    delays = [h.states[-1].retry_in]
    for _ in range(draining):
        h.advance(delays[-1])
        h.core.socket_opened(h.gen, h.now)
        h.close(4200, "Server is closing. Please reconnect shortly.")
        delays.append(h.states[-1].retry_in)
    for _ in range(down):
        h.advance(delays[-1])
        h.close(None, REFUSED)
        delays.append(h.states[-1].retry_in)
    return delays


def test_a_graceful_restart_keeps_every_retry_within_the_short_cap_and_retries_at_once_first():
    h = Harness()
    h.connect()
    delays = retry_delays_through_a_graceful_restart(h, draining=25, down=120)
    assert delays[0] == 0  # 4200 after a good connection: reconnect at once
    assert all(d > 0 for d in delays[1:])  # but a server that keeps saying 4200 is not hammered in a loop
    assert max(delays) <= Options().backoff_cap <= 1.0  # never the 30 s that left the feed dark
    assert len({round(d, 6) for d in delays[-20:]}) > 1  # jitter: clients do not come back in step
    # The server is back: the next attempt connects, and the good connection resets the ladder.
    h.advance(delays[-1])
    h.core.socket_opened(h.gen, h.now)
    h.receive(established("2.2"))
    assert h.core.state is State.CONNECTED
    h.close(4200, "again")
    assert h.states[-1].retry_in == 0


def test_a_crash_retries_quickly_with_jitter_and_recovers_within_the_cap():
    h = Harness()
    h.connect()
    h.close(1006, "connection lost")
    delays = [h.states[-1].retry_in]
    for _ in range(200):
        h.advance(delays[-1])
        h.close(None, REFUSED)
        delays.append(h.states[-1].retry_in)
    assert 0 < delays[0] <= Options().backoff_base
    assert max(delays) <= Options().backoff_cap
    assert h.core.state is State.UNAVAILABLE
    assert "Connection refused" in h.states[-1].reason


def test_over_capacity_still_waits_at_least_a_second_and_fatal_codes_still_stop():
    h = Harness()
    h.connect()
    h.close(4100, "over capacity")
    assert h.states[-1].retry_in >= 1
    h.advance(h.states[-1].retry_in)
    h.core.socket_opened(h.gen, h.now)
    h.close(4001, "no such app")
    assert h.core.state is State.FAILED


# -- point 9: encrypted channels keep fetching keys, within a bound -----------------------------------------
CHANNEL = "private-encrypted-feed"


def encrypted_harness() -> tuple[Harness, bytes]:
    master = nacl_random(32)
    h = Harness()
    h.core.subscribe(CHANNEL, h.now)
    h.connect()
    h.authorize(master_key=master)
    h.receive(msg("pusher_internal:subscription_succeeded", CHANNEL))
    return h, master


def event(payload: object, key: bytes) -> bytes:
    return msg("user-loggedIn", CHANNEL, sealed(payload, key))


def delivered(h: Harness) -> list[object]:
    return [e.data for e in h.events if e.event == "user-loggedIn"]


def fail_key_fetch(h: Harness) -> None:
    request = h.auth.pop(0)
    h.core.authorized(request.channel, request.request, AuthFailure("auth endpoint down", 502), h.now)
    h.drain()


def test_after_a_failed_key_fetch_the_next_failing_event_fetches_again():
    h, _ = encrypted_harness()
    rotated = nacl_random(32)
    h.receive(event({"n": 1}, shared_secret(CHANNEL, rotated)))
    assert len(h.auth) == 1
    fail_key_fetch(h)
    assert delivered(h) == []
    h.advance(2)
    h.receive(event({"n": 2}, shared_secret(CHANNEL, rotated)))
    assert len(h.auth) == 1, "a failed fetch must not stop the channel from fetching keys for good"
    h.authorize(master_key=rotated)
    assert delivered(h) == [{"n": 2}]
    h.receive(event({"n": 3}, shared_secret(CHANNEL, rotated)))
    assert delivered(h) == [{"n": 2}, {"n": 3}]


def test_key_fetches_are_one_at_a_time_and_at_most_one_a_second():
    h, master = encrypted_harness()
    good = shared_secret(CHANNEL, master)
    for n in range(50):
        h.receive(event({"n": n}, nacl_random(32)))  # garbage for a while
    h.receive(event({"n": "good"}, good))
    assert len(h.auth) == 1  # one fetch in flight, the rest wait behind it
    h.authorize(master_key=master)  # the key did not change: the garbage is dropped, the good one delivered
    assert delivered(h) == [{"n": "good"}]
    h.receive(event({"n": "bad"}, nacl_random(32)), event({"n": "later"}, good))
    assert h.auth == []  # within a second of the last fetch: held, not fetched
    assert delivered(h) == [{"n": "good"}]  # and held in order behind the failing one
    h.advance(1.0)
    assert len(h.auth) == 1
    h.authorize(master_key=master)
    assert delivered(h) == [{"n": "good"}, {"n": "later"}]


def test_a_reconnect_starts_the_key_fetching_afresh():
    h, _ = encrypted_harness()
    rotated = nacl_random(32)
    h.receive(event({"n": 1}, shared_secret(CHANNEL, rotated)))
    fail_key_fetch(h)
    h.receive(event({"n": 2}, shared_secret(CHANNEL, rotated)))  # within the second: held
    h.close(1006, "lost")
    h.advance(h.states[-1].retry_in)
    h.core.socket_opened(h.gen, h.now)
    h.receive(established("2.2"))
    h.authorize(master_key=rotated)  # the resubscription brings the new key: the held event opens
    assert delivered(h) == [{"n": 2}]
    h.receive(msg("pusher_internal:subscription_succeeded", CHANNEL))
    third = nacl_random(32)
    h.receive(event({"n": 3}, shared_secret(CHANNEL, third)))
    assert len(h.auth) == 1  # a fresh connection may fetch at once
    h.authorize(master_key=third)
    assert delivered(h) == [{"n": 2}, {"n": 3}]


# -- point 10: the user channel, once, after sign-in ------------------------------------------------------
def test_after_a_reconnect_the_user_channel_is_subscribed_once_after_signin_success():
    h = Harness()
    h.core.signin(h.now)
    for socket_id in ("1.1", "2.2"):
        start = len(h.sent)
        if socket_id == "1.1":
            h.connect(socket_id)
        else:
            h.close(4200, "restart")
            h.advance(0)
            h.core.socket_opened(h.gen, h.now)
            h.receive(established(socket_id))
        user_auth = h.auth.pop()
        assert isinstance(user_auth, c.AuthorizeUser)
        assert user_auth.socket_id == socket_id
        h.core.user_authorized(user_auth.request, {"auth": "k:sig", "user_data": '{"id":"u1"}'}, h.now)
        h.drain()
        assert [m for m in h.sent[start:] if m["event"] == "pusher:subscribe"] == []  # not before sign-in
        h.receive(msg("pusher:signin_success", data={"user_data": '{"id":"u1"}'}))
        h.receive(msg("pusher:signin_success", data={"user_data": '{"id":"u1"}'}))  # a repeat changes nothing
        subscribes = [m for m in h.sent[start:] if m["event"] == "pusher:subscribe"]
        assert subscribes == [{"event": "pusher:subscribe", "data": {"channel": "#server-to-user-u1"}}]


# -- point 11: say what happened ---------------------------------------------------------------------------
def test_a_ping_timeout_is_reported_as_a_ping_timeout():
    h = Harness(pong_timeout=30)
    h.connect()
    h.advance(31)
    h.advance(31)
    assert h.closed[-1].code == 4201
    reason = h.states[-1].reason
    assert reason.startswith("ping timeout")
    assert "asked us to reconnect" not in reason
    assert h.core.last_error == reason
    assert h.states[-1].retry_in == 0


def test_a_server_close_says_its_code_and_meaning():
    h = Harness()
    h.connect()
    h.close(4200, "Server is closing")
    assert h.states[-1].reason == "code 4200: the server asked us to reconnect: Server is closing"


def test_a_server_refusal_with_a_pusher_code_is_not_an_http_status():
    h = Harness()
    h.core.subscribe("private-a", h.now)
    h.connect()
    h.authorize()
    h.receive(msg("pusher:subscription_error", "private-a",
                  {"type": "AuthError", "error": "The channel name is not allowed.", "status": 4009}))
    (error,) = h.named("pusher:subscription_error")
    assert error.data["type"] == "ServerRefused"
    assert error.data["status"] is None
    assert error.data["code"] == 4009
    assert error.data["reason"] == ("the server refused the subscription (code 4009: connection is unauthorized): "
                                    "The channel name is not allowed.")


def test_an_authorizer_refusal_names_the_http_status_and_the_failure_stays_until_a_success():
    h = Harness()
    h.core.subscribe("private-a", h.now)
    h.connect()
    request = h.auth.pop(0)
    h.core.authorized(request.channel, request.request, AuthFailure("forbidden", 403), h.now)
    h.drain()
    (error,) = h.named("pusher:subscription_error")
    assert error.data["reason"] == "authorization refused (HTTP 403): forbidden"
    channel = h.core.channels["private-a"]
    assert channel.state is SubscriptionState.FAILED
    h.close(1006, "lost")  # reconnecting and trying again does not hide the failure ...
    h.advance(h.states[-1].retry_in)
    h.core.socket_opened(h.gen, h.now)
    h.receive(established("2.2"))
    assert channel.state is SubscriptionState.AUTHORIZING
    assert channel.last_error is not None
    assert channel.last_error.describe() == "authorization refused (HTTP 403): forbidden"
    h.authorize()
    h.receive(msg("pusher_internal:subscription_succeeded", "private-a"))
    assert channel.last_error is None  # ... only a success does


def test_an_authorizer_that_cannot_be_reached_has_no_http_status():
    h = Harness()
    h.core.subscribe("private-a", h.now)
    h.connect()
    request = h.auth.pop(0)
    h.core.authorized(request.channel, request.request, AuthFailure("timed out after 10 s"), h.now)
    h.drain()
    assert h.named("pusher:subscription_error")[0].data["reason"] == "authorization failed: timed out after 10 s"
