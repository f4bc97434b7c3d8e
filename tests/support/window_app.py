"""The whole window (``LoginFeedApp``) against a real soketi: its configuration, opening and closing it, waits.

Every app made through :class:`AppFactory` is closed when the test ends (``window.close()``, which flushes
and closes the history and stops the engine's threads), also when the test failed half way.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QEvent, QSettings
from PySide6.QtWidgets import QApplication

from desktop.app import LoginFeedApp
from desktop.config import load_config, save_config
from desktop.config_schema import AuthorizationConfig, ChatConfig, Config, FeedConfig, PusherConfig
from desktop.feed.events import FeedEvent
from desktop.pusher.client import PusherClient
from support.soketi import APP_ID, APP_KEY, APP_SECRET, Soketi

WAIT_MS = 30_000  # generous: only a failing test waits this long, and CI machines are loaded
FEED_CHANNEL = "private-login-feed"
SECRET_ENV = "LOGIN_FEED_PUSHER_SECRET"


def soketi_config(soketi: Soketi, directory: Path, *, feed_channel: str = FEED_CHANNEL,
                  send: str = "client-events", message_endpoint: str | None = None,
                  name: str = "config.toml") -> Config:
    """A local-signing configuration for ``soketi``, saved as ``directory/name`` and read back from it."""
    config = Config(
        pusher=PusherConfig(key=APP_KEY, cluster=None, host=soketi.host, port=soketi.port, tls=False, app_id=APP_ID),
        authorization=AuthorizationConfig(mode="local"),
        feed=FeedConfig(channel=feed_channel),
        chat=ChatConfig(send=send, message_endpoint=message_endpoint),  # type: ignore[arg-type]
    )
    path = save_config(config, directory / name)
    loaded = load_config(path, {})
    assert loaded.path == path and loaded.path.exists()
    return loaded


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def v1_payload(n: int, kind: str = "login", **fields: Any) -> dict[str, Any]:
    """A payload as our Auth0 Action publishes it (contract v1)."""
    payload: dict[str, Any] = {
        "v": 1, "type": kind, "user_id": f"auth0|{n}", "email": f"user{n}@example.com", "name": f"User {n}",
        "nickname": f"user{n}", "picture": f"https://example.com/{n}.png",
        "connection": "Username-Password-Authentication", "client_name": "Support Console", "country": "FR",
        "city": "Paris", "ip": "192.0.2.7", "logins_count": 1 if kind == "signup" else 7, "at": now_iso(),
        "updated_at": now_iso(), "app_metadata": {"signedUp": kind == "signup"},
    }
    payload.update(fields)
    return payload


def event_name(kind: str) -> str:
    return "user-signedUp" if kind == "signup" else "user-loggedIn"


def trigger_v1(soketi: Soketi, channel: str, n: int, kind: str = "login", **fields: Any) -> dict[str, Any]:
    payload = v1_payload(n, kind, **fields)
    soketi.trigger(channel, event_name(kind), payload)
    return payload


def trigger_many(soketi: Soketi, channel: str, numbers: Iterable[int], kind: str = "login") -> None:
    """One ``user-loggedIn`` per number, ten per HTTP request, in order."""
    batch: list[dict[str, Any]] = []
    for n in numbers:
        batch.append({"channel": channel, "name": event_name(kind), "data": v1_payload(n, kind)})
        if len(batch) == 10:
            soketi.trigger_batch(batch)
            batch = []
    if batch:
        soketi.trigger_batch(batch)


def subscribed(client: PusherClient | None, channel: str) -> bool:
    handle = client.channel(channel) if client is not None else None
    return handle is not None and handle.subscribed


def wait_connected(qtbot: Any, app: LoginFeedApp, channels: Iterable[str] = ()) -> PusherClient:
    """Until the status bar says Connected and the feed channel (and ``channels``) are subscribed."""
    wanted = [app.config.feed.channel, *channels]
    qtbot.waitUntil(lambda: app.status.state_label.text() == "Connected"
                    and all(subscribed(app.client, name) for name in wanted), timeout=WAIT_MS)
    assert app.client is not None
    return app.client


def user_ids(events: Iterable[FeedEvent]) -> list[str | None]:
    return [ev.user_id for ev in events]


def keep_test_dates(data_dir: Path) -> None:
    """Keep history for ten years unless the test chose: the history prunes by event time, and test data carries
    fixed dates (2026-11-21), which the default 30 days would prune once that date is a month past."""
    prefs = QSettings(str(data_dir / "window.ini"), QSettings.Format.IniFormat)
    if not prefs.contains("history/retention_days"):
        prefs.setValue("history/retention_days", 3650)
    prefs.sync()


class AppFactory:
    """``make(config, data_dir)`` -> a started :class:`LoginFeedApp`; every app is closed at the end."""

    def __init__(self, qtbot: Any) -> None:
        self._qtbot = qtbot
        self.apps: list[LoginFeedApp] = []

    def __call__(self, config: Config, data_dir: Path, *, start: bool = True) -> LoginFeedApp:
        qapp = QApplication.instance()
        assert isinstance(qapp, QApplication)
        keep_test_dates(data_dir)
        app = LoginFeedApp(qapp, config, data_dir)
        self.apps.append(app)
        if start:
            app.start()
            self._qtbot.waitExposed(app.window)
        return app

    @staticmethod
    def close(app: LoginFeedApp) -> None:
        """Quit as the person would (File > Quit closes the window): layout saved, history flushed."""
        if not app.history.closed:
            app.window.close()
        assert app.history.closed

    def close_all(self) -> None:
        """Close every app, then destroy its Qt objects here, on the GUI thread.

        A failed test keeps its frames (and so the app) alive in ``sys.last_traceback``; if the app's widgets
        were left to the cyclic garbage collector, it could destroy them on whatever thread happens to
        allocate next (an engine or worker thread), which crashes Qt.
        """
        for app in reversed(self.apps):
            try:
                self.close(app)
            finally:
                app.window.deleteLater()  # with it the panels, the status bar and the tray icon
                app.prefs.deleteLater()
        self.apps.clear()
        QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        QApplication.processEvents()
        gc.collect()


def secret_env() -> dict[str, str]:
    return {SECRET_ENV: APP_SECRET}


@pytest.fixture
def make_app(qtbot: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[AppFactory]:
    """``make_app(config, data_dir)``: windows built for this test, all closed at its end. The local signer's
    app secret is in the environment (remote mode never reads it)."""
    monkeypatch.setenv(SECRET_ENV, APP_SECRET)
    factory = AppFactory(qtbot)
    try:
        yield factory
    finally:
        factory.close_all()
