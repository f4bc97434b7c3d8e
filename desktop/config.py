"""Load, override, validate and save the TOML configuration.

Precedence: built-in defaults < the TOML file < `LOGIN_FEED_<SECTION>_<KEY>` environment variables.
Every error names where the value came from (file or variable), the key and what was expected, so a support
lead can fix a typo without reading code. Secrets never come from, or go to, this file.
"""

from __future__ import annotations

import contextlib
import difflib
import json
import os
import re
import sys
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

import platformdirs

from desktop import APP_NAME
from desktop.alerts.config import AlertsConfig, AlertsConfigError
from desktop.config_checks import (
    ALIASES,
    MASTER_KEY_ENV,
    PUSHER_SECRET_ENV,
    SCHEMA,
    SECRET_ENV_VARS,
    SECTION_ALIASES,
)
from desktop.config_credentials import looks_secret
from desktop.config_schema import (
    SECTION_TYPES,
    Auth0Config,
    AuthorizationConfig,
    AuthServerConfig,
    ChatConfig,
    Config,
    ConfigError,
    FeedConfig,
    PusherConfig,
    render_toml,
)
from desktop.config_values import Invalid
from desktop.signing.names import channel_kind
from desktop.util.files import write_atomically

__all__ = [
    "ENV_PREFIX",
    "SECRET_ENV_VARS",
    "Auth0Config",
    "AuthServerConfig",
    "AuthorizationConfig",
    "ChatConfig",
    "Config",
    "ConfigError",
    "FeedConfig",
    "PusherConfig",
    "config_lookup",
    "default_config_path",
    "load_config",
    "render_toml",
    "save_config",
    "system_config_path",
]

ENV_PREFIX = "LOGIN_FEED_"
SYSTEM_CONFIG_PATH = Path("/etc/login-feed/config.toml")
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


class _Entry(NamedTuple):
    value: Any
    origin: str  # the file path or "environment variable NAME"
    label: str  # "[pusher] port", as the person wrote it


def default_config_path() -> Path:
    """The per-user config file, e.g. ~/.config/login-feed/config.toml on Linux."""
    return platformdirs.user_config_path(APP_NAME) / "config.toml"


def system_config_path() -> Path | None:
    """The file IT drops in for every user of a Linux (or other Unix) machine; none on Windows."""
    return None if sys.platform == "win32" else SYSTEM_CONFIG_PATH


def config_lookup(user: Path, system: Path | None) -> Path:
    """Without `--config`: the user's file if it exists, else the system-wide one if it exists, else the
    user's (missing means defaults, and the first run's Settings writes it)."""
    if user.exists() or system is None or not system.exists():
        return user
    return system


def load_config(path: Path | None = None, env: Mapping[str, str] | None = None) -> Config:
    """Read the file (a missing default file means defaults), apply environment overrides, validate.

    An explicitly given path must exist: a typo in `--config` should not silently mean "defaults". Without
    one: the user's file, then the system-wide one (:func:`config_lookup`).
    """
    env = os.environ if env is None else env
    file = Path(path) if path is not None else config_lookup(default_config_path(), system_config_path())
    raw = _read_toml(file, must_exist=path is not None)
    return _build(raw, str(file), env, file)


def save_config(config: Config, path: Path | None = None) -> Path:
    """Write the config atomically (to `path`, else `config.path`, else the default) and return the path.

    The rendered text is validated first, so Settings cannot write a file the app would then refuse to load.
    The system-wide file belongs to IT: Settings saves the user's own copy instead, which then comes first.
    """
    target = Path(path) if path is not None else (config.path or default_config_path())
    if target == system_config_path():
        target = default_config_path()
    text = render_toml(config)
    _build(tomllib.loads(text), str(target), {}, target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(target, text)
    except OSError as exc:
        raise ConfigError(f"{target}: cannot write the config file: {exc.strerror or exc}") from None
    return target


# ---- reading ----------------------------------------------------------------------------------------------


def _read_toml(file: Path, *, must_exist: bool) -> dict[str, Any]:
    try:
        data = file.read_bytes()
    except FileNotFoundError:
        if must_exist:
            raise ConfigError(f"{file}: config file not found") from None
        return {}
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read the config file: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8-sig")  # tolerate the BOM some Windows editors add
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{file}: not valid UTF-8 text (bad byte at offset {exc.start})") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:  # its message carries "(at line L, column C)"
        raise ConfigError(f"{file}: invalid TOML: {exc}") from None


def _build(raw: dict[str, Any], source: str, env: Mapping[str, str], path: Path | None) -> Config:
    _reject_secrets(raw, source, "")
    entries = _file_entries(raw, source)
    entries.update(_env_entries(env))
    kwargs: dict[str, dict[str, Any]] = {section: {} for section in SCHEMA}
    for (section, key), entry in entries.items():
        try:
            kwargs[section][key] = SCHEMA[section][key].check(entry.value)
        except Invalid as exc:
            raise ConfigError(_message(entry, exc)) from None
    config = Config(**{s: SECTION_TYPES[s](**kw) for s, kw in kwargs.items()}, path=path)
    _check_combinations(config, entries, source)
    return config


def _reject_secrets(table: Mapping[str, Any], source: str, where: str) -> None:
    """Refuse secret-like keys anywhere in the file, without ever repeating their value."""
    for key, value in table.items():
        label = f"[{where}] {key}" if where else key
        if looks_secret(key):
            norm = key.lower().replace("-", "_")
            hint = MASTER_KEY_ENV if "master_key" in norm else PUSHER_SECRET_ENV if "secret" in norm else ""
            raise ConfigError(
                f"{source}: {label} looks like a secret, and secrets do not belong in the config file: keep "
                "them in the OS keyring or the environment"
                + (f" ({hint})" if hint else "")
                + ", and remove this key from the file"
            )
        inner = f"{where}.{key}" if where else key
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, dict):
                _reject_secrets(item, source, inner)


def _file_entries(raw: dict[str, Any], source: str) -> dict[tuple[str, str], _Entry]:
    entries: dict[tuple[str, str], _Entry] = {}
    for section, table in raw.items():
        canonical = SECTION_ALIASES.get(section, section)
        if canonical not in SCHEMA:
            kind = "section" if isinstance(table, dict) else "top-level key"
            shown = f"[{section}]" if isinstance(table, dict) else section
            raise ConfigError(
                f"{source}: unknown {kind} {shown}{_did_you_mean(section, [*SCHEMA, *SECTION_ALIASES], '[{}]')}; "
                f"known sections: {', '.join([*SCHEMA, *SECTION_ALIASES])}"
            )
        if not isinstance(table, dict):
            raise ConfigError(f"{source}: {section} must be a [{section}] table, got {_describe(table)}")
        for key, value in table.items():
            label = f"[{section}] {key}"
            target = ALIASES.get((canonical, key), (canonical, key))
            if target[1] not in SCHEMA[target[0]]:
                known = [*SCHEMA[canonical], *(k for s, k in ALIASES if s == canonical)]
                raise ConfigError(
                    f"{source}: unknown key {label}{_did_you_mean(key, known, '{}')}; "
                    f"known keys in [{section}]: {', '.join(known)}"
                )
            previous = entries.get(target)
            if previous is not None and previous.value != value:
                raise ConfigError(f"{source}: {label} and {previous.label} disagree; keep only one of them")
            entries[target] = _Entry(value, source, label)
    return entries


def _env_entries(env: Mapping[str, str]) -> dict[tuple[str, str], _Entry]:
    entries: dict[tuple[str, str], _Entry] = {}
    for section, specs in SCHEMA.items():
        names = [section, *(alias for alias, target in SECTION_ALIASES.items() if target == section)]
        for key, spec in specs.items():
            for written in names:  # LOGIN_FEED_SERVER_DATABASE and LOGIN_FEED_AUTHSERVER_DATABASE alike
                name = f"{ENV_PREFIX}{written.upper()}_{key.upper()}"
                if name in SECRET_ENV_VARS or name not in env:
                    continue
                value = _from_env(env[name], spec.env)
                entries[(section, key)] = _Entry(value, f"environment variable {name}", f"[{written}] {key}")
    return entries


def _from_env(text: str, kind: str) -> Any:
    """Convert where the text clearly is the wanted type; otherwise keep it so the check reports it."""
    value = text.strip()
    if kind == "int" and re.fullmatch(r"[+-]?\d+", value):
        return int(value)
    if kind == "bool" and value.lower() in _TRUE | _FALSE:
        return value.lower() in _TRUE
    if kind == "float":
        with contextlib.suppress(ValueError):
            return float(value)
    if kind == "table":
        with contextlib.suppress(ValueError):
            return json.loads(value)  # e.g. LOGIN_FEED_AUTHORIZATION_HEADERS='{"X-Team": "support"}'
    if kind == "list":  # e.g. LOGIN_FEED_AUTHSERVER_ALLOWED_CLIENT_IDS="abc123, def456"
        return [part for part in re.split(r"[,\s]+", value) if part]
    return value


def _check_combinations(config: Config, entries: Mapping[tuple[str, str], _Entry], source: str) -> None:
    def origin(*keys: tuple[str, str]) -> str:
        return next((entries[k].origin for k in keys if k in entries), source)

    alert_keys = [k for k in entries if k[0] == "alerts"]
    try:  # the keys together (stuffing_min_accounts_per_ip must not exceed stuffing_accounts)
        AlertsConfig.from_mapping({key: getattr(config.alerts, key) for _, key in alert_keys},
                                  where=f"{origin(*alert_keys)}: [alerts]" if alert_keys else "[alerts]")
    except AlertsConfigError as exc:
        raise ConfigError(str(exc)) from None
    auth = config.authorization
    if auth.mode == "remote" and not auth.endpoint:
        where = origin(("authorization", "endpoint"), ("authorization", "mode"))
        raise ConfigError(
            f'{where}: [authorization] endpoint is required when mode = "remote" '
            "(the https:// URL of your channel authorization endpoint)"
        )
    if not config.pusher.cluster and not config.pusher.host:
        where = origin(("pusher", "cluster"), ("pusher", "host"))
        raise ConfigError(f"{where}: [pusher] cluster or [pusher] host must be set, got neither")
    chat = config.chat
    if chat.send == "client-events" and not channel_kind(chat.channel).allows_client_events:
        where = origin(("chat", "channel"), ("chat", "send"))
        raise ConfigError(
            f'{where}: [chat] channel must be a private- or presence- channel when send = "client-events" '
            "(Pusher refuses client events elsewhere, including encrypted channels), "
            f"got {_describe(chat.channel)}"
        )


def _message(entry: _Entry, exc: Invalid) -> str:
    found = f", got {_describe(entry.value)}" if exc.echo else ""
    return f"{entry.origin}: {entry.label} {exc.requirement}{found}"


def _did_you_mean(name: str, options: Iterable[str], shape: str) -> str:
    close = difflib.get_close_matches(name, list(options), n=1, cutoff=0.6)
    return f" (did you mean {shape.format(close[0])}?)" if close else ""


def _describe(value: Any) -> str:
    """A short rendering of a found value for error messages (long strings are cut)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value if len(value) <= 80 else value[:77] + "...", ensure_ascii=False)
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return f"a TOML {type(value).__name__}"
