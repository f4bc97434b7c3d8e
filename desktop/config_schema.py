"""The configuration's shape: frozen dataclasses, plus the TOML text that represents them.

The writer lives next to the shape because the schema is flat (sections of scalars plus one string table),
which makes a tiny, exact writer simpler than another dependency.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

from desktop.alerts.config import AlertsConfig
from desktop.config_checks import DEFAULT_SCOPE
from desktop.config_values import is_loopback_host


class ConfigError(Exception):
    """Invalid or incomplete configuration; the message names the file, the key and what is expected."""


def _bracket(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


@dataclass(frozen=True)
class Auth0Config:
    """Where to sign in: a tenant domain or a full issuer URL (for custom domains)."""

    domain: str | None = None
    issuer: str | None = None
    client_id: str | None = None
    audience: str | None = None
    scope: str = DEFAULT_SCOPE

    @property
    def issuer_url(self) -> str | None:
        """The issuer, derived from the domain when not given (Auth0 issuers end with a slash)."""
        if self.issuer:
            return self.issuer
        return f"https://{self.domain.rstrip('.')}/" if self.domain else None


@dataclass(frozen=True)
class PusherConfig:
    """Which Pusher (or Pusher-compatible, e.g. soketi) server to talk to."""

    key: str = ""
    cluster: str | None = "mt1"
    host: str | None = None
    port: int | None = None
    tls: bool = True
    app_id: str | None = None

    @property
    def effective_port(self) -> int:
        if self.port is not None:
            return self.port
        return 443 if self.tls else 80

    @property
    def ws_url_base(self) -> str:
        """scheme://host:port, without the /app/<key> path the client adds."""
        host = self.host or f"ws-{self.cluster}.pusher.com"
        return f"{'wss' if self.tls else 'ws'}://{_bracket(host)}:{self.effective_port}"

    @property
    def http_api_base(self) -> str:
        """Base URL of the HTTP (trigger) API: the cluster's api host, or the custom host and port."""
        scheme = "https" if self.tls else "http"
        if self.host:
            return f"{scheme}://{_bracket(self.host)}:{self.effective_port}"
        return f"{scheme}://api-{self.cluster}.pusher.com"

    @property
    def is_loopback(self) -> bool:
        """True for a local server, where plain ws:// is expected rather than worth a warning."""
        return self.host is not None and is_loopback_host(self.host)


@dataclass(frozen=True)
class AuthorizationConfig:
    """Who signs channel subscriptions: the bundled local signer or a remote endpoint."""

    mode: Literal["local", "remote"] = "local"
    endpoint: str | None = None
    user_endpoint: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    timeout: float = 10.0


@dataclass(frozen=True)
class FeedConfig:
    channel: str = "private-login-feed"
    events_endpoint: str | None = None
    """The tenant log's ``GET /events`` (remote mode); by default next to ``[authorization] endpoint``'s
    ``/pusher/auth`` on the same server."""


@dataclass(frozen=True)
class ChatConfig:
    channel: str = "private-chat"
    event: str = "message-added"
    send: Literal["endpoint", "client-events"] = "endpoint"
    message_endpoint: str | None = None
    presence_channel: str = "presence-support"


@dataclass(frozen=True)
class AuthServerConfig:
    """The reference endpoint (``login-feed authserver``): who may use it, and how hard.

    ``allowed_client_ids`` empty means any application of the tenant; ``rate_limit`` is requests per minute per
    user (the token's ``sub``) on each of the signing routes and ``/message``, with bursts of ``rate_burst``;
    ``max_connections`` caps open connections (more get 503 until some close). The tenant log: ``database`` is
    its SQLite file (default ``tenant-log.sqlite3`` in the data directory), ``retention_days`` how long events
    are kept. Written as ``[server]`` (``login-feed server``); ``[authserver]`` is accepted as an alias.
    """

    permission: str = "read:login-feed"
    allowed_client_ids: tuple[str, ...] = ()
    rate_limit: float = 60.0
    rate_burst: int = 20
    max_connections: int = 200
    database: str | None = None
    retention_days: int = 30


@dataclass(frozen=True)
class Auth0ManagementConfig:
    """The Machine-to-Machine application the server's catch-up uses (``read:logs read:logs_users``); its
    secret comes from ``LOGIN_FEED_AUTH0_CLIENT_SECRET`` or the keyring, never from this file."""

    domain: str | None = None
    client_id: str | None = None
    audience: str | None = None

    @property
    def configured(self) -> bool:
        return bool(self.domain and self.client_id)


# The name a section is written under when it differs from its attribute (the file also accepts the attribute's).
SECTION_NAMES: dict[str, str] = {"authserver": "server"}

SECTION_TYPES: dict[str, type] = {
    "auth0": Auth0Config,
    "pusher": PusherConfig,
    "authorization": AuthorizationConfig,
    "feed": FeedConfig,
    "chat": ChatConfig,
    "authserver": AuthServerConfig,
    "auth0_management": Auth0ManagementConfig,
    "alerts": AlertsConfig,
}


@dataclass(frozen=True)
class Config:
    """The whole configuration; `path` is the file it came from (or will be saved to)."""

    auth0: Auth0Config = field(default_factory=Auth0Config)
    pusher: PusherConfig = field(default_factory=PusherConfig)
    authorization: AuthorizationConfig = field(default_factory=AuthorizationConfig)
    feed: FeedConfig = field(default_factory=FeedConfig)
    chat: ChatConfig = field(default_factory=ChatConfig)
    authserver: AuthServerConfig = field(default_factory=AuthServerConfig)
    auth0_management: Auth0ManagementConfig = field(default_factory=Auth0ManagementConfig)
    alerts: AlertsConfig = field(default_factory=AlertsConfig)
    """What ``login-feed server`` raises alerts on (:mod:`desktop.alerts`, issue 15)."""
    path: Path | None = None

    def require_pusher(self) -> PusherConfig:
        """The Pusher settings, for commands that cannot run without an app key."""
        if not self.pusher.key:
            where = str(self.path) if self.path else "the config file"
            hint = f"set [pusher] key in {where} or LOGIN_FEED_PUSHER_KEY"
            raise ConfigError(f"no Pusher key configured: {hint}")
        return self.pusher


# ---- writing ----------------------------------------------------------------------------------------------


def render_toml(config: Config) -> str:
    """TOML text for the config; a tiny writer because the schema is flat (plus one string table)."""
    out = ["# Login Feed configuration. Secrets (Pusher app secret, tokens) live in the OS keyring.", ""]
    for section in SECTION_TYPES:
        part = getattr(config, section)
        out.append(f"[{SECTION_NAMES.get(section, section)}]")
        tables: list[tuple[str, dict[str, str]]] = []
        for f in fields(part):
            value = getattr(part, f.name)
            if isinstance(value, dict):
                if value:
                    tables.append((f.name, value))
            elif value is not None:
                out.append(f"{_toml_key(f.name)} = {_toml_value(value)}")
            elif f.default is not None:  # e.g. no cluster: "" means "not set" rather than the default
                out.append(f'{_toml_key(f.name)} = ""')
        for name, table in tables:
            out += ["", f"[{SECTION_NAMES.get(section, section)}.{name}]"]
            out += [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in table.items()]
        out.append("")
    return "\n".join(out)


_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def _toml_string(text: str) -> str:
    def esc(ch: str) -> str:
        if ch in _ESCAPES:
            return _ESCAPES[ch]
        return f"\\u{ord(ch):04X}" if ord(ch) < 0x20 or ord(ch) == 0x7F else ch

    return '"' + "".join(esc(ch) for ch in text) + '"'


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _toml_string(key)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else str(value)  # TOML spells them inf, -inf, nan
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    raise TypeError(f"cannot write a {type(value).__name__} to the config file")
