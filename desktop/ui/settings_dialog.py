"""Settings: every key of the configuration file, validated by the same loader, plus the secrets.

The TOML file is written only when the loader accepts the new values (so Settings can never write a file
that the app would refuse at the next start); secrets go to the OS keyring on a worker thread.
"""

from __future__ import annotations

import dataclasses
import os
import re

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.config import save_config
from desktop.config_schema import (
    Auth0Config,
    Auth0ManagementConfig,
    AuthorizationConfig,
    AuthServerConfig,
    ChatConfig,
    Config,
    ConfigError,
    FeedConfig,
    PusherConfig,
)
from desktop.secrets import SecretStore
from desktop.signing.signatures import decode_master_key
from desktop.ui.settings_alerts import alerts_config, alerts_tab
from desktop.ui.settings_fields import Fields, format_headers, optional, parse_headers
from desktop.util.tasks import run_task

CATCH_UP_NOTES = {
    "local": "Local mode has no server to ask: events published while this window was closed or offline are "
             "not shown (Pusher keeps no history).",
    "remote": "After every (re)connection the window asks the endpoint's server (login-feed server, GET /events) "
              "for what it missed while offline.",
}


class SettingsDialog(QDialog):
    """Edits a :class:`Config`; emits ``saved(config)`` once the file is written."""

    saved = Signal(object)

    def __init__(self, config: Config, prefs: QSettings, parent: QWidget | None = None, *,
                 secrets: SecretStore | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Login Feed settings")
        self.setMinimumWidth(560)
        self._config = config
        self._prefs = prefs
        self._secrets = secrets or SecretStore(os.environ)
        self.fields = Fields()
        tabs = QTabWidget()
        tabs.addTab(self._pusher_tab(config.pusher), "Pusher")
        tabs.addTab(self._authorization_tab(config.authorization, config.auth0), "Sign-in && authorization")
        tabs.addTab(self._channels_tab(config.feed, config.chat, config.authserver, config.auth0_management),
                    "Channels && chat")
        tabs.addTab(alerts_tab(config.alerts, self.fields), "Alerts")
        tabs.addTab(self._app_tab(), "App")
        self.error = QLabel()
        self.error.setTextFormat(Qt.TextFormat.PlainText)
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #d0443e;")
        self.error.hide()
        self.path_label = QLabel(f"Saved to {config.path}" if config.path else "")
        self.path_label.setTextFormat(Qt.TextFormat.PlainText)
        self.path_label.setEnabled(False)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Save)
        layout = QVBoxLayout(self)
        layout.addWidget(tabs)
        layout.addWidget(self.error)
        layout.addWidget(self.path_label)
        layout.addWidget(buttons)

    # -- tabs -------------------------------------------------------------------------------------------
    def _pusher_tab(self, pusher: PusherConfig) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        fields = self.fields
        form.addRow("App key", fields.line("pusher.key", pusher.key, "required"))
        form.addRow("Cluster", fields.line("pusher.cluster", pusher.cluster, "mt1"))
        form.addRow("Host", fields.line("pusher.host", pusher.host, "ws-<cluster>.pusher.com"))
        form.addRow("Port", fields.number("pusher.port", pusher.port or 0, 0, 65535,
                                          special="default (443 with TLS, 80 without)"))
        form.addRow("", fields.check("pusher.tls", "Use TLS (wss://)", pusher.tls))
        form.addRow("App id", fields.line("pusher.app_id", pusher.app_id, "for the HTTP API"))
        form.addRow("App secret", fields.line("secret.pusher", "", "stored in the OS keyring; empty keeps it",
                                              secret=True))
        form.addRow("Encryption master key", fields.line("secret.master", "", "base64, 32 bytes; keyring only",
                                                         secret=True))
        return page

    def _authorization_tab(self, authz: AuthorizationConfig, auth0: Auth0Config) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        fields = self.fields
        mode = fields.choice("authorization.mode", (("Local: sign with the app secret", "local"),
                                                    ("Remote: ask the company's endpoint", "remote")), authz.mode)
        form.addRow("Channel authorization", mode)
        catch_up = QLabel()
        catch_up.setObjectName("catchUpNote")
        catch_up.setTextFormat(Qt.TextFormat.PlainText)
        catch_up.setWordWrap(True)

        def explain(_: int = 0) -> None:
            catch_up.setText(CATCH_UP_NOTES[mode.currentData()])
        mode.currentIndexChanged.connect(explain)
        explain()
        form.addRow("Missed events", catch_up)
        form.addRow("Endpoint", fields.line("authorization.endpoint", authz.endpoint, "https://…/pusher/auth"))
        form.addRow("User endpoint", fields.line("authorization.user_endpoint", authz.user_endpoint,
                                                 "https://…/pusher/user-auth"))
        form.addRow("Extra headers", fields.line("authorization.headers", format_headers(authz.headers),
                                                 "Name: value; Other-Name: value"))
        form.addRow("Endpoint timeout", fields.number("authorization.timeout", authz.timeout, 1.0, 120.0, " s"))
        form.addRow(QLabel("Auth0 (device-code sign-in)"))
        form.addRow("Domain", fields.line("auth0.domain", auth0.domain, "example.eu.auth0.com"))
        form.addRow("Issuer", fields.line("auth0.issuer", auth0.issuer, "or any OpenID provider URL"))
        form.addRow("Client id", fields.line("auth0.client_id", auth0.client_id))
        form.addRow("Audience", fields.line("auth0.audience", auth0.audience, "https://…/api"))
        form.addRow("Scope", fields.line("auth0.scope", auth0.scope))
        return page

    def _channels_tab(self, feed: FeedConfig, chat: ChatConfig, authserver: AuthServerConfig,
                      management: Auth0ManagementConfig) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        fields = self.fields
        form.addRow("Feed channel", fields.line("feed.channel", feed.channel))
        form.addRow("Tenant log", fields.line("feed.events_endpoint", feed.events_endpoint,
                                              "default: /events next to the endpoint's /pusher/auth"))
        form.addRow("Chat channel", fields.line("chat.channel", chat.channel))
        form.addRow("Chat event", fields.line("chat.event", chat.event))
        form.addRow("Send messages", fields.choice("chat.send", (("Through the message endpoint", "endpoint"),
                                                                 ("As client events", "client-events")), chat.send))
        form.addRow("Message endpoint", fields.line("chat.message_endpoint", chat.message_endpoint,
                                                    "https://…/message"))
        form.addRow("Presence channel", fields.line("chat.presence_channel", chat.presence_channel))
        form.addRow(QLabel("Server (login-feed server)"))
        form.addRow("Permission", fields.line("authserver.permission", authserver.permission))
        form.addRow("Allowed client ids", fields.line("authserver.allowed_client_ids",
                                                      ", ".join(authserver.allowed_client_ids), "any application"))
        form.addRow("Request limit", fields.number("authserver.rate_limit", authserver.rate_limit, 0.1, 100_000.0,
                                                   " per minute per user"))
        form.addRow("Request burst", fields.number("authserver.rate_burst", authserver.rate_burst, 1, 10_000))
        form.addRow("Most connections", fields.number("authserver.max_connections", authserver.max_connections,
                                                      1, 100_000))
        form.addRow("Tenant-log database", fields.line("authserver.database", authserver.database,
                                                       "tenant-log.sqlite3 in the data folder"))
        form.addRow("Keep the tenant log for", fields.number("authserver.retention_days", authserver.retention_days,
                                                             1, 3650, " days"))
        form.addRow(QLabel("Catch-up from Auth0 (Management API; the secret from the environment or keyring)"))
        form.addRow("Tenant domain", fields.line("auth0_management.domain", management.domain, "example.eu.auth0.com"))
        form.addRow("Client id", fields.line("auth0_management.client_id", management.client_id))
        form.addRow("Audience", fields.line("auth0_management.audience", management.audience,
                                            "https://<domain>/api/v2/"))
        return page

    def _app_tab(self) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        fields = self.fields
        prefs = self._prefs
        for key, pref, text in (
                ("app.notify", "signups", "Show a desktop notification for each signup"),
                ("app.notify_blocks", "blocks", "… and for blocks and breached passwords (from the tenant log)"),
                ("app.notify_alerts", "alerts",
                 "… and for each new alert (credential stuffing, brute force, impossible travel …)")):
            form.addRow("", fields.check(key, text, prefs.value(f"notifications/{pref}", True, type=bool)))
        form.addRow("Keep history for", fields.number(
            "app.retention", int(prefs.value("history/retention_days", 30)), 1, 3650, " days",
            tip="Events are deleted once they happened longer ago than this, by their own time (an old event caught "
                "up today included), not by when they arrived"))
        return page

    # -- saving -----------------------------------------------------------------------------------------
    def build_config(self) -> Config:
        f = self.fields
        text = lambda key: f[key].text()  # type: ignore[attr-defined]  # noqa: E731
        port = f["pusher.port"].value()  # type: ignore[attr-defined]
        return dataclasses.replace(
            self._config,
            pusher=PusherConfig(key=text("pusher.key").strip(), cluster=optional(text("pusher.cluster")),
                                host=optional(text("pusher.host")), port=port or None,
                                tls=f["pusher.tls"].isChecked(), app_id=optional(text("pusher.app_id"))),  # type: ignore[attr-defined]
            authorization=AuthorizationConfig(
                mode=f["authorization.mode"].currentData(),  # type: ignore[attr-defined]
                endpoint=optional(text("authorization.endpoint")),
                user_endpoint=optional(text("authorization.user_endpoint")),
                headers=parse_headers(text("authorization.headers")),
                timeout=f["authorization.timeout"].value()),  # type: ignore[attr-defined]
            auth0=Auth0Config(domain=optional(text("auth0.domain")), issuer=optional(text("auth0.issuer")),
                              client_id=optional(text("auth0.client_id")), audience=optional(text("auth0.audience")),
                              scope=text("auth0.scope").strip() or Auth0Config().scope),
            feed=FeedConfig(channel=text("feed.channel").strip(),
                            events_endpoint=optional(text("feed.events_endpoint"))),
            chat=ChatConfig(channel=text("chat.channel").strip(), event=text("chat.event").strip(),
                            send=f["chat.send"].currentData(),  # type: ignore[attr-defined]
                            message_endpoint=optional(text("chat.message_endpoint")),
                            presence_channel=text("chat.presence_channel").strip()),
            authserver=dataclasses.replace(  # keys without a field here keep their loaded values
                self._config.authserver, permission=text("authserver.permission").strip(),
                allowed_client_ids=tuple(p for p in re.split(r"[,\s]+", text("authserver.allowed_client_ids")) if p),
                rate_limit=f["authserver.rate_limit"].value(),  # type: ignore[attr-defined]
                rate_burst=f["authserver.rate_burst"].value(),  # type: ignore[attr-defined]
                max_connections=f["authserver.max_connections"].value(),  # type: ignore[attr-defined]
                database=optional(text("authserver.database")),
                retention_days=f["authserver.retention_days"].value()),  # type: ignore[attr-defined]
            auth0_management=Auth0ManagementConfig(domain=optional(text("auth0_management.domain")),
                                                   client_id=optional(text("auth0_management.client_id")),
                                                   audience=optional(text("auth0_management.audience"))),
            alerts=alerts_config(f),
        )

    def save(self) -> None:
        master = self.fields["secret.master"].text().strip()  # type: ignore[attr-defined]
        try:
            if master:
                decode_master_key(master)  # refuse a bad key before anything is written
            config = self.build_config()
            path = save_config(config, self._config.path)
        except (ConfigError, ValueError) as exc:
            self._show_error(str(exc))
            return
        config = dataclasses.replace(config, path=path)
        self._prefs.setValue("notifications/signups", self.fields["app.notify"].isChecked())  # type: ignore[attr-defined]
        self._prefs.setValue("notifications/blocks", self.fields["app.notify_blocks"].isChecked())  # type: ignore[attr-defined]
        self._prefs.setValue("notifications/alerts", self.fields["app.notify_alerts"].isChecked())  # type: ignore[attr-defined]
        self._prefs.setValue("history/retention_days", self.fields["app.retention"].value())  # type: ignore[attr-defined]
        secret = self.fields["secret.pusher"].text()  # type: ignore[attr-defined]
        if secret or master:
            self.save_button.setEnabled(False)
            run_task(lambda: self._store_secrets(config.pusher.key, secret, master),
                     lambda _: self._done(config), lambda exc: self._show_error(str(exc)), name="keyring",
                     owner=self)
        else:
            self._done(config)

    def _store_secrets(self, key: str, secret: str, master: str) -> None:
        if master:
            self._secrets.set_encryption_master_key(master)
        if secret:
            self._secrets.set_pusher_secret(key, secret)

    def _done(self, config: Config) -> None:
        self.saved.emit(config)
        self.accept()

    def _show_error(self, message: str) -> None:
        self.save_button.setEnabled(True)
        self.error.setText(message)
        self.error.show()
