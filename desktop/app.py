"""The window application: the one place that builds the parts and connects them.

Start-up: no configuration file -> Settings first. ``[auth0]`` configured -> sign in (from the keyring if
possible, else the sign-in dialog) before connecting; otherwise connect at once. Everything that may wait
(keyring, network, disk) runs off the GUI thread; the engine's events reach the window through
the one adapter ``PusherBridge``, which routes each batch (feed rows to ``FeedPipe``, chat, presence, the
feed's refusals, state) to its own signal. ``desktop.connection`` owns the engine
itself, one generation at a time; the sign-in restore of a superseded generation is dropped the same way.
"""

from __future__ import annotations

import logging
import os
from concurrent.futures import Future
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtWidgets import QApplication

from desktop import resources
from desktop.alerts.wiring import AlertsWiring
from desktop.auth.signin import SignInManager
from desktop.chat.wiring import attach_chat
from desktop.config_schema import Config
from desktop.connection import Connection, Live
from desktop.engine import build_client, local_identity, signed_in_user, signin_for
from desktop.feed.catchup import SeenLogIds
from desktop.feed.catchup_qt import CatchUpController
from desktop.feed.events import FeedEvent
from desktop.history import HistoryNotice, HistoryWriter, history_path
from desktop.log import install_window_hooks
from desktop.pusher.client import PusherClient
from desktop.secrets import SecretStore
from desktop.signing.names import ChannelKind, channel_kind
from desktop.ui.main_window import MainWindow
from desktop.ui.settings_dialog import SettingsDialog
from desktop.ui.startup import tune_gc, window_config, window_qapp
from desktop.ui.status import ConnectionStatus
from desktop.ui.tray import make_tray, tell_listed
from desktop.util import message
from desktop.util.signals import install_stop_handler, keep_python_awake
from desktop.util.tasks import follow, run_task

log = logging.getLogger("desktop.app")


class LoginFeedApp:
    """Owns the long-lived objects and rebuilds the connection when the settings change."""

    def __init__(self, qapp: QApplication, config: Config, data_dir: Path) -> None:
        from desktop.chat.panel import ChatPanel  # noqa: PLC0415 - heavy widgets, built once here
        from desktop.feed.panel import FeedPanel  # noqa: PLC0415

        self.qapp = qapp
        self.config = config
        self.data_dir = data_dir
        self.prefs = QSettings(str(data_dir / "window.ini"), QSettings.Format.IniFormat)
        self.secrets = SecretStore(os.environ)
        self.status = ConnectionStatus()
        message.global_bridge().shown.connect(self.status.show_message)  # first: what any part tells the person
        self._telling = True
        self.history = HistoryWriter.for_path(history_path(data_dir),  # notices come from its thread
                                              keep_days=int(self.prefs.value("history/retention_days", 30)),
                                              on_notice=tell_history_notice)
        self.feed = FeedPanel()
        self.chat = ChatPanel(config.chat)
        self.window = MainWindow(self.feed, self.chat, self.status, self.prefs)
        self.tray = make_tray(self.window)
        self.alerts = AlertsWiring(self.window, self.feed, self.status, self.prefs, tray=self.tray,
                                   beside=self.window.chat_dock)
        self.seen = SeenLogIds()  # tenant-log events listed, across connections: each is listed once
        self.connection = Connection(persist=self.history.submit, parent=self.window,  # freed with it, here
                                     dedupe=self.seen)
        self.catch_up = CatchUpController(self.window, prefs=self.prefs)
        self.signin: SignInManager | None = None
        self._connect_signals()

    @property
    def client(self) -> PusherClient | None:
        """The current connection's engine (None while none is attached)."""
        return self.connection.client

    # -- wiring -----------------------------------------------------------------------------------------
    def _connect_signals(self) -> None:
        self.window.settings_requested.connect(self.open_settings)
        self.window.sign_in_requested.connect(self.sign_in)
        self.window.sign_out_requested.connect(self.sign_out)
        self.window.export_requested.connect(self.feed.export_visible_csv)
        self.window.reconnect_requested.connect(self.reconnect)
        self.connection.attached.connect(self._attached)
        self.connection.state_changed.connect(self.status.on_state_changed)
        self.connection.stopped.connect(self.status.set_stopped)
        self.connection.feed_problem.connect(self.status.set_feed_problem)
        self.connection.sign_in_needed.connect(self.sign_in)
        self.connection.signed_in.connect(self._signed_in)
        self.connection.feed_subscribed.connect(self.catch_up.start)
        self.connection.state_changed.connect(self.catch_up.on_state)
        self.catch_up.finished.connect(message.info)
        self.feed.story_requested.connect(self.open_story)
        self.window.closing.connect(self.shutdown)
        self.chat.unread_changed.connect(self.window.set_unread)
        self.window.chat_dock.visibilityChanged.connect(self.chat.set_visible_in_window)

    def start(self) -> None:
        """Show the window, restore the history, and only then connect: live events go above old ones."""
        self.window.restore_layout()
        self.window.show()
        limit = self.feed.model.max_rows
        # Both run on the writer's thread, in this order, after what is queued: where catch-up starts, the rows.
        cursor = self.history.call(lambda store: store.newest_cursor())
        future = self.history.recent(limit)
        follow(future, lambda rows: self._history_restored(list(reversed(rows)), cursor), self._history_failed,
               timeout_ms=30_000, owner=self.window)

    def _history_restored(self, rows: list, cursor: Future[str | None] | None = None) -> None:
        self.seen.add(ev.log_id for ev in rows)
        if cursor is not None and cursor.done() and cursor.exception() is None:  # done: it ran before the rows
            self.catch_up.set_start_cursor(cursor.result())
        self.feed.add_events(self.alerts.take(rows, notify=False))
        self.apply_config(self.config)

    def _history_failed(self, exc: BaseException) -> None:
        message.error(f"Could not read the history: {exc}", timeout_ms=10_000)
        self.apply_config(self.config)

    # -- connection -------------------------------------------------------------------------------------
    def apply_config(self, config: Config) -> None:
        """(Re)connect for ``config``: changes from Settings take effect without a restart."""
        self.config = config
        self._disconnect()
        generation = self.connection.begin()  # a restore still running for older settings is dropped
        self.status.new_connection()
        self.status.set_feed_problem(None)  # new settings: the old channel's refusal no longer applies
        channel = config.feed.channel
        kind = channel_kind(channel)
        self.status.set_channel(channel, encrypted=kind is ChannelKind.ENCRYPTED, public=kind is ChannelKind.PUBLIC)
        self.feed.set_public_channel_warning(channel if kind is ChannelKind.PUBLIC else None)
        self.signin = signin_for(config)
        self.catch_up.configure_for(config, self.signin)  # local mode: no server to ask
        self.feed.detail.set_dashboard_domain(config.auth0.domain)
        self.window.set_signed_in(None, can_sign_in=self.signin is not None)
        if self.signin is None:
            name = local_identity()["user_info"]["name"]
            self.chat.set_identity(name)
            self.status.set_user(f"{name} (local signing)" if config.authorization.mode == "local" else None)
            self._connect()
            return
        self.connection.restore(generation, self.signin)

    def sign_in(self) -> None:
        from desktop.auth.qtflow import SignInFlow  # noqa: PLC0415
        from desktop.ui.signin_dialog import SignInDialog  # noqa: PLC0415

        if self.signin is None:
            return
        generation = self.connection.generation
        flow = SignInFlow(self.signin)
        dialog = SignInDialog(flow, self.signin.provider.issuer, self.window)
        dialog.accepted.connect(lambda: self._signed_in() if self.connection.is_current(generation) else None)
        dialog.rejected.connect(lambda: self.status.set_stopped("Not signed in: the feed stays disconnected")
                                if self.connection.is_current(generation) else None)
        dialog.open()
        dialog.start()

    def _signed_in(self) -> None:
        assert self.signin is not None
        profile = self.signin.profile
        name = (profile.name or profile.email) if profile else None
        self.window.set_signed_in(name, can_sign_in=True)
        self.chat.set_identity(name or "")
        if self.signin.keyring_warning:
            message.warning(self.signin.keyring_warning)
        self._connect()

    def sign_out(self) -> None:
        signin = self.signin
        if signin is None:
            return
        self._disconnect()
        self.window.set_signed_in(None, can_sign_in=True)
        run_task(signin.logout, lambda result: message.info(result.message),
                 name="sign-out")

    def reconnect(self) -> None:
        """Reconnect (File menu, status bar, problem bar): a fresh engine with the current settings, after
        restoring the sign-in again if it is missing (offline at start, or the dialog was closed)."""
        if self.signin is not None and self.signin.profile is None:
            self.apply_config(self.config)
        else:
            self._connect()

    def _connect(self) -> None:
        config, signin = self.config, self.signin
        profile, user = None if signin is None else signin.profile, signed_in_user(signin)

        def build() -> PusherClient:  # reads the keyring: off the GUI thread
            return build_client(config, self.secrets, user=user, signin=signin)

        self._disconnect()
        generation = self.connection.begin()
        self.status.new_connection()
        self.alerts.set_person(profile.sub if profile is not None else local_identity()["id"])  # their acks
        self.connection.build(generation, build, config.feed.channel)

    def _attached(self, live: Live) -> None:
        """A new engine for the current settings, not connected yet: give it the feed and the chat."""
        live.pipe.feed_events.connect(self._on_feed_events)
        self.chat.reconfigure(self.config.chat)
        signin = self.signin
        attach_chat(self.chat, live.client, live.bridge, bearer=None if signin is None else signin.access_token)

    def _disconnect(self) -> None:
        sender = self.chat.current_sender
        self.chat.set_sender(None, "Not connected")
        if sender is not None:
            sender.close()
        self.connection.stop()

    # -- events -----------------------------------------------------------------------------------------
    def _on_feed_events(self, rows: list) -> None:
        # Alerts to their panel (an alert's updates only there); the feed lists without the v1 logins folded into
        # their v2 rows.
        listed = self.feed.add_events(self.alerts.take(rows))
        self.catch_up.note_live(rows)
        tell_listed(self.tray, listed, self.prefs)

    def open_story(self, ev: FeedEvent) -> None:
        """One user's recent events, from the server when there is one (remote mode)."""
        from desktop.feed.story import UserStoryDialog  # noqa: PLC0415 - built on demand

        if not ev.user_id:
            return
        dialog = UserStoryDialog(ev, self.feed.model.events(), self.catch_up.user_events(ev.user_id),
                                 channel=self.config.feed.channel, domain=self.config.auth0.domain, parent=self.window)
        dialog.show()

    # -- settings and shutdown --------------------------------------------------------------------------
    def open_settings(self) -> None:
        dialog = SettingsDialog(self.config, self.prefs, self.window, secrets=self.secrets)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.saved.connect(self.apply_config)
        dialog.open()

    def shutdown(self) -> None:
        if self._telling:
            self._telling = False
            message.global_bridge().shown.disconnect(self.status.show_message)
        self._disconnect()
        self.catch_up.close()
        if not self.history.close(timeout=10.0):
            log.warning("the history could not be written completely before quitting")
        if self.tray is not None:
            self.tray.hide()


def tell_history_notice(notice: HistoryNotice) -> None:
    """The history failing (disk full: shown until the next notice), working again, or replaced (an
    unreadable file moved aside). Called on the writer's thread: the message bridge takes it from there."""
    if notice.lasting:
        message.error(notice.message, lasting=True)
    else:
        message.warning(notice.message, timeout_ms=30_000)


def run_window(config_path: Path | None, data_dir: Path | None) -> int:
    qapp = window_qapp()
    install_window_hooks()  # Qt's warnings to the log; an uncaught exception is logged and told, not fatal
    data_dir = resources.data_dir(data_dir)
    config = window_config(config_path, data_dir)
    if isinstance(config, int):
        return config
    app = LoginFeedApp(qapp, config, data_dir)
    install_stop_handler(lambda _name: QTimer.singleShot(0, app.window.close))  # like Quit: flushed, exit 0
    keep_python_awake(app.window)
    app.start()
    _collector = tune_gc(app.window)  # from here on, only the GUI thread runs the cyclic collector
    return qapp.exec()
