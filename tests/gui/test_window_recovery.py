"""The window when something goes wrong (issue 9, points 11, 13-15), against a real soketi and OpenID provider:
a dead engine is shown and Reconnect builds a fresh one; a refused feed stays shown until it is subscribed;
settings saved while connecting attach one engine, not two; an offline sign-in restore says so and keeps the
stored sign-in, while a refused one asks for a new sign-in.
"""

from __future__ import annotations

import dataclasses
import logging
import socket
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from support.cable import Cable
from support.oidc_provider import OidcProvider
from support.signin_helpers import MemoryKeyring, sign_in_once
from support.soketi import APP_SECRET, Soketi
from support.window_app import (
    FEED_CHANNEL,
    SECRET_ENV,
    WAIT_MS,
    AppFactory,
    soketi_config,
    trigger_many,
    trigger_v1,
    user_ids,
    wait_connected,
)

from desktop import APP_NAME
from desktop.app import LoginFeedApp
from desktop.auth.store import RefreshTokenStore
from desktop.config_schema import Auth0Config, Config
from desktop.history import HistoryWriter, history_path
from desktop.pusher.types import State
from desktop.ui.signin_dialog import SignInDialog

pytestmark = pytest.mark.integration

STORED_TOKEN = "stored-refresh-token"
DROPPED = "dropped a connection built for settings that have changed since"



def engine_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "login-feed-engine" and t.is_alive()]


def problem_shown(app: LoginFeedApp) -> str:
    """The problem bar's text above the feed ("" while it is hidden)."""
    return app.window.problem_label.text() if app.window.problem_bar.isVisible() else ""


# -- 13: the engine thread dies ---------------------------------------------------------------------------
def test_a_dead_engine_is_shown_and_reconnect_starts_a_fresh_one(qtbot, tmp_path: Path, soketi: Soketi,
                                                                 make_app, monkeypatch, caplog) -> None:
    app = make_app(soketi_config(soketi, tmp_path), tmp_path / "data")
    client = wait_connected(qtbot, app)

    def broken_tick(now: float) -> None:
        raise RuntimeError("injected engine fault")

    monkeypatch.setattr(client._core, "tick", broken_tick)  # a bug in the core, on the engine thread
    trigger_v1(soketi, FEED_CHANNEL, 1)  # wakes the engine up: it dies handling it
    qtbot.waitUntil(lambda: app.status.state_label.text().startswith("Engine stopped"), timeout=WAIT_MS)
    assert app.status.state_label.text() == "Engine stopped: RuntimeError: injected engine fault"
    assert client.state is State.FAILED
    assert app.status.reconnect_button.isVisible()
    assert problem_shown(app) == "The feed is not live. Engine stopped: RuntimeError: injected engine fault"
    assert app.status.currentMessage() == ""  # shown for as long as it lasts, not as a timed message
    assert "the Pusher engine stopped on an unexpected error" in caplog.text

    qtbot.mouseClick(app.window.problem_button, Qt.MouseButton.LeftButton)  # Reconnect
    fresh = wait_connected(qtbot, app)
    assert fresh is not client
    assert problem_shown(app) == "" and app.status.reconnect_button.isHidden()
    trigger_v1(soketi, FEED_CHANNEL, 2)
    qtbot.waitUntil(lambda: "auth0|2" in user_ids(app.feed.model.events()), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: len(engine_threads()) == 1, timeout=WAIT_MS)  # the old one joined, no other


# -- 11: the feed channel refused -------------------------------------------------------------------------
def test_a_refused_feed_stays_shown_until_a_subscription_succeeds(qtbot, tmp_path: Path, soketi: Soketi,
                                                                  make_app, monkeypatch) -> None:
    monkeypatch.delenv(SECRET_ENV)  # local signing without the app secret: the feed channel is refused
    app = make_app(soketi_config(soketi, tmp_path), tmp_path / "data")
    qtbot.waitUntil(lambda: "feed refused" in app.status.state_label.text(), timeout=WAIT_MS)
    label = app.status.state_label.text()
    assert label.startswith("Connected — feed refused: ")
    assert "the Pusher app secret" in label
    assert app.status.currentMessage() == ""  # not a timed message that vanishes after 30 s
    assert "the Pusher app secret" in problem_shown(app)
    assert app.status.reconnect_button.isVisible()

    app.reconnect()  # the same missing secret: still refused, and still shown all along
    qtbot.waitUntil(lambda: app.status.state_label.text().startswith("Connected — feed refused: "),
                    timeout=WAIT_MS)
    assert "the Pusher app secret" in problem_shown(app)

    monkeypatch.setenv(SECRET_ENV, APP_SECRET)  # the secret is there now (as if stored from Settings)
    qtbot.mouseClick(app.status.reconnect_button, Qt.MouseButton.LeftButton)
    wait_connected(qtbot, app)  # "Connected" alone: the refusal is gone once the feed is subscribed
    assert problem_shown(app) == "" and app.status.reconnect_button.isHidden()
    trigger_v1(soketi, FEED_CHANNEL, 1)
    qtbot.waitUntil(lambda: user_ids(app.feed.model.events()) == ["auth0|1"], timeout=WAIT_MS)


# -- 14: settings saved while a connection is being built -------------------------------------------------
def test_settings_saved_while_connecting_attach_one_engine_and_list_each_event_once(
        qtbot, tmp_path: Path, soketi: Soketi, make_app, caplog) -> None:
    caplog.set_level(logging.INFO, logger="desktop.app")
    config = soketi_config(soketi, tmp_path)
    app = make_app(config, tmp_path / "data")
    wait_connected(qtbot, app)
    # Saved twice before the first build is back (the builds run off the GUI thread; their results are
    # delivered by this event loop, which has not run in between).
    app.apply_config(config)
    app.apply_config(dataclasses.replace(config))
    wait_connected(qtbot, app)
    qtbot.waitUntil(lambda: DROPPED in caplog.messages, timeout=WAIT_MS)  # the first build, closed unused
    assert caplog.messages.count(DROPPED) == 1
    qtbot.waitUntil(lambda: len(engine_threads()) == 1, timeout=WAIT_MS)  # the old one joined, no other

    trigger_many(soketi, FEED_CHANNEL, range(10))
    qtbot.waitUntil(lambda: len(app.feed.model.events()) >= 10, timeout=WAIT_MS)
    trigger_v1(soketi, FEED_CHANNEL, 10)  # after the others: once it is in, a duplicate would be too
    qtbot.waitUntil(lambda: "auth0|10" in user_ids(app.feed.model.events()), timeout=WAIT_MS)
    expected = [f"auth0|{n}" for n in range(10, -1, -1)]
    assert user_ids(app.feed.model.events()) == expected
    AppFactory.close(app)
    reader = HistoryWriter.for_path(history_path(tmp_path / "data"))
    try:
        assert user_ids(reader.recent(100).result(timeout=10)) == expected  # stored once each, too
    finally:
        assert reader.close(timeout=10)


# -- 15: restoring the sign-in at start ------------------------------------------------------------------
def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def with_auth0(config: Config, issuer: str, client_id: str, audience: str | None = None) -> Config:
    return dataclasses.replace(config, auth0=Auth0Config(issuer=issuer, client_id=client_id, audience=audience))


def sign_in_dialogs() -> list[SignInDialog]:
    return [w for w in QApplication.topLevelWidgets() if isinstance(w, SignInDialog) and w.isVisible()]


def test_an_offline_restore_says_so_and_keeps_the_stored_sign_in(qtbot, tmp_path: Path, soketi: Soketi,
                                                                 make_app, memory_keyring: MemoryKeyring) -> None:
    issuer = f"http://127.0.0.1:{closed_port()}/"  # nothing listens there: as good as offline
    store = RefreshTokenStore(issuer, "desktop-client", backend=memory_keyring)
    store.save(STORED_TOKEN)
    app = make_app(with_auth0(soketi_config(soketi, tmp_path), issuer, "desktop-client"), tmp_path / "data")
    qtbot.waitUntil(lambda: app.status.state_label.text().startswith("Cannot reach the sign-in service"),
                    timeout=WAIT_MS)
    assert "Your sign-in is kept on this computer" in app.status.state_label.text()
    assert "Cannot reach the sign-in service" in problem_shown(app)
    assert sign_in_dialogs() == []  # not "please sign in again"
    assert memory_keyring.get_password(APP_NAME, store.account) == STORED_TOKEN
    assert app.client is None

    app.reconnect()  # still offline: the same answer, and the sign-in is still kept
    qtbot.waitUntil(lambda: app.status.state_label.text().startswith("Cannot reach the sign-in service"),
                    timeout=WAIT_MS)
    assert sign_in_dialogs() == []
    assert memory_keyring.get_password(APP_NAME, store.account) == STORED_TOKEN


def test_a_refused_restore_asks_to_sign_in_again_and_forgets_the_token(qtbot, tmp_path: Path, soketi: Soketi,
                                                                        make_app, oidc_provider,
                                                                        memory_keyring: MemoryKeyring) -> None:
    store = RefreshTokenStore(oidc_provider.issuer, oidc_provider.client_id, backend=memory_keyring)
    store.save(STORED_TOKEN)  # never issued by this provider: refused as invalid_grant
    config = with_auth0(soketi_config(soketi, tmp_path), oidc_provider.issuer, oidc_provider.client_id)
    app = make_app(config, tmp_path / "data")
    qtbot.waitUntil(lambda: bool(sign_in_dialogs()), timeout=WAIT_MS)
    assert app.status.state_label.text() == "Your sign-in has expired or was revoked. Sign in again."
    assert memory_keyring.get_password(APP_NAME, store.account) is None
    for dialog in sign_in_dialogs():
        dialog.reject()
    assert app.status.state_label.text() == "Not signed in: the feed stays disconnected"


class ProviderBehind(OidcProvider):
    """The test OpenID provider, reached (and naming itself as issuer) through a :class:`Cable`."""

    def __init__(self, cable: Cable) -> None:
        super().__init__(interval=1)
        self._issuer = f"http://127.0.0.1:{cable.port}/"

    @property
    def issuer(self) -> str:
        return self._issuer


def test_offline_at_start_the_window_signs_in_by_itself_once_the_service_answers(
        qtbot, tmp_path: Path, soketi: Soketi, make_app, memory_keyring: MemoryKeyring) -> None:
    cable = Cable()
    provider = ProviderBehind(cable)
    provider.start()
    try:
        cable.target = provider.port
        cable.plug()
        sign_in_once(provider, memory_keyring, sub="auth0|demo-ada")  # earlier, as `login-feed login` does
        cable.unplug()  # and now the computer starts offline

        config = with_auth0(soketi_config(soketi, tmp_path), provider.issuer, provider.client_id, provider.audience)
        app = make_app(config, tmp_path / "data", start=False)
        app.connection.restore_retry_ms = 200
        app.start()
        qtbot.waitUntil(lambda: app.status.state_label.text().startswith("Cannot reach the sign-in service"),
                        timeout=WAIT_MS)
        assert "trying again every 0.2 s, or Reconnect" in app.status.state_label.text()
        assert sign_in_dialogs() == []

        cable.plug()  # the network is back: the next try signs in and connects, nobody pressed anything
        wait_connected(qtbot, app)
        assert app.status.user_label.text() == "Signed in as Ada Lovelace"
        assert problem_shown(app) == ""
        assert sign_in_dialogs() == []
    finally:
        cable.unplug()
        provider.close()
