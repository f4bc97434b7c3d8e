"""The tenant log's routes in-process (Starlette's TestClient, a real SQLite store): ingest, auth, paging."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.exceptions import StarletteDeprecationWarning
from support.auth0_log_samples import LONDON_IP, as_array, as_lines, as_object, record
from support.keys import public_jwk

with warnings.catch_warnings():  # Starlette 1.x prefers httpx2 and warns when it finds only httpx
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

from desktop.authserver.app import create_app
from desktop.authserver.logstream import MAX_STREAM_BODY_BYTES, TenantLog
from desktop.authserver.profiles import ProfileLookup
from desktop.authserver.tokens import AccessTokenVerifier
from desktop.config_schema import Auth0Config, Config, PusherConfig
from desktop.tenantlog.enrich import Place
from desktop.tenantlog.normalize import EVENT_FIELDS
from desktop.tenantlog.publisher import Publisher
from desktop.tenantlog.sqlite_store import SqliteEventStore

ISSUER = "https://tenant.example.auth0.com/"
AUDIENCE = "https://login-feed.example.com/api"
STREAM_TOKEN = "Bearer s3cr3t-stream-token-0123456789"
NOW = 1_750_000_000


def token(key: rsa.RSAPrivateKey, permissions: list[str] | None = None) -> str:
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "auth0|staff", "iat": NOW - 5, "exp": NOW + 3600,
              "permissions": ["read:login-feed"] if permissions is None else permissions}
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})


class Sent:
    """Records the publisher's Pusher batches (the real Pusher path is in tests/integration/test_logstream_*)."""

    def __init__(self) -> None:
        self.batches: list[list[tuple[str, str, str]]] = []

    def __call__(self, batch: Any) -> None:
        self.batches.append(list(batch))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteEventStore]:
    opened = SqliteEventStore(tmp_path / "tenant-log.sqlite3")
    yield opened
    opened.close()


@pytest.fixture
def sent() -> Sent:
    return Sent()


def make_app(rsa_key: rsa.RSAPrivateKey, tenant_log: TenantLog) -> Any:
    jwks = {"keys": [public_jwk(rsa_key)]}
    verifier = AccessTokenVerifier(ISSUER, AUDIENCE, lambda: jwks, clock=lambda: float(NOW))
    config = Config(auth0=Auth0Config(issuer=ISSUER, audience=AUDIENCE),
                    pusher=PusherConfig(key="app-key", host="127.0.0.1", port=6001, tls=False, app_id="1"))
    return create_app(config, "app-secret", None, verifier, None, profiles=ProfileLookup(None),
                      tenant_log=tenant_log)


@pytest.fixture
def client(rsa_key: rsa.RSAPrivateKey, store: SqliteEventStore, sent: Sent) -> Iterator[TestClient]:
    publisher = Publisher(store, sent, "private-login-feed")  # not started: tests call publish_pending()
    tenant_log = TenantLog(store, STREAM_TOKEN, publisher, clock=lambda: float(NOW),
                           locate=lambda ip: Place("GB", "London") if ip == LONDON_IP else Place(None, None))
    with TestClient(make_app(rsa_key, tenant_log)) as test_client:
        test_client.staff = {"Authorization": f"Bearer {token(rsa_key)}"}  # type: ignore[attr-defined]
        test_client.publisher = publisher  # type: ignore[attr-defined]
        yield test_client


def post(client: TestClient, body: bytes, authorization: str | None = STREAM_TOKEN) -> Any:
    headers = {"Content-Type": "application/json"}
    if authorization is not None:
        headers["Authorization"] = authorization
    return client.post("/auth0/log-stream", content=body, headers=headers)


@pytest.mark.parametrize("encode", [as_array, as_lines, lambda records: as_object(records[0])])
def test_each_body_format_is_stored_and_acknowledged(client: TestClient, store: SqliteEventStore, encode: Any) -> None:
    records = [record("fp"), record("s"), record("ss")]
    expected = 1 if encode not in (as_array, as_lines) else 3
    response = post(client, encode(records))
    assert response.status_code == 200, response.text
    assert response.json() == {"stored": expected, "duplicates": 0, "rejected": 0}
    assert store.count() == expected


def test_duplicates_across_requests_are_stored_once(client: TestClient, store: SqliteEventStore) -> None:
    first, second = record("fp"), record("s")
    assert post(client, as_array([first, second])).json() == {"stored": 2, "duplicates": 0, "rejected": 0}
    retry = post(client, as_lines([second, first, record("fu")]))
    assert retry.json() == {"stored": 1, "duplicates": 2, "rejected": 0}
    assert store.count() == 3


def test_records_without_a_log_id_are_counted_as_rejected(client: TestClient) -> None:
    body = json.dumps([record("fp"), {"data": {"type": "s"}}, "x"]).encode()
    assert post(client, body).json() == {"stored": 1, "duplicates": 0, "rejected": 2}


@pytest.mark.parametrize("authorization", [None, "", "Bearer wrong", STREAM_TOKEN + "x", STREAM_TOKEN[:-1],
                                           "bearer s3cr3t-stream-token-0123456789"])
def test_a_wrong_stream_token_gets_401_and_stores_nothing(client: TestClient, store: SqliteEventStore,
                                                          authorization: str | None) -> None:
    response = post(client, as_array([record("fp")]), authorization)
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"
    assert STREAM_TOKEN not in response.text
    assert store.count() == 0


def test_an_access_token_is_not_the_stream_token(client: TestClient, store: SqliteEventStore) -> None:
    response = post(client, as_array([record("fp")]), client.staff["Authorization"])  # type: ignore[attr-defined]
    assert response.status_code == 401 and store.count() == 0


@pytest.mark.parametrize("body", [b"[{\"log_id\": \"1\", \"data\": {", b"not json", b"", b"42",
                                  b"{\"log_id\": \"9\", \"data\": {}}\n{oops"])
def test_a_broken_body_gets_400_and_stores_nothing(client: TestClient, store: SqliteEventStore, body: bytes) -> None:
    response = post(client, body)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert store.count() == 0


def test_a_body_over_5_mb_gets_413_and_stores_nothing(client: TestClient, store: SqliteEventStore) -> None:
    filler = "x" * 1000
    records = [record("fp", description=filler) for _ in range(MAX_STREAM_BODY_BYTES // 1000 + 10)]
    body = as_array(records)
    assert len(body) > MAX_STREAM_BODY_BYTES
    response = post(client, body)
    assert response.status_code == 413
    assert store.count() == 0


def test_a_body_just_under_the_limit_is_taken(client: TestClient, store: SqliteEventStore) -> None:
    records = [record("fp", description="y" * 2000) for _ in range(1600)]
    body = as_array(records)
    assert 4 * 1024 * 1024 < len(body) <= MAX_STREAM_BODY_BYTES
    assert post(client, body).json()["stored"] == 1600


def test_the_stored_event_is_v2_with_only_contract_fields(client: TestClient) -> None:
    raw = record("fp")
    post(client, as_array([raw]))
    page = client.get("/events", headers=client.staff).json()  # type: ignore[attr-defined]
    (event,) = page["events"]
    assert set(event) == set(EVENT_FIELDS)
    assert event["log_id"] == raw["log_id"] and event["country"] == "GB" and event["cursor"] == page["next"]
    assert "session_id" not in json.dumps(page)


def test_events_paging_and_cursor_semantics(client: TestClient) -> None:
    staff = client.staff  # type: ignore[attr-defined]
    assert client.get("/events", headers=staff).json() == {"events": [], "next": "0", "more": False}
    records = [record("fp") for _ in range(7)]
    post(client, as_array(records[:4]))
    post(client, as_lines(records[4:]))
    newest = client.get("/events?limit=2", headers=staff).json()
    assert [e["log_id"] for e in newest["events"]] == [r["log_id"] for r in records[5:]]
    assert newest["more"] is False and newest["next"] == newest["events"][-1]["cursor"]
    seen: list[str] = []
    cursor = "0"
    while True:
        page = client.get(f"/events?after={cursor}&limit=3", headers=staff).json()
        seen += [e["log_id"] for e in page["events"]]
        assert page["next"] == (page["events"][-1]["cursor"] if page["events"] else cursor)
        cursor = page["next"]
        if not page["more"]:
            break
    assert seen == [r["log_id"] for r in records]
    assert client.get(f"/events?after={cursor}", headers=staff).json() == {"events": [], "next": cursor,
                                                                          "more": False}


@pytest.mark.parametrize("query", ["after=abc", "after=-1", "limit=0", "limit=x", "limit=-5", "after=1.5"])
def test_bad_paging_parameters_get_400(client: TestClient, query: str) -> None:
    response = client.get(f"/events?{query}", headers=client.staff)  # type: ignore[attr-defined]
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


def test_a_huge_limit_is_served_as_1000(client: TestClient) -> None:
    response = client.get("/events?limit=99999999999999", headers=client.staff)  # type: ignore[attr-defined]
    assert response.status_code == 200


def test_events_need_the_bearer_token_and_the_permission(client: TestClient, rsa_key: rsa.RSAPrivateKey) -> None:
    assert client.get("/events").status_code == 401
    assert client.get("/events", headers={"Authorization": STREAM_TOKEN}).status_code == 401
    no_permission = {"Authorization": f"Bearer {token(rsa_key, permissions=[])}"}
    assert client.get("/events", headers=no_permission).status_code == 403
    assert client.get("/users/auth0%7Cx/events", headers=no_permission).status_code == 403


def test_one_users_events(client: TestClient) -> None:
    ada = "auth0|61823277a44a21007221a59a"
    post(client, as_array([record("fp", user_id=ada), record("s"), record("fp", user_id=ada)]))
    response = client.get(f"/users/{ada.replace('|', '%7C')}/events?limit=10", headers=client.staff)  # type: ignore[attr-defined]
    events = response.json()["events"]
    assert [e["user_id"] for e in events] == [ada, ada]
    assert int(events[0]["cursor"]) < int(events[1]["cursor"])


def test_publishing_happens_after_commit_in_batches_of_ten(client: TestClient, sent: Sent) -> None:
    records = [record("fp") for _ in range(23)]
    post(client, as_array(records))
    assert sent.batches == []  # the answer never waits for Pusher
    assert client.publisher.publish_pending() == 23  # type: ignore[attr-defined]
    assert [len(b) for b in sent.batches] == [10, 10, 3]
    channel, name, data = sent.batches[0][0]
    assert (channel, name) == ("private-login-feed", "log-event")
    assert json.loads(data)["log_id"] == records[0]["log_id"] and json.loads(data)["cursor"]
    post(client, as_array(records[:5]))  # duplicates are not published again
    assert client.publisher.publish_pending() == 0  # type: ignore[attr-defined]


def test_without_a_configured_token_the_stream_answers_503(rsa_key: rsa.RSAPrivateKey,
                                                            store: SqliteEventStore) -> None:
    with TestClient(make_app(rsa_key, TenantLog(store, None))) as plain:
        response = plain.post("/auth0/log-stream", content=b"[]", headers={"Authorization": ""})
        assert response.status_code == 503 and "LOGIN_FEED_LOG_STREAM_TOKEN" in response.text


def test_a_chunked_body_is_cut_off_once_past_5_mb(client: TestClient, store: SqliteEventStore) -> None:
    chunk = b"[" + b" " * (1024 * 1024 - 1)

    def body() -> Iterator[bytes]:
        yield chunk
        for _ in range(6):
            yield b" " * (1024 * 1024)

    response = client.post("/auth0/log-stream", content=body(), headers={"Authorization": STREAM_TOKEN})
    assert response.status_code == 413 and "5 MB" in response.json()["error_description"]
    assert store.count() == 0


def test_the_health_endpoint_answers_for_the_store(client: TestClient, store: SqliteEventStore) -> None:
    assert client.get("/healthz").json() == {"ok": True}  # no token needed: a load balancer asks
    store.close()  # the store stops answering
    response = client.get("/healthz")
    assert response.status_code == 503 and response.json() == {"ok": False}
