"""Feed event normalisation: v1 and legacy payloads, everything else unrecognised, never a crash."""

from __future__ import annotations

import copy
import json
import sys
import threading
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from support.payloads import action_payload

from desktop.feed.events import (
    FEED_EVENT_NAMES,
    MAX_FIELD_CHARS,
    FeedEvent,
    format_utc,
    normalise,
    to_json_dict,
    to_text_line,
)

CHANNEL = "private-login-feed"
RECEIVED = 1_795_237_262.123_9  # 2026-11-21T05:01:02.123Z
RECEIVED_TEXT = "2026-11-21T05:01:02.123Z"


def v1(**overrides: Any) -> dict[str, Any]:
    return action_payload(**overrides)


def auth0_user(**overrides: Any) -> dict[str, Any]:
    """What the original rule published: the whole Auth0 user object plus ``country``."""
    user: dict[str, Any] = {
        "created_at": "2026-11-20T09:12:44.512Z",
        "email": "grace@example.com",
        "email_verified": True,
        "family_name": "Hopper",
        "given_name": "Grace",
        "identities": [
            {
                "provider": "google-oauth2",
                "access_token": "ya29.redacted",
                "expires_in": 3599,
                "user_id": "108234567890123456789",
                "connection": "google-oauth2",
                "isSocial": True,
            }
        ],
        "locale": "en",
        "name": "Grace Hopper",
        "nickname": "grace",
        "picture": "https://lh3.googleusercontent.com/a/photo.jpg",
        "updated_at": "2026-11-21T05:01:02.456Z",
        "user_id": "google-oauth2|108234567890123456789",
        "user_metadata": {},
        "app_metadata": {},
        "last_ip": "198.51.100.23",
        "last_login": "2026-11-21T05:01:02.400Z",
        "logins_count": 7,
        "blocked_for": [],
        "guardian_authenticators": [],
        "country": "United States",
    }
    user.update(overrides)
    return user


# --- v1 ----------------------------------------------------------------------------------------------


def test_received_at_is_utc_milliseconds() -> None:
    assert format_utc(RECEIVED) == RECEIVED_TEXT
    assert format_utc(0) == "1970-01-01T00:00:00.000Z"


def test_format_utc_gives_each_thread_its_own_time() -> None:
    """The engine thread stamps batches while the history thread formats its cut-off (issue 9, point 16):
    a call must never return the time another thread asked for.

    Hammering it from two threads does not show a shared cache's race on CPython 3.11 (the GIL never
    switches between the cache check and the return), but a free-threaded build or a later interpreter may.
    So the interleaving is forced: thread A is stopped at its n-th line inside ``format_utc`` (for every n),
    and thread B makes a whole call with another time right there, before A goes on."""
    mine, mine_text = RECEIVED, RECEIVED_TEXT
    other, other_text = 0.0, "1970-01-01T00:00:00.000Z"
    code = format_utc.__code__

    def run_a(stop_at: int, results: list[str], others: list[str]) -> None:
        lines = 0

        def local(frame: Any, event: str, arg: Any) -> Any:
            nonlocal lines
            if event == "line":
                lines += 1
                if lines == stop_at:  # A is preempted here: B formats its own time to the end
                    b = threading.Thread(target=lambda: others.append(format_utc(other)))
                    b.start()
                    b.join(30)
            return local

        def tracer(frame: Any, event: str, arg: Any) -> Any:
            return local if frame.f_code is code else None

        format_utc(mine)  # a batch before: the same time again is what a cache would answer
        sys.settrace(tracer)
        try:
            results.append(format_utc(mine))
        finally:
            sys.settrace(None)

    for stop_at in range(1, 12):
        results: list[str] = []
        others: list[str] = []
        a = threading.Thread(target=run_a, args=(stop_at, results, others))
        a.start()
        a.join(30)
        assert results == [mine_text], f"stopped at line {stop_at}: got {results}"
        assert others in ([], [other_text])


def test_v1_signup() -> None:
    payload = v1()
    ev = normalise("user-signedUp", CHANNEL, payload, RECEIVED)
    assert ev == FeedEvent(
        event="user-signedUp",
        channel=CHANNEL,
        type="signup",
        user_id="auth0|6560a1b2c3d4e5f6a7b8c9d0",
        email="ada@example.com",
        name="Ada Lovelace",
        nickname="ada",
        picture="https://s.gravatar.com/avatar/0f1e2d.png",
        connection="Username-Password-Authentication",
        client_name="My App",
        country="GB",
        city="London",
        ip="203.0.113.7",
        logins_count=1,
        at="2026-11-21T05:01:02.123Z",
        received_at=RECEIVED_TEXT,
        data=payload,
        reason=None,
    )
    assert ev.data is payload


def test_v1_login() -> None:
    ev = normalise("user-loggedIn", CHANNEL, v1(type="login", logins_count=12), RECEIVED)
    assert (ev.type, ev.logins_count, ev.reason) == ("login", 12, None)


def test_v1_type_wins_over_the_event_name() -> None:
    assert normalise("user-signedUp", CHANNEL, v1(type="login"), RECEIVED).type == "login"


def test_v1_timestamp_is_normalised_to_utc() -> None:
    assert normalise("user-loggedIn", CHANNEL, v1(at="2026-11-21T06:01:02+01:00"), RECEIVED).at == (
        "2026-11-21T05:01:02.000Z"
    )
    assert normalise("user-loggedIn", CHANNEL, v1(at="2026-11-21T05:01:02"), RECEIVED).at == (
        "2026-11-21T05:01:02.000Z"
    )
    assert normalise("user-loggedIn", CHANNEL, v1(at="yesterday"), RECEIVED).at is None
    assert normalise("user-loggedIn", CHANNEL, v1(at=1_795_237_262), RECEIVED).at is None


def test_v1_wrong_field_types_are_coerced() -> None:
    ev = normalise(
        "user-loggedIn",
        CHANNEL,
        v1(name=["Ada"], nickname={"x": 1}, country=True, city=3.5, user_id=12345, logins_count="7", ip=None),
        RECEIVED,
    )
    assert ev.type == "signup"
    assert (ev.name, ev.nickname, ev.country, ev.city, ev.ip) == (None, None, None, None, None)
    assert ev.user_id == "12345"
    assert ev.logins_count is None


@pytest.mark.parametrize(("count", "expected"), [(3.0, 3), (-1, None), (True, None), (2**70, None), (0, 0)])
def test_logins_count(count: object, expected: int | None) -> None:
    assert normalise("user-loggedIn", CHANNEL, v1(logins_count=count), RECEIVED).logins_count == expected


# --- legacy ------------------------------------------------------------------------------------------


def test_legacy_login() -> None:
    user = auth0_user()
    ev = normalise("user-loggedIn", "auth0", user, RECEIVED)
    assert ev.type == "login"
    assert ev.user_id == "google-oauth2|108234567890123456789"
    assert (ev.email, ev.name, ev.nickname) == ("grace@example.com", "Grace Hopper", "grace")
    assert ev.picture == "https://lh3.googleusercontent.com/a/photo.jpg"
    assert ev.connection == "google-oauth2"
    assert ev.country == "United States"
    assert ev.ip == "198.51.100.23"
    assert ev.logins_count == 7
    assert ev.at == "2026-11-21T05:01:02.400Z"
    assert ev.client_name is None
    assert ev.reason is None
    assert ev.data is user


def test_legacy_signup_falls_back_to_updated_then_created() -> None:
    user = auth0_user(logins_count=1, identities=[{"connection": "Username-Password-Authentication"}])
    del user["last_login"]
    ev = normalise("user-signedUp", "auth0", user, RECEIVED)
    assert (ev.type, ev.connection, ev.logins_count) == ("signup", "Username-Password-Authentication", 1)
    assert ev.at == "2026-11-21T05:01:02.456Z"
    del user["updated_at"]
    assert normalise("user-signedUp", "auth0", user, RECEIVED).at == "2026-11-20T09:12:44.512Z"


@pytest.mark.parametrize("identities", [None, [], "google", [None], [{"connection": 5}], {"0": {}}])
def test_legacy_odd_identities(identities: object) -> None:
    ev = normalise("user-loggedIn", "auth0", auth0_user(identities=identities), RECEIVED)
    assert ev.type == "login"
    assert ev.connection is None


def test_legacy_with_only_an_email_is_enough() -> None:
    ev = normalise("user-loggedIn", "auth0", {"email": "x@example.com"}, RECEIVED)
    assert (ev.type, ev.email, ev.user_id) == ("login", "x@example.com", None)


# --- unrecognised ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "data", "reason"),
    [
        ("message-added", {"message": "hi", "name": "Bo"}, "not a feed event"),
        ("user-deleted", v1(), "not a feed event"),
        ("", v1(), "not a feed event"),
        ("user-signedUp", "not json at all", "payload is a string, not an object"),
        ("user-signedUp", '{"v":1}', "payload is a string, not an object"),
        ("user-signedUp", [v1()], "payload is a list, not an object"),
        ("user-signedUp", None, "payload is empty, not an object"),
        ("user-signedUp", 42, "payload is a number, not an object"),
        ("user-signedUp", {}, "neither user_id nor email"),
        ("user-signedUp", {"country": "GB"}, "neither user_id nor email"),
        ("user-signedUp", {"user_id": None, "email": ["a@b"]}, "neither user_id nor email"),
        ("user-signedUp", v1(user_id=None, email=""), "neither user_id nor email"),
        ("user-signedUp", v1(type="delete"), "v1 payload without type"),
        ("user-signedUp", v1(type=None), "v1 payload without type"),
        ("user-signedUp", v1(type=["signup"]), "v1 payload without type"),
        ("user-signedUp", v1(v=2), "unsupported payload version"),
        ("user-signedUp", v1(v="1"), "unsupported payload version"),
        ("user-signedUp", v1(v=True), "unsupported payload version"),
        ("user-signedUp", v1(v=None), "unsupported payload version"),
    ],
)
def test_unrecognised(event: str, data: object, reason: str) -> None:
    before = copy.deepcopy(data)
    ev = normalise(event, CHANNEL, data, RECEIVED)
    assert ev.type == "unrecognised"
    assert ev.reason is not None and reason in ev.reason
    assert ev.data == before
    assert (ev.user_id, ev.email, ev.name, ev.logins_count, ev.at) == (None, None, None, None, None)
    assert ev.received_at == RECEIVED_TEXT
    assert "\n" not in to_text_line(ev)


def test_non_string_event_and_channel_do_not_crash() -> None:
    ev = normalise(None, 5, v1(), RECEIVED)  # type: ignore[arg-type]
    assert (ev.event, ev.channel, ev.type) == ("", "", "unrecognised")


def test_hostile_mapping_is_unrecognised() -> None:
    class Hostile(dict[str, object]):
        def get(self, key: object, default: object = None) -> object:
            raise RuntimeError("boom")

    ev = normalise("user-signedUp", CHANNEL, Hostile(v=1), RECEIVED)
    assert ev.type == "unrecognised"


def test_huge_strings_are_truncated_but_data_is_untouched() -> None:
    name = "A" * 1_000_000
    payload = v1(name=name, email="e" * 5000 + "@example.com")
    ev = normalise("user-signedUp", CHANNEL, payload, RECEIVED)
    assert ev.name is not None and len(ev.name) == MAX_FIELD_CHARS and ev.name.endswith("…")
    assert ev.email is not None and len(ev.email) == MAX_FIELD_CHARS
    assert ev.data["name"] is name  # type: ignore[index]
    exact = "B" * MAX_FIELD_CHARS
    assert normalise("user-signedUp", CHANNEL, v1(name=exact), RECEIVED).name == exact
    assert len(to_text_line(ev)) < 5 * MAX_FIELD_CHARS


def test_huge_event_name_is_truncated() -> None:
    ev = normalise("x" * 10_000, CHANNEL, None, RECEIVED)
    assert len(ev.event) == MAX_FIELD_CHARS


def test_huge_integers_are_not_stringified() -> None:
    ev = normalise("user-signedUp", CHANNEL, v1(user_id=10**5000), RECEIVED)
    assert ev.user_id is None
    assert ev.email == "ada@example.com"


def test_lone_surrogates_are_replaced_in_fields() -> None:
    ev = normalise("user-signedUp", CHANNEL, json.loads('{"v":1,"type":"signup","email":"a\\ud800@x"}'), RECEIVED)
    assert ev.email == "a\ufffd@x"
    ev.email.encode("utf-8")


# --- output shapes -----------------------------------------------------------------------------------


def test_json_dict_has_every_field_and_is_serialisable() -> None:
    payload = v1()
    ev = normalise("user-signedUp", CHANNEL, payload, RECEIVED)
    out = to_json_dict(ev)
    assert list(out) == [
        "event", "channel", "type", "user_id", "email", "name", "nickname", "picture", "connection",
        "client_name", "country", "city", "ip", "logins_count", "at", "received_at", "data", "reason",
        "log_id", "cursor", "kind", "outcome", "label", "code", "device",
    ]  # fmt: skip
    assert out["data"] is payload
    assert json.loads(json.dumps(out)) == out


def test_text_line() -> None:
    ev = normalise("user-signedUp", CHANNEL, v1(), RECEIVED)
    assert to_text_line(ev) == (
        "2026-11-21T05:01:02.123Z  SIGN UP  Ada Lovelace <ada@example.com>  GB  Username-Password-Authentication/My App"
    )


def test_text_line_variants() -> None:
    login = normalise("user-loggedIn", "auth0", auth0_user(country=None), RECEIVED)
    assert to_text_line(login) == (
        "2026-11-21T05:01:02.400Z  LOG IN   Grace Hopper <grace@example.com>  -  google-oauth2"
    )
    # Database users often have name == email: show it once.
    same = normalise("user-loggedIn", CHANNEL, v1(type="login", name="ada@example.com"), RECEIVED)
    assert "  <ada@example.com>  " in to_text_line(same)
    bare = normalise("user-loggedIn", CHANNEL, {"v": 1, "type": "login", "user_id": "u1", "at": None}, RECEIVED)
    assert to_text_line(bare) == f"{RECEIVED_TEXT}  LOG IN   u1  -  -"
    odd = normalise("user-deleted", CHANNEL, {}, RECEIVED)
    assert to_text_line(odd) == f"{RECEIVED_TEXT}  UNRECOGNISED  user-deleted on {CHANNEL}: not a feed event"


@pytest.mark.parametrize(
    "evil",
    ["Ada\nLovelace", "Ada\r\nEve", "a\u2028b", "a\u2029b", "a\x85b", "a\x0bb", "a\x0cb", "a\x1cb", "\x1b[2J"],
)
def test_text_line_is_always_one_line(evil: str) -> None:
    ev = normalise("user-signedUp", CHANNEL, v1(name=evil, country=evil, client_name=evil), RECEIVED)
    line = to_text_line(ev)
    assert len(line.splitlines()) == 1
    assert "\x1b" not in line


def test_text_line_neutralises_bidi_overrides() -> None:
    ev = normalise("user-signedUp", CHANNEL, v1(name="\u202egnp.exe"), RECEIVED)
    assert "\u202e" not in to_text_line(ev)


def test_plain_text_markup_is_kept_literally() -> None:
    ev = normalise("user-signedUp", CHANNEL, v1(name="<img src=x>"), RECEIVED)
    assert ev.name == "<img src=x>"
    assert "<img src=x>" in to_text_line(ev)


def test_event_is_hashable_and_frozen() -> None:
    ev = normalise("user-signedUp", CHANNEL, v1(), RECEIVED)
    assert isinstance(hash(ev), int)
    with pytest.raises(AttributeError):
        ev.name = "x"  # type: ignore[misc]


# --- property: never raises --------------------------------------------------------------------------

_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text()
    | st.sampled_from(["signup", "login", "2026-11-21T05:01:02.123Z", "", "\n"])
)
_json = st.recursive(
    _scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
_FEED_KEYS = (
    *("v", "type", "user_id", "email", "name", "nickname", "picture", "connection", "client_name"),
    *("country", "city", "ip", "logins_count", "at", "identities", "last_login", "updated_at"),
    *("created_at", "last_ip"),
)
_feedish = st.fixed_dictionaries({}, optional=dict.fromkeys(_FEED_KEYS, _json))
_event_names = st.sampled_from(FEED_EVENT_NAMES) | st.text(max_size=20)


@given(
    event=_event_names,
    channel=st.text(max_size=20),
    data=_json | _feedish | _feedish.map(lambda d: {**d, "v": 1}),
    received_at=st.floats(min_value=0, max_value=4_102_444_800),
)
def test_normalise_never_raises(event: str, channel: str, data: object, received_at: float) -> None:
    ev = normalise(event, channel, data, received_at)
    assert ev.type in {"signup", "login", "unrecognised"} or ev.log_id is not None
    assert ev.reason != "could not read the payload"  # the safety net is not what saved us
    if ev.log_id is None:
        assert (ev.type == "unrecognised") == (ev.reason is not None)
    assert ev.data is data
    line = to_text_line(ev)
    assert len(line.splitlines()) == 1
    line.encode("utf-8")
    json.dumps(to_json_dict(ev))
    for value in to_json_dict(ev).values():
        if isinstance(value, str) and value is not data:
            assert len(value) <= MAX_FIELD_CHARS + len("2026-11-21T05:01:02.123Z")


# --- event v2 (the tenant log) --------------------------------------------------------------------------


def test_v2_failed_login_keeps_label_reason_device_and_place() -> None:
    from support.v2_events import v2_payload

    payload = v2_payload("fp", 7)
    ev = normalise("log-event", CHANNEL, payload, RECEIVED)
    assert (ev.type, ev.kind, ev.outcome, ev.code) == ("login_failed", "login_failed", "failure", "fp")
    assert ev.label == "Failed login (wrong password)"
    assert ev.reason == "Wrong email or password."
    assert (ev.log_id, ev.cursor) == ("log-7", "7")
    assert ev.device == "Chrome 120 / macOS"
    assert ev.ip == "81.2.69.143" and ev.name == "new@test.com" and ev.email == "new@test.com"
    assert ev.at == "2021-11-03T08:25:14.466Z"
    assert ev.data is payload
    line = to_text_line(ev)
    assert "FAILED" in line and "Failed login (wrong password) — Wrong email or password." in line


def test_v2_unknown_kind_is_shown_as_other_with_its_label() -> None:
    payload = {"v": 2, "log_id": "L1", "cursor": "3", "kind": "quantum_login", "outcome": "maybe",
               "label": "Quantum login", "code": "qz", "at": "2026-11-21T05:00:00.000Z"}
    ev = normalise("log-event", CHANNEL, payload, RECEIVED)
    assert (ev.type, ev.kind, ev.outcome, ev.label) == ("other", "quantum_login", None, "Quantum login")
    assert ev.reason is None


@pytest.mark.parametrize(("data", "why"), [
    ({"v": 2, "kind": "login"}, "v2 event without log_id"),
    ({"v": 3, "log_id": "x"}, "unsupported payload version"),
    ({"v": True, "log_id": "x"}, "unsupported payload version"),
    ([1, 2], "payload is a list, not an object"),
])
def test_v2_that_cannot_be_read_is_unrecognised(data: object, why: str) -> None:
    ev = normalise("log-event", CHANNEL, data, RECEIVED)
    assert (ev.type, ev.reason) == ("unrecognised", why)


_V2_KEYS = ("v", "log_id", "cursor", "code", "kind", "outcome", "label", "reason", "user_id", "user_name", "email",
            "client_name", "connection", "ip", "country", "city", "device", "logins_count", "at")
_v2ish = st.fixed_dictionaries({"v": st.just(2)}, optional=dict.fromkeys(_V2_KEYS[1:], _json))


@given(data=_json | _v2ish, received_at=st.floats(min_value=0, max_value=4_102_444_800))
def test_v2_normalise_never_raises(data: object, received_at: float) -> None:
    ev = normalise("log-event", CHANNEL, data, received_at)
    assert (ev.type == "unrecognised") == (ev.log_id is None)
    assert len(to_text_line(ev).splitlines()) == 1
    json.dumps(to_json_dict(ev))


def test_feed_event_construction_keeps_the_dataclass_contract() -> None:
    """FeedEvent's faster __init__ takes the same keywords and defaults and leaves the event frozen."""
    import dataclasses

    ev = FeedEvent(event="user-loggedIn", channel="auth0", type="login", received_at="r", data={"a": 1},
                   email="a@b.c")
    assert ev == FeedEvent(event="user-loggedIn", channel="auth0", type="login", received_at="r", data={"a": 1},
                           email="a@b.c")
    assert all(getattr(ev, f.name) is None for f in dataclasses.fields(FeedEvent)
               if f.name not in {"event", "channel", "type", "received_at", "data", "email"})
    with pytest.raises(dataclasses.FrozenInstanceError):
        ev.email = "x@y.z"  # type: ignore[misc]
    with pytest.raises(TypeError):
        FeedEvent(event="e", channel="c", type="login", received_at="r")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        FeedEvent(event="e", channel="c", type="login", received_at="r", data=None, nope=1)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        FeedEvent("e", "c", "login", received_at="r", data=None)  # type: ignore[misc]
