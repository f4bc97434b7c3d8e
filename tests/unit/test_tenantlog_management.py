"""The Management API catch-up's pure parts: checkpoint paging decisions, rate-limit waits, the token cache, the
settings, progress and its estimate, the checkpoint file, and where the client secret comes from."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from desktop.secrets import SecretStore
from desktop.tenantlog.backfill import (
    FileCheckpoint,
    Progress,
    estimate_remaining,
    format_progress,
    lucene_date,
)
from desktop.tenantlog.management import ManagementClient, ManagementSettings
from desktop.tenantlog.paging import (
    CheckpointPager,
    ManagementError,
    TokenCache,
    checkpoint_url,
    log_key,
    next_link,
    rate_limit_wait,
    wrap,
)

BASE = "https://tenant.eu.auth0.com"
A = "90020260801000000000000000000000000000000000000000000001"
B = "90020260801000001000000000000000000000000000000000000002"
C = "90020260801000002000000000000000000000000000000000000003"


def event(log_id: str, **extra: Any) -> dict[str, Any]:
    return {"log_id": log_id, "date": "2026-08-01T00:00:00.000Z", "type": "s", **extra}


def link(after: str) -> dict[str, str]:
    return {"Link": f'<{checkpoint_url(BASE, after)}>; rel="next"'}


def test_the_first_request_is_a_checkpoint_after_the_given_log_id() -> None:
    pager = CheckpointPager(BASE, A)
    assert pager.next_url == f"{BASE}/api/v2/logs?from={A}&take=100"


def test_a_page_is_handed_on_in_log_id_order_wrapped_like_the_log_stream_and_the_link_is_followed() -> None:
    pager = CheckpointPager(BASE, A)
    step = pager.answer(200, link(C), [event(C), event(B)], now=0)
    assert [r["log_id"] for r in step.records] == [B, C]
    assert step.records[0] == {"log_id": B, "data": event(B)}
    assert not step.done and step.wait == 0 and not step.throttled
    assert pager.last_log_id == C
    assert pager.next_url == checkpoint_url(BASE, C)


def test_an_empty_page_means_caught_up() -> None:
    pager = CheckpointPager(BASE, C)
    step = pager.answer(200, link(C), [], now=0)
    assert step.done and step.records == [] and pager.last_log_id == C


def test_without_a_link_header_the_next_request_is_built_from_the_last_log_id() -> None:
    pager = CheckpointPager(BASE, A)
    pager.answer(200, {}, [event(B)], now=0)
    assert pager.next_url == checkpoint_url(BASE, B)


def test_a_next_link_to_another_host_is_not_followed_the_token_stays_home() -> None:
    pager = CheckpointPager(BASE, A)
    pager.answer(200, {"Link": '<https://evil.example/api/v2/logs?from=1&take=100>; rel="next"'}, [event(B)], now=0)
    assert pager.next_url == checkpoint_url(BASE, B)
    pager.answer(200, {"Link": f'<{BASE}/api/v2/users/x/logs>; rel="next"'}, [event(C)], now=0)
    assert pager.next_url == checkpoint_url(BASE, C)


def test_records_not_after_the_checkpoint_and_items_without_a_log_id_are_skipped() -> None:
    pager = CheckpointPager(BASE, B)
    step = pager.answer(200, {}, [event(A), event(B), {"type": "s"}, "junk", event(C)], now=0)
    assert [r["log_id"] for r in step.records] == [C]
    assert step.skipped == 4


def test_a_page_that_does_not_move_on_is_an_error_not_an_endless_loop() -> None:
    pager = CheckpointPager(BASE, C)
    with pytest.raises(ManagementError, match="nothing after"):
        pager.answer(200, {}, [event(A), event(B)], now=0)


def test_429_waits_until_x_ratelimit_reset_and_repeats_the_same_request() -> None:
    pager = CheckpointPager(BASE, A, min_wait=0.5)
    before = pager.next_url
    step = pager.answer(429, {"X-RateLimit-Reset": "1000030"}, {"statusCode": 429}, now=1_000_000.0)
    assert step.throttled and step.wait == 30 and step.records == [] and not step.done
    assert pager.next_url == before


def test_a_reset_already_past_still_waits_a_growing_floor_and_a_far_reset_is_capped() -> None:
    pager = CheckpointPager(BASE, A, min_wait=0.5, max_wait=60)
    waits = [pager.answer(429, {"x-ratelimit-reset": "10"}, None, now=100.0).wait for _ in range(4)]
    assert waits == [0.5, 1.0, 2.0, 4.0]
    assert pager.answer(429, {"x-ratelimit-reset": "999999"}, None, now=100.0).wait == 60
    pager.answer(200, {}, [event(B)], now=100.0)  # a success resets the floor
    assert pager.answer(429, {}, None, now=100.0).wait == 0.5


def test_a_page_that_spent_the_budget_waits_for_the_reset_before_the_next_request() -> None:
    pager = CheckpointPager(BASE, A)
    step = pager.answer(200, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "105"}, [event(B)], now=100.0)
    assert step.records and step.wait == 5 and step.throttled
    step = pager.answer(200, {"x-ratelimit-remaining": "7", "x-ratelimit-reset": "105"}, [event(C)], now=100.0)
    assert step.wait == 0 and not step.throttled


def test_401_asks_for_a_new_token_once_then_fails() -> None:
    pager = CheckpointPager(BASE, A)
    assert pager.answer(401, {}, {"message": "Expired token"}, now=0).reauth
    with pytest.raises(ManagementError, match="401"):
        pager.answer(401, {}, None, now=0)


def test_server_errors_are_retried_with_backoff_a_few_times() -> None:
    pager = CheckpointPager(BASE, A, min_wait=1, retries=3)
    assert [pager.answer(503, {}, None, now=0).wait for _ in range(3)] == [1, 2, 4]
    with pytest.raises(ManagementError, match="4 times"):
        pager.answer(503, {}, None, now=0)


def test_other_refusals_say_what_auth0_said() -> None:
    pager = CheckpointPager(BASE, A)
    with pytest.raises(ManagementError, match=r"403.*Insufficient scope"):
        pager.answer(403, {}, {"statusCode": 403, "message": "Insufficient scope, expected any of: read:logs"}, now=0)
    with pytest.raises(ManagementError, match="not a JSON array"):
        CheckpointPager(BASE, A).answer(200, {}, {"logs": []}, now=0)


@pytest.mark.parametrize(("header", "expected"), [
    ('<https://t/api/v2/logs?from=1&take=100>; rel="next"', "https://t/api/v2/logs?from=1&take=100"),
    ('<https://t/a>; rel="prev", <https://t/b>; rel=next', "https://t/b"),
    ('<https://t/a>; title="x"; rel="first next"', "https://t/a"),
    ('<https://t/a>; rel="prev"', None),
    ("", None),
    (None, None),
    ("garbage; rel=next", None),
])
def test_next_link(header: str | None, expected: str | None) -> None:
    assert next_link(header) == expected


def test_rate_limit_wait_without_a_usable_header_is_the_floor() -> None:
    assert rate_limit_wait({"x-ratelimit-reset": "soon"}, 50.0, 2.0, 60.0) == 2.0
    assert rate_limit_wait({}, 50.0, 0.0, 60.0) == 0.0


def test_log_ids_compare_by_length_then_text_and_wrap_refuses_what_is_not_a_log() -> None:
    assert log_key("99") < log_key("100")
    assert wrap({"log_id": ""}) is None and wrap({"log_id": 5}) is None and wrap([1]) is None
    assert wrap({"log_id": "x" * 129}) is None and wrap({"log_id": "a\nb"}) is None


def test_the_token_is_kept_until_a_margin_before_it_expires() -> None:
    cache = TokenCache(margin=60)
    assert cache.get(0) is None
    cache.put("tok", 86400, now=1000)
    assert cache.get(1000 + 86400 - 61) == "tok"
    assert cache.get(1000 + 86400 - 60) is None
    cache.put("short", 10, now=0)  # a short-lived token keeps half its life
    assert cache.get(4.9) == "short" and cache.get(5) is None
    cache.forget()
    assert cache.get(0) is None


@pytest.mark.parametrize(("domain", "base"), [
    ("tenant.eu.auth0.com", "https://tenant.eu.auth0.com"),
    ("https://tenant.eu.auth0.com/", "https://tenant.eu.auth0.com"),
    ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
])
def test_settings_base_url_and_audience(domain: str, base: str) -> None:
    settings = ManagementSettings(domain, "cid")
    assert settings.base_url == base
    assert settings.token_audience == base + "/api/v2/"
    assert ManagementSettings(domain, "cid", audience="https://x/api/v2/").token_audience == "https://x/api/v2/"


@pytest.mark.parametrize("domain", ["http://tenant.auth0.com", "tenant.auth0.com/api", "https://u:p@t.auth0.com",
                                    "", "https://t.auth0.com?x=1"])
def test_settings_refuse_plain_http_paths_and_credentials(domain: str) -> None:
    with pytest.raises(ManagementError):
        _ = ManagementSettings(domain, "cid").base_url


def test_the_client_needs_a_secret_and_never_shows_it() -> None:
    settings = ManagementSettings("tenant.eu.auth0.com", "cid")
    with pytest.raises(ManagementError, match="LOGIN_FEED_AUTH0_CLIENT_SECRET"):
        ManagementClient(settings, "")
    client = ManagementClient(settings, "s3cret-value")
    try:
        assert "s3cret" not in repr(client) and "s3cret" not in str(vars(client).get("settings"))
    finally:
        client.close()


def test_the_secret_comes_from_the_environment_first() -> None:
    store = SecretStore(env={"LOGIN_FEED_AUTH0_CLIENT_SECRET": "from-env"})
    assert store.auth0_management_secret("cid") == "from-env"


def test_estimate_remaining_from_how_fast_log_time_is_covered() -> None:
    first = datetime(2026, 8, 1, tzinfo=UTC)
    reached = datetime(2026, 8, 2, tzinfo=UTC)  # one day of log covered ...
    now = datetime(2026, 8, 5, tzinfo=UTC)  # ... three to go
    assert estimate_remaining(first, reached, now, elapsed=600) == 1800
    assert estimate_remaining(first, first, now, elapsed=600) is None
    assert estimate_remaining(None, reached, now, elapsed=600) is None
    assert estimate_remaining(first, now, now, elapsed=600) == 0


def test_format_progress_reads_like_a_sentence() -> None:
    state = Progress(fetched=12300, pages=123, reached="2026-08-03T14:02:59.120Z", waits=3, waited=42.0,
                     remaining=4320.0)
    assert format_progress(state) == ("12,300 events, reached 2026-08-03 14:02 UTC, 3 rate-limit waits (42 s), "
                                      "about 1 h 12 min left")
    waiting = Progress(fetched=1, reached="2026-08-03T14:02:59Z", waits=1, waited=2.5, waiting=2.5)
    assert format_progress(waiting) == ("1 event, reached 2026-08-03 14:02 UTC, 1 rate-limit wait (2.5 s), "
                                        "waiting 2.5 s for the rate limit")
    assert format_progress(Progress(done=True)) == "0 events, done"


def test_lucene_date() -> None:
    assert lucene_date(date(2026, 8, 1)) == "2026-08-01"
    assert lucene_date(datetime(2026, 8, 1, 12, tzinfo=UTC)) == "2026-08-01T12:00:00.000Z"
    assert lucene_date(datetime(2026, 8, 1, 12)) == "2026-08-01T12:00:00.000Z"  # naive means UTC


def test_file_checkpoint_resumes_only_its_own_run(tmp_path: Path) -> None:
    path = tmp_path / "backfill.json"
    mine = FileCheckpoint(path, "backfill-since:2026-08-01")
    assert mine.load() is None
    mine.save(B)
    assert mine.load() == B
    assert FileCheckpoint(path, "backfill-since:2026-07-01").load() is None
    path.write_text("{not json")
    assert mine.load() is None
    mine.save(C)
    mine.clear()
    assert mine.load() is None and not path.exists()
