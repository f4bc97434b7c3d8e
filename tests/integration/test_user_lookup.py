"""``GET /users/{id}/events``: the store's events, topped up from Auth0's Management API (the stand-in) when the
store knows too little of the user; one row per ``log_id``, oldest first; Auth0 failing leaves the stored ones."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import StarletteDeprecationWarning
from starlette.requests import Request
from support.auth0_management_standin import ManagementStandin

with warnings.catch_warnings():  # Starlette 1.x prefers httpx2 and warns when it finds only httpx
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

from desktop.authserver.logstream import TenantLog
from desktop.tenantlog.management import ManagementClient, ManagementSettings

AUG_1 = datetime(2026, 8, 1, tzinfo=UTC)


async def anyone(request: Request) -> None:  # the app's token check is tested with the other routes
    return None




def lookup(tenant_log: TenantLog, user_id: str, limit: int) -> list[dict[str, Any]]:
    with TestClient(Starlette(routes=tenant_log.routes(anyone))) as client:
        answer = client.get(f"/users/{user_id}/events", params={"limit": limit})
    assert answer.status_code == 200, answer.text
    return answer.json()["events"]


def test_the_store_is_topped_up_from_auth0_once_per_log_id(api: ManagementStandin, tenant_log: TenantLog) -> None:
    events = api.seed(60, start=AUG_1)
    user = next(e["user_id"] for e in events if e.get("user_id"))
    mine = [e for e in events if e.get("user_id") == user]
    assert len(mine) >= 3, "the sample data should give one user several events"
    tenant_log.ingest_records([{"log_id": e["log_id"], "data": e} for e in mine[-2:]])  # the store: 2 of them
    client = ManagementClient(ManagementSettings(api.base_url, api.client_id), api.client_secret)
    tenant_log.user_logs = lambda user_id, n: client.user_logs(user_id, per_page=n)
    try:
        shown = lookup(tenant_log, user, 50)
    finally:
        client.stop()
        client.close()
    assert sorted(e["log_id"] for e in shown) == sorted(e["log_id"] for e in mine)  # each once
    assert [e["at"] for e in shown] == sorted(e["at"] for e in shown)  # oldest first
    assert {e["user_id"] for e in shown} == {user}
    assert sum(1 for e in shown if e.get("cursor")) == 2  # only the stored ones belong to the catch-up stream


def test_auth0_failing_leaves_the_stored_events(api: ManagementStandin, tenant_log: TenantLog) -> None:
    events = api.seed(20, start=AUG_1)
    user = next(e["user_id"] for e in events if e.get("user_id"))
    tenant_log.ingest_records([{"log_id": e["log_id"], "data": e} for e in events if e.get("user_id") == user])

    def down(user_id: str, limit: int) -> list[dict[str, Any]]:
        raise OSError("unreachable")

    tenant_log.user_logs = down
    shown = lookup(tenant_log, user, 50)
    assert shown and {e["user_id"] for e in shown} == {user}


def test_a_store_with_enough_events_does_not_ask_auth0(tenant_log: TenantLog, api: ManagementStandin) -> None:
    events = api.seed(40, start=AUG_1)
    tenant_log.ingest_records([{"log_id": e["log_id"], "data": e} for e in events])
    user = next(e["user_id"] for e in events if e.get("user_id"))
    asked: list[str] = []
    tenant_log.user_logs = lambda user_id, n: asked.append(user_id) or []
    assert lookup(tenant_log, user, 1)
    assert asked == []
