"""The server's catch-up from Auth0: :func:`start_catch_up` on its thread, and ``login-feed server`` as a process
filling the gap left while it was stopped (the Management API from the stand-in, everything else real)."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from keyring.backends.null import Keyring as NullKeyring
from support.auth0_log_samples import as_array
from support.auth0_management_standin import ManagementStandin
from support.cli_process import CliProcess
from support.logstream_server import LogStreamServer, access_token
from support.oidc_provider import OidcProvider
from support.soketi import Soketi
from support.waiting import wait_until

from desktop.authserver.logstream import TenantLog
from desktop.config import load_config
from desktop.secrets import SecretStore
from desktop.tenantlog.catchup import settings_from_config, start_catch_up
from desktop.tenantlog.management import ManagementError, ManagementSettings

AUG_1 = datetime(2026, 8, 1, tzinfo=UTC)




def secrets_for(api: ManagementStandin) -> SecretStore:
    return SecretStore(env={"LOGIN_FEED_AUTH0_CLIENT_SECRET": api.client_secret})


def test_the_config_section_becomes_the_client_settings(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[auth0_management]\ndomain = "tenant.eu.auth0.com"\nclient_id = "m2m-client"\n')
    settings = settings_from_config(load_config(path, {}))
    assert settings == ManagementSettings("tenant.eu.auth0.com", "m2m-client")
    assert settings_from_config(load_config(path, {"LOGIN_FEED_AUTH0_MANAGEMENT_CLIENT_ID": ""})) is None
    path.write_text('[auth0_management]\ndomain = "http://tenant.eu.auth0.com"\nclient_id = "c"\n')
    with pytest.raises(Exception, match="https"):
        load_config(path, {})
    path.write_text('[auth0_management]\ndomain = "t.auth0.com"\nclient_id = "c"\nclient_secret = "abc123xyz"\n')
    with pytest.raises(Exception, match="client_secret"):
        load_config(path, {})


def test_start_catch_up_fills_the_gap_on_its_thread(api: ManagementStandin, tenant_log: TenantLog,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    events = api.seed(180, start=AUG_1)
    tenant_log.ingest_records([{"log_id": e["log_id"], "data": e} for e in events[:30]])
    caplog.set_level(logging.INFO, "desktop.tenantlog")
    runner = start_catch_up(ManagementSettings(api.base_url, api.client_id), tenant_log, secrets=secrets_for(api))
    assert runner is not None
    assert runner.join(30), "the catch-up did not end"
    runner.stop()
    assert runner.error is None and runner.result is not None and runner.result.fetched == 150
    assert tenant_log.store.page(None, 1000).events[-1]["log_id"] == events[-1]["log_id"]
    assert len(tenant_log.store.page(None, 1000).events) == 180
    assert "150 events" in caplog.text and api.client_secret not in caplog.text
    assert len(tenant_log.store.unpublished(1000)) == 180, "a gap is recent: its events go out live"


def test_start_catch_up_runs_a_backfill_when_asked(api: ManagementStandin, tenant_log: TenantLog) -> None:
    api.seed(120, start=AUG_1)
    runner = start_catch_up(ManagementSettings(api.base_url, api.client_id), tenant_log,
                            backfill_from=date(2026, 8, 1), secrets=secrets_for(api))
    assert runner is not None and runner.join(30)
    runner.stop()
    assert runner.error is None and len(tenant_log.store.page(None, 1000).events) == 120
    assert tenant_log.store.unpublished(1000) == [], "a backfill of old events must not be pushed to every window"


def test_without_settings_or_secret_nothing_starts_but_a_backfill_says_what_is_missing(
        api: ManagementStandin, tenant_log: TenantLog) -> None:
    settings = ManagementSettings(api.base_url, api.client_id)
    assert start_catch_up(None, tenant_log) is None
    assert start_catch_up(settings, tenant_log, secrets=SecretStore(env={}, backend=NullKeyring())) is None
    with pytest.raises(ManagementError, match=r"\[auth0_management\]"):
        start_catch_up(None, tenant_log, backfill_from=date(2026, 8, 1))
    with pytest.raises(ManagementError, match="LOGIN_FEED_AUTH0_CLIENT_SECRET"):
        start_catch_up(settings, tenant_log, backfill_from=date(2026, 8, 1),
                       secrets=SecretStore(env={}, backend=NullKeyring()))
    assert api.requests == []


def test_a_failing_catch_up_is_logged_and_ends_quietly(api: ManagementStandin, tenant_log: TenantLog) -> None:
    tenant_log.ingest_records([{"log_id": e["log_id"], "data": e} for e in api.seed(2, start=AUG_1)])
    runner = start_catch_up(ManagementSettings(api.base_url, api.client_id), tenant_log,
                            secrets=SecretStore(env={"LOGIN_FEED_AUTH0_CLIENT_SECRET": "not-the-secret"}))
    assert runner is not None and runner.join(30)
    runner.stop()
    assert runner.error is not None and "refused the Management API credentials" in runner.error


@pytest.mark.integration
def test_login_feed_server_fills_the_gap_left_while_it_was_stopped(
        api: ManagementStandin, soketi: Soketi, oidc_provider: OidcProvider, tmp_path: Path) -> None:
    events = api.seed(260, start=AUG_1)
    server = LogStreamServer(tmp_path, oidc_provider, soketi)
    with server.config.open("a", encoding="utf-8") as config:
        config.write(f'\n[auth0_management]\ndomain = "{api.base_url}"\nclient_id = "{api.client_id}"\n')
    server.env["LOGIN_FEED_AUTH0_CLIENT_SECRET"] = api.client_secret
    token = access_token(oidc_provider)
    try:
        server.start()  # an empty store: nothing to catch up
        delivered = [{"log_id": e["log_id"], "data": e} for e in events[:25]]
        assert server.post(as_array(delivered)).json()["stored"] == 25
        assert server.stop() == 0
        assert api.count("/api/v2/logs") == 0
        server.start()  # events 25.. happened while it was stopped

        def stored() -> int:
            return len(server.get("/events?limit=1000", token)["events"])

        wait_until(lambda: stored() == 260, 60, message=lambda: f"{stored()} events\n{server.describe()}")
        assert api.seen("/api/v2/logs")[0].query["from"] == events[24]["log_id"]
        assert server.stop() == 0
    finally:
        server.close()
    assert api.client_secret not in server.describe()


class BackfillServer(LogStreamServer):
    """``login-feed server --backfill-since 2026-08-01`` (the support class starts it without the option)."""

    def start(self) -> BackfillServer:
        self.process = process = CliProcess(["--data-dir", self.data_dir, "--config", self.config, "server",
                                             "--port", str(self.port), "--backfill-since", "2026-08-01"], self.env)
        self.runs.append(process)
        wait_until(lambda: self._healthy() or process.process.poll() is not None, 30, message=process.describe)
        assert process.process.poll() is None, process.describe()
        return self


@pytest.mark.integration
def test_login_feed_server_backfill_since_seeds_a_new_store(
        api: ManagementStandin, soketi: Soketi, oidc_provider: OidcProvider, tmp_path: Path) -> None:
    api.seed(40, start=AUG_1 - timedelta(days=1))
    wanted = {e["log_id"] for e in api.seed(150, start=AUG_1)}
    server = BackfillServer(tmp_path, oidc_provider, soketi)
    with server.config.open("a", encoding="utf-8") as config:
        config.write(f'\n[auth0_management]\ndomain = "{api.base_url}"\nclient_id = "{api.client_id}"\n')
    server.env["LOGIN_FEED_AUTH0_CLIENT_SECRET"] = api.client_secret
    token = access_token(oidc_provider)
    try:
        server.start()

        def stored() -> set[str]:
            return {e["log_id"] for e in server.get("/events?limit=1000", token)["events"]}

        wait_until(lambda: stored() == wanted, 60, message=lambda: f"{len(stored())} events\n{server.describe()}")
        assert server.stop() == 0
    finally:
        server.close()
    print(server.describe())
    assert "backfill" in server.describe() and api.client_secret not in server.describe()
