"""Alerts from the real server (issue 15): the window catches up the alert the server raised while it was closed,
and an update of it that arrives live (same ``log_id``, more ``updates``) changes its row in the Alerts panel
instead of adding one; the feed lists the alert once and a click shows exactly the events behind it. A real
``login-feed server`` (with its alert rules on), a real soketi and a real OpenID provider."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.auth0_log_samples import as_array, record
from support.logstream_server import LogStreamServer, StartServer
from support.oidc_provider import OidcProvider
from support.signin_helpers import MemoryKeyring, sign_in_once
from support.soketi import APP_ID, APP_KEY, Soketi
from support.window_app import WAIT_MS

from desktop.config import load_config, save_config
from desktop.config_schema import Auth0Config, AuthorizationConfig, ChatConfig, Config, FeedConfig, PusherConfig

pytestmark = pytest.mark.integration
CHANNEL = "private-login-feed"
USER = "auth0|61823277a44a21007221a59a"



@pytest.fixture
def server(start_log_stream_server: StartServer) -> LogStreamServer:
    return start_log_stream_server(channel=CHANNEL, alerts=True)


def remote_config(directory: Path, idp: OidcProvider, server: LogStreamServer, soketi: Soketi) -> Config:
    config = Config(
        auth0=Auth0Config(issuer=idp.issuer, client_id=idp.client_id, audience=idp.audience),
        pusher=PusherConfig(key=APP_KEY, cluster=None, host=soketi.host, port=soketi.port, tls=False, app_id=APP_ID),
        authorization=AuthorizationConfig(mode="remote", endpoint=f"{server.base}/pusher/auth",
                                          user_endpoint=f"{server.base}/pusher/user-auth"),
        feed=FeedConfig(channel=CHANNEL),
        chat=ChatConfig(send="endpoint", message_endpoint=f"{server.base}/message"),
    )
    return load_config(save_config(config, directory / "config.toml"), {})


def failures(first: int, count: int, minute: int) -> list[dict]:
    """``count`` wrong passwords for one account, ``fail-<n>``, a second apart from 06:<minute>:00."""
    return [record("fp", log_id=f"fail-{n:03d}", user_id=USER, user_name="ada@example.com",
                   date=f"2026-11-21T06:{minute:02d}:{n - first:02d}.000Z") for n in range(first, first + count)]


def test_an_alert_is_caught_up_then_updated_live_in_place(qtbot, tmp_path: Path, oidc_provider: OidcProvider,
                                                          server: LogStreamServer, soketi: Soketi,
                                                          memory_keyring: MemoryKeyring, make_app) -> None:
    sign_in_once(oidc_provider, memory_keyring)
    assert server.post(as_array(failures(1, 10, 0))).status_code == 200  # while the window is closed
    app = make_app(remote_config(tmp_path, oidc_provider, server, soketi), tmp_path / "data")
    model = app.alerts.panel.model
    qtbot.waitUntil(lambda: model.rowCount() == 1, timeout=WAIT_MS)
    first = model.record_at(0)
    assert (first.rule, first.severity, first.updates, first.who) == ("brute_force", "high", 0, "ada@example.com")
    assert set(first.log_ids) == {f"fail-{n:03d}" for n in range(1, 11)}

    assert server.post(as_array(failures(11, 3, 7))).status_code == 200  # seven minutes on: the same attack
    qtbot.waitUntil(lambda: model.record_at(0).updates == 1, timeout=WAIT_MS)
    assert model.rowCount() == 1 and model.record_at(0).log_id == first.log_id
    assert model.record_at(0).count == 11 and "fail-011" in model.record_at(0).log_ids
    alerts = [ev for ev in app.feed.model.events() if ev.kind == "alert"]
    assert [ev.log_id for ev in alerts] == [first.log_id]  # listed once in the feed

    app.alerts.show_events(model.record_at(0))
    assert {ev.log_id for ev in app.feed.proxy.visible_events()} == set(model.record_at(0).log_ids)
    assert app.alerts.count_button.text() == "⚠ 1 alert"
