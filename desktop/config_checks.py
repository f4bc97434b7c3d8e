"""Per-key rules for the configuration, in one table shared by the loader and the environment overrides.

Each check takes a raw TOML value and returns the typed value or raises Invalid; the loader adds the file and
the key, so the rules stay free of any knowledge of where a value came from. The generic checks are in
:mod:`desktop.config_values`; those that keep credentials out of the file in :mod:`desktop.config_credentials`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from typing import Any, Literal

from desktop.alerts.config import AlertsConfig, AlertsConfigError
from desktop.config_credentials import database, headers, host_or_url, url
from desktop.config_values import (
    NO_SPACE_RE,
    Check,
    Invalid,
    boolean,
    channel,
    choice,
    count,
    host,
    optional,
    port,
    positive,
    text,
)

# Secrets come only from these variables or the OS keyring (desktop.secrets), never from config keys.
PUSHER_SECRET_ENV = "LOGIN_FEED_PUSHER_SECRET"  # noqa: S105 (a variable name)
MASTER_KEY_ENV = "LOGIN_FEED_ENCRYPTION_MASTER_KEY"
LOG_STREAM_TOKEN_ENV = "LOGIN_FEED_LOG_STREAM_TOKEN"  # noqa: S105 (a variable name)
AUTH0_CLIENT_SECRET_ENV = "LOGIN_FEED_AUTH0_CLIENT_SECRET"  # noqa: S105 (the [auth0_management] app's secret)
SECRET_ENV_VARS = frozenset({PUSHER_SECRET_ENV, MASTER_KEY_ENV, LOG_STREAM_TOKEN_ENV, AUTH0_CLIENT_SECRET_ENV})
DEFAULT_SCOPE = "openid profile email offline_access"
MAX_CLIENT_IDS = 100

_CLUSTER_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_URL_SAFE_RE = re.compile(r"^[A-Za-z0-9_.~-]+$")  # the key goes into the websocket path /app/<key>


def _pusher_key(value: Any) -> str:
    if value == "":
        return ""  # not configured yet; Config.require_pusher() complains when a command needs it
    return text("a Pusher app key (letters, digits, '-', '_', '.', '~')", _URL_SAFE_RE, 200)(value)


def _app_id(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return str(value)  # Pusher app ids are numeric; accept them unquoted
    expected = "a Pusher app id (a number or letters, digits, '-', '_', '.', '~')"
    return text(expected, _URL_SAFE_RE, 200)(value)


def _client_ids(value: Any) -> tuple[str, ...]:
    expected = f"a list of at most {MAX_CLIENT_IDS} Auth0 client ids without spaces, such as [\"abc123\"]"
    ok = isinstance(value, list) and len(value) <= MAX_CLIENT_IDS and all(
        isinstance(item, str) and NO_SPACE_RE.fullmatch(item) and len(item) <= 200 for item in value)
    if not ok:
        raise Invalid(f"must be {expected}")
    return tuple(dict.fromkeys(value))


def _alert_setting(key: str) -> Check:
    """One ``[alerts]`` key, checked by :mod:`desktop.alerts.config` (the rule's own bounds and words)."""
    def check(value: Any) -> Any:
        try:
            return AlertsConfig.check_value(key, value)
        except AlertsConfigError as exc:  # "[alerts] key: expected ..., got ..." -> "expected ..., got ..."
            raise Invalid(str(exc).removeprefix(f"[alerts] {key}: "), echo=False) from None

    return check


def _alert_fields() -> dict[str, Field]:
    kinds: dict[type, Literal["bool", "int", "float"]] = {bool: "bool", int: "int", float: "float"}
    return {f.name: Field(_alert_setting(f.name), env=kinds[type(f.default)]) for f in fields(AlertsConfig)}


@dataclass(frozen=True)
class Field:
    """How to check one key, and how to read it from a (always textual) environment variable."""

    check: Check
    env: Literal["str", "int", "bool", "float", "table", "list"] = "str"


SCHEMA: dict[str, dict[str, Field]] = {
    "auth0": {
        "domain": Field(optional(host("a host name such as your-tenant.us.auth0.com"))),
        "issuer": Field(optional(url)),
        "client_id": Field(optional(text("an Auth0 client id without spaces"))),
        "audience": Field(optional(text("an API identifier without spaces"))),
        "scope": Field(text("space-separated scopes", re.compile(r"^\S+( \S+)*$"))),
    },
    "pusher": {
        "key": Field(_pusher_key),
        "cluster": Field(optional(text("a Pusher cluster name such as mt1 or eu", _CLUSTER_RE, 63))),
        "host": Field(optional(host("a host name or IP address such as 127.0.0.1"))),
        "port": Field(optional(port), env="int"),
        "tls": Field(boolean, env="bool"),
        "app_id": Field(optional(_app_id)),
    },
    "authorization": {
        "mode": Field(choice("local", "remote")),
        "endpoint": Field(optional(url)),
        "user_endpoint": Field(optional(url)),
        "headers": Field(headers, env="table"),
        "timeout": Field(positive(300, "seconds"), env="float"),
    },
    "feed": {"channel": Field(channel()), "events_endpoint": Field(optional(url))},
    "chat": {
        "channel": Field(channel()),
        "event": Field(text("an event name without spaces of at most 200 characters", max_len=200)),
        "send": Field(choice("endpoint", "client-events")),
        "message_endpoint": Field(optional(url)),
        "presence_channel": Field(channel(("presence-",))),
    },
    "authserver": {
        "permission": Field(text("a permission name without spaces such as read:login-feed")),
        "allowed_client_ids": Field(_client_ids, env="list"),
        "rate_limit": Field(positive(100_000, "requests per minute"), env="float"),
        "rate_burst": Field(count(1, 10_000, "the requests a user may make at once"), env="int"),
        "max_connections": Field(count(1, 100_000, "the most open connections"), env="int"),
        "database": Field(optional(database)),
        "retention_days": Field(count(1, 3650, "how many days tenant-log events are kept"), env="int"),
    },
    "auth0_management": {
        "domain": Field(optional(host_or_url)),
        "client_id": Field(optional(text("an Auth0 client id without spaces"))),
        "audience": Field(optional(text("an API identifier without spaces"))),
    },
    "alerts": _alert_fields(),
}
# Section names accepted in the file and the environment besides SCHEMA's own: [server] is what the docs use for
# `login-feed server`; [authserver] (the attribute's name) stays valid for files written before.
SECTION_ALIASES: dict[str, str] = {"server": "authserver"}
# Keys accepted where product docs once placed them, mapped to their one canonical home.
ALIASES: dict[tuple[str, str], tuple[str, str]] = {("authorization", "app_id"): ("pusher", "app_id")}
