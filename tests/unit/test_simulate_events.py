"""``SampleEvents``: realistic v1 payloads, about one signup in ten, returning users, deterministic with a seed."""

from __future__ import annotations

import ipaddress
import itertools
import json
import re
from collections import Counter
from datetime import UTC, datetime

import pytest

from desktop.feed.events import normalise
from desktop.simulate.data import CULTURES
from desktop.simulate.people import LOGIN_EVENT, SIGNUP_EVENT, SampleEvents, iso_utc_ms

NOW = 1_795_237_262.123  # 2026-11-21T05:01:02.123Z
V1_KEYS = {"v", "type", "user_id", "email", "name", "nickname", "picture", "connection", "client_name", "country",
           "city", "ip", "logins_count", "at", "updated_at", "app_metadata"}
ID_PATTERNS = {
    "Username-Password-Authentication": re.compile(r"auth0\|[0-9a-f]{24}"),
    "google-oauth2": re.compile(r"google-oauth2\|[0-9]{21}"),
    "github": re.compile(r"github\|[0-9]{6,9}"),
}
DOC_NETWORKS = [ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")]
ISO_MS_Z = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
EMAIL = re.compile(r"[a-z0-9._-]+@([a-z0-9-]+\.)*(example\.(com|org|net)|[a-z0-9-]+\.example)")


class FakeClock:
    def __init__(self, start: float = NOW, step: float = 0.0) -> None:
        self.now = start
        self.step = step

    def __call__(self) -> float:
        value = self.now
        self.now += self.step
        return value


@pytest.fixture(scope="module")
def ten_thousand() -> list[tuple[str, dict]]:
    return SampleEvents(2026, clock=FakeClock(step=0.0137)).take(10_000)


def test_every_payload_has_the_v1_fields_with_the_right_types(ten_thousand) -> None:
    for name, payload in ten_thousand:
        assert set(payload) == V1_KEYS
        assert payload["v"] == 1 and type(payload["v"]) is int
        signup = payload["type"] == "signup"
        assert name == (SIGNUP_EVENT if signup else LOGIN_EVENT)
        assert payload["app_metadata"] == {"signedUp": signup}
        for key in ("user_id", "email", "name", "nickname", "picture", "connection", "client_name", "country",
                    "city", "ip", "at", "updated_at"):
            assert isinstance(payload[key], str) and payload[key], key
        assert type(payload["logins_count"]) is int
        assert payload["logins_count"] == 1 if signup else payload["logins_count"] >= 2
        assert ID_PATTERNS[payload["connection"]].fullmatch(payload["user_id"]), payload
        assert re.fullmatch(r"[A-Z]{2}", payload["country"])
        assert any(ipaddress.ip_address(payload["ip"]) in net for net in DOC_NETWORKS)
        assert EMAIL.fullmatch(payload["email"]), payload["email"]
        assert payload["picture"].startswith("https://")
        assert ISO_MS_Z.fullmatch(payload["at"]) and payload["updated_at"] == payload["at"]


def test_about_one_in_ten_is_a_signup(ten_thousand) -> None:
    signups = sum(1 for name, _ in ten_thousand if name == SIGNUP_EVENT)
    assert 800 <= signups <= 1200  # 10 % +- 2 % of 10,000


def test_signup_ratio_is_configurable() -> None:
    events = SampleEvents(1, clock=FakeClock(), signup_ratio=0.5).take(4000)
    assert 1800 <= sum(1 for name, _ in events if name == SIGNUP_EVENT) <= 2200
    assert all(name == LOGIN_EVENT for name, _ in SampleEvents(1, clock=FakeClock(), signup_ratio=0).take(500))
    with pytest.raises(ValueError, match="between 0 and 1"):
        SampleEvents(1, signup_ratio=1.5)


def test_every_payload_normalises_to_a_signup_or_a_login(ten_thousand) -> None:
    for name, payload in ten_thousand:
        # The way it travels: JSON text on the wire, decoded by the client.
        event = normalise(name, "private-login-feed", json.loads(json.dumps(payload)), NOW)
        assert event.type == payload["type"], event.reason
        assert (event.user_id, event.email, event.name, event.country) == (
            payload["user_id"], payload["email"], payload["name"], payload["country"])
        assert event.at == payload["at"]
        assert event.logins_count == payload["logins_count"]


def test_names_come_from_many_cultures_and_scripts(ten_thousand) -> None:
    names = {payload["name"] for _, payload in ten_thousand}
    assert len(names) > 300
    assert sum(1 for n in names if not n.isascii()) > 100
    scripts = {"Cyrillic": "\u0400-\u04ff", "Arabic": "\u0600-\u06ff", "Hebrew": "\u0590-\u05ff",
               "CJK": "\u4e00-\u9fff", "Hangul": "\uac00-\ud7af", "Greek": "\u0370-\u03ff"}
    for script, letters in scripts.items():
        assert any(re.search(f"[{letters}]", n) for n in names), script
    assert any("'" in n for n in names)  # O'Brien, D'Angelo, N'Diaye
    assert any("-" in n for n in names)
    assert len({payload["country"] for _, payload in ten_thousand}) >= 40


def test_the_named_examples_can_all_occur() -> None:
    seen = {payload["name"] for _, payload in SampleEvents(5, clock=FakeClock()).take(60_000)}
    for name in ("Zoë Müller", "Nguyễn Văn An", "Søren Kierkegaard"):
        assert name in seen, name
    assert any(n.endswith(" O'Brien") for n in seen)


def test_email_spelling_folds_accents_and_keeps_addresses_unique() -> None:
    # Memory stays bounded on endless runs: people leave the pool of returning users (max_pool), and their
    # addresses may then be given to someone new. Within the pool, an address belongs to one person.
    events = SampleEvents(2026, clock=FakeClock(), max_pool=5000).take(10_000)
    people = {payload["user_id"]: payload for _, payload in events}
    emails = [p["email"] for p in people.values()]
    assert len(emails) == len(set(emails))
    zoe = [p for p in people.values() if p["name"].startswith("Zoë ")]
    assert zoe and all(p["email"].startswith(("zoe", "z.")) for p in zoe)


def test_returning_users_log_in_again_with_a_growing_count(ten_thousand) -> None:
    logins = [payload for name, payload in ten_thousand if name == LOGIN_EVENT]
    per_user = Counter(p["user_id"] for p in logins)
    assert per_user.most_common(1)[0][1] >= 10  # the same people come back
    assert len(per_user) < len(logins) / 5
    for user_id in list(per_user)[:50]:
        counts = [p["logins_count"] for p in logins if p["user_id"] == user_id]
        assert counts == sorted(counts) and len(set(counts)) == len(counts)
        same = {(p["email"], p["name"], p["connection"]) for p in logins if p["user_id"] == user_id}
        assert len(same) == 1


def test_people_who_sign_up_come_back_later_as_logins(ten_thousand) -> None:
    signed_up = {payload["user_id"] for name, payload in ten_thousand if name == SIGNUP_EVENT}
    returned = {payload["user_id"] for name, payload in ten_thousand if name == LOGIN_EVENT} & signed_up
    assert len(returned) > len(signed_up) / 4


def test_deterministic_for_a_seed_and_a_clock() -> None:
    first = SampleEvents(42, clock=FakeClock(step=0.5)).take(500)
    again = SampleEvents(42, clock=FakeClock(step=0.5)).take(500)
    other = SampleEvents(43, clock=FakeClock(step=0.5)).take(500)
    assert first == again
    assert first != other
    assert SampleEvents("demo", clock=FakeClock()).take(20) == SampleEvents("demo", clock=FakeClock()).take(20)


def test_timestamps_come_from_the_injected_clock() -> None:
    clock = FakeClock(start=NOW, step=1.5)
    events = SampleEvents(1, clock=clock).take(3)
    assert [p["at"] for _, p in events] == ["2026-11-21T05:01:02.123Z", "2026-11-21T05:01:03.623Z",
                                             "2026-11-21T05:01:05.123Z"]


def test_iso_utc_ms_matches_datetime() -> None:
    for t in (0.0, 1.0005, NOW, 1_700_000_000.999, 4_102_444_799.9999):
        expected = datetime.fromtimestamp(int(t * 1000) / 1000, tz=UTC).isoformat(timespec="milliseconds")
        assert iso_utc_ms(t) == expected.replace("+00:00", "Z")


def test_payloads_stay_small(ten_thousand) -> None:
    longest = max(len(json.dumps(p, ensure_ascii=False).encode()) for _, p in ten_thousand)
    assert longest < 1024


def test_every_culture_is_well_formed() -> None:
    for culture in CULTURES:
        assert culture.weight > 0 and culture.places
        assert culture.full or (culture.given and culture.family)
        assert all(re.fullmatch(r"[A-Z]{2}", country) and city for country, city in culture.places)


def test_the_stream_is_endless() -> None:
    assert len(list(itertools.islice(SampleEvents(3, clock=FakeClock()), 2500))) == 2500
