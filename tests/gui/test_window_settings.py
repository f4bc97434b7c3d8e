"""Settings: every key round-trips through the dialog to the TOML file and back; invalid values write nothing;
secrets go to the keyring and never to a file; first run (no configuration) opens Settings before the window.
"""

from __future__ import annotations

import base64
import gc
import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtWidgets import QApplication, QCheckBox, QComboBox, QLineEdit, QMessageBox, QSpinBox, QWidget
from support.signin_helpers import MemoryKeyring
from support.soketi import APP_KEY, APP_SECRET, Soketi
from support.window_app import SECRET_ENV

from desktop import app as desktop_app
from desktop.config import default_config_path, load_config, save_config
from desktop.config_checks import SCHEMA
from desktop.config_schema import (
    Auth0Config,
    AuthorizationConfig,
    AuthServerConfig,
    ChatConfig,
    Config,
    FeedConfig,
    PusherConfig,
)
from desktop.secrets import SERVICE, SecretStore, pusher_secret_account
from desktop.ui.main_window import MainWindow
from desktop.ui.settings_dialog import SettingsDialog

MASTER = base64.b64encode(bytes(range(32))).decode()
SECRET = "s3cr3t-typed-in-settings"


def original_config(tmp_path: Path) -> Config:
    config = Config(
        pusher=PusherConfig(key="app-key", cluster=None, host="127.0.0.1", port=6001, tls=False, app_id="1"),
        authorization=AuthorizationConfig(mode="local", headers={"X-Team": "support"}, timeout=7.5),
        chat=ChatConfig(send="endpoint", message_endpoint="https://chat.example.com/message"),
    )
    return load_config(save_config(config, tmp_path / "config.toml"), {})


@pytest.fixture
def prefs(tmp_path: Path) -> QSettings:
    return QSettings(str(tmp_path / "window.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def keyring_backend() -> MemoryKeyring:
    return MemoryKeyring()


@pytest.fixture
def make_dialog(qtbot, prefs: QSettings, keyring_backend: MemoryKeyring) -> Callable[[Config], SettingsDialog]:
    def make(config: Config) -> SettingsDialog:
        dialog = SettingsDialog(config, prefs, secrets=SecretStore(env={}, backend=keyring_backend))
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.waitExposed(dialog)
        return dialog

    return make


def set_text(qtbot, dialog: SettingsDialog, key: str, text: str) -> None:
    edit = dialog.fields[key]
    assert isinstance(edit, QLineEdit)
    edit.clear()
    if text:
        qtbot.keyClicks(edit, text)
    assert edit.text() == text


def choose(dialog: SettingsDialog, key: str, data: str) -> None:
    combo = dialog.fields[key]
    assert isinstance(combo, QComboBox)
    index = combo.findData(data)
    assert index >= 0
    combo.setCurrentIndex(index)


def spin(dialog: SettingsDialog, key: str) -> QSpinBox:
    box = dialog.fields[key]
    assert isinstance(box, QSpinBox)
    return box


def check(dialog: SettingsDialog, key: str) -> QCheckBox:
    box = dialog.fields[key]
    assert isinstance(box, QCheckBox)
    return box


def save_and_wait(qtbot, dialog: SettingsDialog) -> Config:
    with qtbot.waitSignal(dialog.saved, timeout=10_000) as blocker:
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.result() == SettingsDialog.DialogCode.Accepted, timeout=10_000)
    config = blocker.args[0]
    assert isinstance(config, Config)
    return config


# -- the round trip ----------------------------------------------------------------------------------------
def test_every_field_round_trips_to_the_toml_file(qtbot, tmp_path: Path, make_dialog, prefs: QSettings) -> None:
    config = original_config(tmp_path)
    dialog = make_dialog(config)
    assert dialog.path_label.text() == f"Saved to {config.path}"

    set_text(qtbot, dialog, "pusher.key", "other-key")
    set_text(qtbot, dialog, "pusher.cluster", "eu")
    set_text(qtbot, dialog, "pusher.host", "pusher.example.com")
    spin(dialog, "pusher.port").setValue(6002)
    check(dialog, "pusher.tls").setChecked(True)
    set_text(qtbot, dialog, "pusher.app_id", "42")
    choose(dialog, "authorization.mode", "remote")
    set_text(qtbot, dialog, "authorization.endpoint", "https://auth.example.com/pusher/auth")
    set_text(qtbot, dialog, "authorization.user_endpoint", "https://auth.example.com/pusher/user-auth")
    set_text(qtbot, dialog, "auth0.domain", "tenant.eu.auth0.com")
    set_text(qtbot, dialog, "auth0.client_id", "client-123")
    set_text(qtbot, dialog, "auth0.audience", "https://api.example.com")
    set_text(qtbot, dialog, "auth0.scope", "openid profile email offline_access")
    set_text(qtbot, dialog, "feed.channel", "private-login-feed-eu")
    set_text(qtbot, dialog, "chat.channel", "private-team")
    set_text(qtbot, dialog, "chat.event", "note-added")
    choose(dialog, "chat.send", "client-events")
    set_text(qtbot, dialog, "chat.message_endpoint", "")
    set_text(qtbot, dialog, "chat.presence_channel", "presence-team")
    set_text(qtbot, dialog, "authserver.permission", "read:feed")
    set_text(qtbot, dialog, "authserver.allowed_client_ids", "client-123, cli-app")
    dialog.fields["authserver.rate_limit"].setValue(30.0)  # type: ignore[attr-defined]
    spin(dialog, "authserver.rate_burst").setValue(5)
    spin(dialog, "authserver.max_connections").setValue(50)
    check(dialog, "app.notify").setChecked(False)
    spin(dialog, "app.retention").setValue(90)

    saved = save_and_wait(qtbot, dialog)

    assert saved.path == config.path
    expected = Config(
        auth0=Auth0Config(domain="tenant.eu.auth0.com", client_id="client-123", audience="https://api.example.com",
                          scope="openid profile email offline_access"),
        pusher=PusherConfig(key="other-key", cluster="eu", host="pusher.example.com", port=6002, tls=True,
                            app_id="42"),
        authorization=AuthorizationConfig(mode="remote", endpoint="https://auth.example.com/pusher/auth",
                                          user_endpoint="https://auth.example.com/pusher/user-auth",
                                          headers={"X-Team": "support"}, timeout=7.5),  # kept as they were
        feed=FeedConfig(channel="private-login-feed-eu"),
        chat=ChatConfig(channel="private-team", event="note-added", send="client-events", message_endpoint=None,
                        presence_channel="presence-team"),
        authserver=AuthServerConfig(permission="read:feed", allowed_client_ids=("client-123", "cli-app"),
                                    rate_limit=30.0, rate_burst=5, max_connections=50),
        path=config.path,
    )
    assert saved == expected
    assert load_config(config.path, {}) == expected
    text = config.path.read_text(encoding="utf-8")
    for line in ("port = 6002", 'channel = "private-login-feed-eu"', 'send = "client-events"', "tls = true"):
        assert line in text.splitlines()
    prefs.sync()
    assert prefs.value("notifications/signups", type=bool) is False
    assert int(prefs.value("history/retention_days")) == 90


def test_the_brief_round_trip_port_channel_and_send_mode(qtbot, tmp_path: Path, make_dialog) -> None:
    config = original_config(tmp_path)
    dialog = make_dialog(config)
    spin(dialog, "pusher.port").setValue(7001)
    set_text(qtbot, dialog, "feed.channel", "private-encrypted-login-feed")
    choose(dialog, "chat.send", "client-events")
    saved = save_and_wait(qtbot, dialog)
    reread = load_config(config.path, {})
    assert reread == saved
    assert (reread.pusher.port, reread.feed.channel, reread.chat.send) == (
        7001, "private-encrypted-login-feed", "client-events")
    assert reread.chat.message_endpoint == "https://chat.example.com/message"  # untouched keys stay


def test_settings_has_a_field_for_every_key_of_the_file(make_dialog, tmp_path: Path) -> None:
    """The product: "Settings: every config key". Keys the dialog cannot edit survive a save (see above),
    but a person cannot change them without a text editor."""
    dialog = make_dialog(original_config(tmp_path))
    keys = {f"{section}.{key}" for section, entries in SCHEMA.items() for key in entries}
    assert sorted(keys - set(dialog.fields)) == []


# -- invalid values ----------------------------------------------------------------------------------------
def test_an_invalid_channel_shows_the_error_and_writes_nothing(qtbot, tmp_path: Path, make_dialog,
                                                               keyring_backend: MemoryKeyring) -> None:
    config = original_config(tmp_path)
    before = config.path.read_bytes()
    dialog = make_dialog(config)
    saved: list[object] = []
    dialog.saved.connect(saved.append)
    assert dialog.error.isHidden()

    set_text(qtbot, dialog, "feed.channel", "bad channel!")
    set_text(qtbot, dialog, "secret.pusher", SECRET)
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)

    assert dialog.error.isVisible()
    assert "[feed] channel" in dialog.error.text()
    assert dialog.error.textFormat() == Qt.TextFormat.PlainText
    assert dialog.isVisible() and dialog.save_button.isEnabled()
    assert saved == []
    assert config.path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".config.toml")] == []  # no temp file left
    assert keyring_backend.store == {}

    set_text(qtbot, dialog, "feed.channel", "private-login-feed-2")  # corrected: now it saves
    assert save_and_wait(qtbot, dialog).feed.channel == "private-login-feed-2"


def test_an_invalid_master_key_writes_nothing_either(qtbot, tmp_path: Path, make_dialog,
                                                     keyring_backend: MemoryKeyring) -> None:
    """All-or-nothing: a key of the wrong size is refused before anything is written."""
    config = original_config(tmp_path)
    before = config.path.read_bytes()
    dialog = make_dialog(config)
    saved: list[object] = []
    dialog.saved.connect(saved.append)

    set_text(qtbot, dialog, "feed.channel", "private-login-feed-2")
    set_text(qtbot, dialog, "secret.master", base64.b64encode(b"too short").decode())
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)

    qtbot.waitUntil(dialog.error.isVisible, timeout=10_000)
    assert "32 bytes" in dialog.error.text()
    assert saved == [] and keyring_backend.store == {}
    assert config.path.read_bytes() == before


# -- secrets --------------------------------------------------------------------------------------------------
def test_secrets_go_to_the_keyring_and_never_to_a_file(qtbot, tmp_path: Path, make_dialog, prefs: QSettings,
                                                       keyring_backend: MemoryKeyring) -> None:
    config = original_config(tmp_path)
    dialog = make_dialog(config)
    secret_edit = dialog.fields["secret.pusher"]
    assert isinstance(secret_edit, QLineEdit) and secret_edit.echoMode() == QLineEdit.EchoMode.Password
    set_text(qtbot, dialog, "secret.pusher", SECRET)
    set_text(qtbot, dialog, "secret.master", MASTER)

    saved = save_and_wait(qtbot, dialog)

    assert keyring_backend.store == {(SERVICE, pusher_secret_account("app-key")): SECRET,
                                     (SERVICE, "encryption-master-key"): MASTER}
    assert saved == load_config(config.path, {})
    prefs.sync()
    for path in tmp_path.rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            assert SECRET.encode() not in content and MASTER.encode() not in content, path


# -- first run ---------------------------------------------------------------------------------------------------
class TopLevelWatcher:
    """Polls the top-level widgets from the event loop (also inside a modal dialog's own loop) and acts."""

    def __init__(self, act: Callable[[QWidget], bool]) -> None:
        self.seen: list[str] = []
        self._act = act
        self.timer = QTimer()
        self.timer.setInterval(20)
        self.timer.timeout.connect(self._poll)
        self.timer.start()

    def _poll(self) -> None:
        for widget in QApplication.topLevelWidgets():
            if not widget.isVisible():
                continue
            if isinstance(widget, QMessageBox):
                self.seen.append(f"QMessageBox: {widget.text()}")
                widget.done(QMessageBox.StandardButton.Ok)  # would otherwise wait for a person
            elif self._act(widget):
                self.seen.append(type(widget).__name__)

    def stop(self) -> None:
        self.timer.stop()


@pytest.fixture
def isolated_run_window(monkeypatch, tmp_path: Path) -> Iterator[None]:
    """run_window() changes process-wide things (application name, signal handlers): put them back."""
    qapp = QApplication.instance()
    assert isinstance(qapp, QApplication)
    names = (qapp.applicationName(), qapp.organizationName())
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))  # the default config path
    for name in [n for n in os.environ if n.startswith("LOGIN_FEED_")]:
        monkeypatch.delenv(name)
    try:
        yield
    finally:
        qapp.setApplicationName(names[0])
        qapp.setOrganizationName(names[1])
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
        gc.collect()  # the app run_window made is garbage now: free its widgets here, on the GUI thread


def reject_settings(widget: QWidget) -> bool:
    if isinstance(widget, SettingsDialog):
        widget.reject()
        return True
    return False


def test_first_run_with_no_configuration_opens_settings_and_cancel_quits(tmp_path: Path,
                                                                         isolated_run_window) -> None:
    default = default_config_path()  # under XDG_CONFIG_HOME, which the fixture set
    assert str(default).startswith(str(tmp_path))
    watcher = TopLevelWatcher(reject_settings)
    try:
        code = desktop_app.run_window(None, tmp_path / "data")
    finally:
        watcher.stop()
    assert watcher.seen == ["SettingsDialog"]
    assert code == 0
    assert not default.exists()


def test_first_run_with_a_config_path_that_does_not_exist_yet_opens_settings(tmp_path: Path,
                                                                             isolated_run_window) -> None:
    """``login-feed --config new.toml`` on a first run: Settings (which will save to that path), not an error."""
    path = tmp_path / "new" / "config.toml"
    watcher = TopLevelWatcher(reject_settings)
    try:
        code = desktop_app.run_window(path, tmp_path / "data")
    finally:
        watcher.stop()
    assert watcher.seen == ["SettingsDialog"]
    assert code == 0
    assert not path.exists()


@pytest.mark.integration
def test_first_run_save_opens_the_window_connected_with_that_configuration(qtbot, tmp_path: Path, soketi: Soketi,
                                                                           isolated_run_window,
                                                                           monkeypatch) -> None:
    monkeypatch.setenv(SECRET_ENV, APP_SECRET)
    windows: list[MainWindow] = []

    def fill_in_and_save(widget: QWidget) -> bool:
        if isinstance(widget, SettingsDialog):
            widget.fields["pusher.key"].setText(APP_KEY)  # type: ignore[attr-defined]
            widget.fields["pusher.cluster"].setText("")  # type: ignore[attr-defined]
            widget.fields["pusher.host"].setText(soketi.host)  # type: ignore[attr-defined]
            widget.fields["pusher.port"].setValue(soketi.port)  # type: ignore[attr-defined]
            widget.fields["pusher.tls"].setChecked(False)  # type: ignore[attr-defined]
            widget.save_button.click()
            return True
        if isinstance(widget, MainWindow) and widget not in windows:
            windows.append(widget)
            return True
        if isinstance(widget, MainWindow) and widget.status.state_label.text() == "Connected":
            widget.close()  # Quit: the last window closes and run_window returns
        return False

    watcher = TopLevelWatcher(fill_in_and_save)
    safety = QTimer()  # never hang the suite: end the event loop if the window never closes
    safety.setSingleShot(True)
    safety.timeout.connect(QApplication.quit)
    safety.start(20_000)
    try:
        code = desktop_app.run_window(None, tmp_path / "data")
    finally:
        watcher.stop()
        fired = not safety.isActive()
        safety.stop()
    assert not fired, "the window did not connect and close within 20 s"
    assert watcher.seen == ["SettingsDialog", "MainWindow"]
    assert code == 0
    written = load_config(default_config_path(), {})
    assert (written.pusher.key, written.pusher.host, written.pusher.port, written.pusher.tls) == (
        APP_KEY, soketi.host, soketi.port, False)
    assert APP_SECRET not in default_config_path().read_text(encoding="utf-8")
    assert (tmp_path / "data" / "window.ini").exists()
