"""Catch-up's pure core: where to ask, paging until ``more`` is false, cursors, and which events are new."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import pytest

from desktop.config_schema import AuthorizationConfig, Config, FeedConfig
from desktop.feed.catchup import CatchUpPager, PageError, SeenLogIds, events_url, newer_cursor, user_events_url


def remote(endpoint: str | None, events: str | None = None) -> Config:
    return Config(authorization=AuthorizationConfig(mode="remote", endpoint=endpoint),
                  feed=FeedConfig(events_endpoint=events))


def test_where_to_ask() -> None:
    assert events_url(remote("https://feed.example.com/pusher/auth")) == "https://feed.example.com/events"
    assert events_url(remote("https://x.example/base/pusher/auth?x=1")) == "https://x.example/base/events"
    assert events_url(remote("https://x.example/auth")) is None  # not the reference server's shape
    assert events_url(remote("https://x.example/auth", "https://y.example/log/events")) == "https://y.example/log/events"
    local = dataclasses.replace(remote("https://feed.example.com/pusher/auth"),
                                authorization=AuthorizationConfig(mode="local"))
    assert events_url(local) is None  # local mode: there is no server to ask
    assert user_events_url("https://f.example/events", "auth0|a/b") == "https://f.example/users/auth0%7Ca%2Fb/events"


def test_pages_until_more_is_false() -> None:
    pager = CatchUpPager("10", limit=2)
    assert pager.params() == {"limit": "2", "after": "10"}
    assert pager.take({"events": [{"log_id": "a"}, {"log_id": "b"}], "next": "12", "more": True}) == [
        {"log_id": "a"}, {"log_id": "b"}]
    assert not pager.done and pager.params()["after"] == "12"
    assert pager.take({"events": [{"log_id": "c"}], "next": "13", "more": False}) == [{"log_id": "c"}]
    assert pager.done and pager.cursor == "13" and (pager.fetched, pager.pages) == (3, 2)


def test_without_a_cursor_only_the_newest_page() -> None:
    pager = CatchUpPager(None)
    assert pager.params() == {"limit": "1000"}
    pager.take({"events": [{"log_id": "z"}], "next": "99", "more": True})
    assert pager.done and pager.cursor == "99"


def test_a_long_catch_up_stops_at_its_cap_and_says_so() -> None:
    pager = CatchUpPager("0", limit=2, max_events=3)
    pager.take({"events": [{}, {}], "next": "2", "more": True})
    pager.take({"events": [{}, {}], "next": "4", "more": True})
    assert pager.done and pager.truncated and pager.cursor == "4"


@pytest.mark.parametrize("answer", [
    [], {"events": {}, "more": False}, {"events": [], "more": "no"}, {"events": [], "next": 5, "more": False},
    {"events": [], "next": "10", "more": True},  # "more" without moving on: would ask forever
])
def test_what_is_not_a_page_is_refused(answer: object) -> None:
    with pytest.raises(PageError):
        CatchUpPager("10").take(answer)


def test_newer_cursor() -> None:
    assert newer_cursor(None, "5") == "5" and newer_cursor("5", None) == "5"
    assert newer_cursor("9", "10") == "10" and newer_cursor("10", "9") == "10"
    assert newer_cursor("abc", "abb") == "abb"  # opaque: the one seen last


def test_seen_log_ids_keep_the_first_and_every_v1() -> None:
    seen = SeenLogIds(capacity=3)
    ev = [SimpleNamespace(log_id=x) for x in ("a", None, "b", "a", None)]
    assert seen.fresh(ev) == [ev[0], ev[1], ev[2], ev[4]]
    assert seen.fresh([SimpleNamespace(log_id="b")]) == []
    seen.add(["c", "d", "e"])  # capacity 3: "a" and "b" are forgotten (the history's unique key still holds)
    assert "a" not in seen and "e" in seen and len(seen) == 3
