"""Catch-up and backfill from Auth0's Management API, against the stand-in (tests/support/auth0_management_standin.py)
and into the real tenant-log store through the log stream's own ingest (``TenantLog.ingest_records``).

Waits for the rate limit are real but short (the stand-in's windows are a second or less); the tests assert what was
asked and stored, never how long anything took.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from support.auth0_management_standin import ManagementStandin

from desktop.authserver.logstream import TenantLog
from desktop.tenantlog.backfill import (
    FileCheckpoint,
    Progress,
    backfill_since,
    catch_up,
    format_progress,
)
from desktop.tenantlog.management import ManagementClient, ManagementError, ManagementSettings, Stopped

AUG_1 = datetime(2026, 8, 1, tzinfo=UTC)
LOGS = "/api/v2/logs"




def client_for(api: ManagementStandin, secret: str | None = None, **kwargs: Any) -> ManagementClient:
    settings = ManagementSettings(api.base_url, api.client_id)
    return ManagementClient(settings, secret or api.client_secret, min_wait=0.05, max_wait=5.0, **kwargs)


def stored_ids(tenant_log: TenantLog) -> list[str]:
    return [e["log_id"] for e in tenant_log.store.page(None, 1000).events]


class Recorder:
    def __init__(self) -> None:
        self.seen: list[Progress] = []

    def __call__(self, state: Progress) -> None:
        self.seen.append(state)
        print(format_progress(state))


def test_catch_up_fills_the_gap_since_the_newest_stored_log_id_following_the_link_header(
        api: ManagementStandin, tenant_log: TenantLog) -> None:
    events = api.seed(250, start=AUG_1)
    sink = tenant_log.ingest_records
    sink([{"log_id": e["log_id"], "data": e} for e in events[:40]])  # what the log stream delivered before the stop
    newest = tenant_log.store.newest_log_id()
    assert newest == events[39]["log_id"]
    progress = Recorder()
    client = client_for(api)
    try:
        result = catch_up(client, newest, sink, progress)
    finally:
        client.close()
    assert sorted(stored_ids(tenant_log)) == sorted(e["log_id"] for e in events)
    assert result.done and result.fetched == 210 and result.pages == 3
    froms = [r.query["from"] for r in api.seen(LOGS)]
    assert froms == [newest, events[139]["log_id"], events[239]["log_id"], events[249]["log_id"]]
    assert all(r.query["take"] == "100" for r in api.seen(LOGS))
    assert api.count("/oauth/token") == 1
    assert progress.seen[-1].done and progress.seen[-1].reached == events[-1]["date"]


def test_an_event_holding_an_integer_beyond_64_bits_is_caught_up_like_the_others(
        api: ManagementStandin, tenant_log: TenantLog) -> None:
    # The API's JSON may hold any integer; the records go to the store as decoded (once they were encoded to JSON
    # bytes again first, which refused such an integer: the catch-up stopped there, and again at every start).
    events = api.seed(20, start=AUG_1)
    odd = {**events[5], "details": {"stats": {"loginsCount": 2**64}, "request": {"id": 2**70}}}
    api.add(odd)
    client = client_for(api)
    try:
        result = catch_up(client, events[0]["log_id"], tenant_log.ingest_records, Recorder())
    finally:
        client.close()
    assert result.done and sorted(stored_ids(tenant_log)) == sorted(e["log_id"] for e in events[1:])
    stored = next(e for e in tenant_log.store.page(None, 1000).events if e["log_id"] == odd["log_id"])
    assert stored["logins_count"] is None  # not a count anyone has: dropped, as an unreadable one is


def test_a_429_waits_for_the_reset_and_repeats_the_request(api: ManagementStandin, tenant_log: TenantLog) -> None:
    events = api.seed(120, start=AUG_1)
    api.throttle_next(2, reset_in=0.3)
    progress = Recorder()
    client = client_for(api)
    try:
        catch_up(client, events[0]["log_id"], tenant_log.ingest_records, progress)
    finally:
        client.close()
    assert len(stored_ids(tenant_log)) == 119
    statuses = [(r.query["from"], r.status) for r in api.seen(LOGS)]
    assert statuses[:3] == [(events[0]["log_id"], 429)] * 2 + [(events[0]["log_id"], 200)]
    waiting = [p for p in progress.seen if p.waiting]
    assert len(waiting) == 2 and waiting[-1].waits == 2 and progress.seen[-1].waited > 0
    print("requests:", statuses)


def test_a_spent_budget_is_waited_out_and_everything_arrives(tenant_log: TenantLog) -> None:
    with ManagementStandin(budget=2, window=1.0) as api:  # the token and one page per window
        events = api.seed(150, start=AUG_1)
        progress = Recorder()
        client = client_for(api)
        try:
            catch_up(client, events[0]["log_id"], tenant_log.ingest_records, progress)
        finally:
            client.close()
        assert len(stored_ids(tenant_log)) == 149
        assert progress.seen[-1].waits >= 1
        seen = api.seen(LOGS)
        print("rate-limit waits:", progress.seen[-1].waits, "429s:", sum(r.status == 429 for r in seen),
              "requests:", len(seen))


def test_the_token_is_reused_until_it_nears_expiry_and_replaced_when_refused(
        api: ManagementStandin, tenant_log: TenantLog) -> None:
    events = api.seed(30, start=AUG_1)
    shift = [0.0]
    client = client_for(api, clock=lambda: time.time() + shift[0])
    sink = tenant_log.ingest_records
    try:
        catch_up(client, events[0]["log_id"], sink, Recorder())
        catch_up(client, events[10]["log_id"], sink, Recorder())
        assert api.count("/oauth/token") == 1
        assert len({r.authorization for r in api.seen(LOGS)}) == 1
        shift[0] = api.token_lifetime - 30.0  # inside the margin before expiry: a new token is fetched first
        catch_up(client, events[20]["log_id"], sink, Recorder())
        assert api.count("/oauth/token") == 2 and api.count(LOGS, status=401) == 0
        api.expire_tokens()  # the API refuses the cached token: one new token, the request repeated
        catch_up(client, events[0]["log_id"], sink, Recorder())
        assert api.count("/oauth/token") == 3 and api.count(LOGS, status=401) == 1
    finally:
        client.close()
    assert len(stored_ids(tenant_log)) == 29


def test_an_interrupted_backfill_resumes_where_it_stopped(api: ManagementStandin, tenant_log: TenantLog,
                                                            tmp_path: Path) -> None:
    api.seed(50, start=AUG_1 - timedelta(days=1))  # before the date: not wanted
    wanted = api.seed(330, start=AUG_1)
    checkpoint = FileCheckpoint(tmp_path / "backfill.json", "backfill-since:2026-08-01")
    sink = tenant_log.ingest_records
    calls: list[int] = []

    def failing_sink(records: list[dict[str, Any]]) -> None:
        calls.append(len(records))
        if len(calls) == 3:
            raise OSError("disk full")  # the store failed on the third batch: nothing of it is committed
        sink(records)

    client = client_for(api)
    try:
        with pytest.raises(OSError, match="disk full"):
            backfill_since(client, date(2026, 8, 1), failing_sink, Recorder(), checkpoint)
        assert calls[:2] == [1, 100]  # the anchor found by search, then the first checkpoint page
        assert checkpoint.load() == wanted[100]["log_id"]
        assert len(stored_ids(tenant_log)) == 101
        searches = api.count(LOGS)
        progress = Recorder()
        result = backfill_since(client, date(2026, 8, 1), sink, progress, checkpoint)
    finally:
        client.close()
    resumed = api.seen(LOGS)[searches:]
    assert "q" not in resumed[0].query and resumed[0].query["from"] == wanted[100]["log_id"]
    assert sorted(stored_ids(tenant_log)) == sorted(e["log_id"] for e in wanted)
    assert result.done and result.fetched == 229
    assert any(p.remaining is not None for p in progress.seen)
    assert checkpoint.load() is None


def test_a_stopped_catch_up_keeps_its_checkpoint_and_the_next_start_resumes_from_it(
        api: ManagementStandin, tenant_log: TenantLog, tmp_path: Path) -> None:
    events = api.seed(300, start=AUG_1)
    checkpoint = FileCheckpoint(tmp_path / "catch-up.json", "catch-up")
    sink = tenant_log.ingest_records
    client = client_for(api)

    def stop_after_first_page(state: Progress) -> None:
        if state.pages == 1:
            client.stop()  # the server is shutting down

    try:
        with pytest.raises(Stopped):
            catch_up(client, events[0]["log_id"], sink, stop_after_first_page, checkpoint=checkpoint)
    finally:
        client.close()
    assert checkpoint.load() == events[100]["log_id"]
    # Meanwhile the log stream delivered the newest event: the store's newest log_id is past the gap
    sink([{"log_id": events[-1]["log_id"], "data": events[-1]}])
    client = client_for(api)
    try:
        catch_up(client, tenant_log.store.newest_log_id(), sink, Recorder(), checkpoint=checkpoint)
    finally:
        client.close()
    assert len(stored_ids(tenant_log)) == 299
    assert checkpoint.load() is None


def test_an_empty_store_has_nothing_to_catch_up_and_asks_nothing(api: ManagementStandin) -> None:
    client = client_for(api)
    try:
        result = catch_up(client, None, lambda records: None, Recorder())
    finally:
        client.close()
    assert result.done and result.fetched == 0 and api.requests == []


def test_a_backfill_with_no_events_since_the_date_ends_at_once(api: ManagementStandin, tmp_path: Path) -> None:
    api.seed(5, start=AUG_1)
    client = client_for(api)
    try:
        result = backfill_since(client, date(2026, 9, 1), lambda records: None, Recorder(),
                                FileCheckpoint(tmp_path / "b.json", "x"))
    finally:
        client.close()
    assert result.done and result.fetched == 0 and api.count(LOGS) == 1


def test_a_bad_secret_gives_a_clear_error_without_the_secret(api: ManagementStandin) -> None:
    api.seed(3, start=AUG_1)
    client = client_for(api, secret="wrong-secret-value-123")
    try:
        with pytest.raises(ManagementError) as caught:
            catch_up(client, "900", lambda records: None, Recorder())
    finally:
        client.close()
    message = str(caught.value)
    assert "refused the Management API credentials" in message and "401" in message
    assert "LOGIN_FEED_AUTH0_CLIENT_SECRET" in message and "wrong-secret" not in message
    assert api.count(LOGS) == 0
    print(message)


def test_a_wrong_audience_is_explained(api: ManagementStandin) -> None:
    settings = ManagementSettings(api.base_url, api.client_id, audience="https://elsewhere.example/api/v2/")
    client = ManagementClient(settings, api.client_secret)
    try:
        with pytest.raises(ManagementError, match=r"403.*Service not found"):
            client.access_token()
    finally:
        client.close()


def test_user_logs_newest_first_in_the_log_stream_shape(api: ManagementStandin) -> None:
    api.seed(40, start=AUG_1)
    client = client_for(api)
    try:
        records = client.user_logs("auth0|618223a4e3f49e006948565c", per_page=5)
    finally:
        client.close()
    assert len(records) == 5
    assert all(r["data"]["user_id"] == "auth0|618223a4e3f49e006948565c" and r["log_id"] == r["data"]["log_id"]
               for r in records)
    dates = [r["data"]["date"] for r in records]
    assert dates == sorted(dates, reverse=True)
    assert api.seen("/api/v2/users/")[0].path == "/api/v2/users/auth0%7C618223a4e3f49e006948565c/logs"


def test_user_logs_without_the_scope_say_which_scope(tenant_log: TenantLog) -> None:
    with ManagementStandin(scopes=["read:logs"]) as api:
        client = client_for(api)
        try:
            with pytest.raises(ManagementError, match=r"403.*read:logs_users"):
                client.user_logs("auth0|x")
        finally:
            client.close()


def test_a_user_look_up_waits_out_a_429_but_not_forever(api: ManagementStandin) -> None:
    api.seed(10, start=AUG_1)
    client = ManagementClient(ManagementSettings(api.base_url, api.client_id), api.client_secret,
                              min_wait=0.01, max_wait=0.1)
    try:
        api.throttle_next(1)
        assert len(client.user_logs("auth0|618223a4e3f49e006948565c")) == 3
        api.throttle_next(20)
        with pytest.raises(ManagementError, match="429"):
            client.user_logs("auth0|618223a4e3f49e006948565c")
    finally:
        client.close()
    print("user-logs requests:", [r.status for r in api.seen("/api/v2/users/")])
