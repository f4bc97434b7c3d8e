"""Per-key rules for the configuration, in one table shared by the loader and the environment overrides.

Each check takes a raw TOML value and returns the typed value or raises Invalid; the loader adds the file and
the key, so the rules stay free of any knowledge of where a value came from.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit

from desktop.alerts.config import AlertsConfig, AlertsConfigError
from desktop.signing.names import MAX_CHANNEL_NAME_LENGTH, validate_channel_name

# Secrets come only from these variables or the OS keyring (desktop.secrets), never from config keys.
PUSHER_SECRET_ENV = "LOGIN_FEED_PUSHER_SECRET"  # noqa: S105 (a variable name)
MASTER_KEY_ENV = "LOGIN_FEED_ENCRYPTION_MASTER_KEY"
LOG_STREAM_TOKEN_ENV = "LOGIN_FEED_LOG_STREAM_TOKEN"  # noqa: S105 (a variable name)
AUTH0_CLIENT_SECRET_ENV = "LOGIN_FEED_AUTH0_CLIENT_SECRET"  # noqa: S105 (the [auth0_management] app's secret)
SECRET_ENV_VARS = frozenset({PUSHER_SECRET_ENV, MASTER_KEY_ENV, LOG_STREAM_TOKEN_ENV, AUTH0_CLIENT_SECRET_ENV})
DEFAULT_SCOPE = "openid profile email offline_access"
CHANNEL_MAX_LEN = MAX_CHANNEL_NAME_LENGTH
# Names a human might give a secret; such keys are refused anywhere in the file.
SECRET_KEY_NAMES = frozenset(
    ("secret", "app_secret", "master_key", "encryption_master_key", "refresh_token", "password", "passwd", "token")
)
_SECRET_SUFFIXES = ("_secret", "_password", "_token", "master_key")
# The app sends the Auth0 access token itself; a static credential header would be a secret in a file.
FORBIDDEN_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})
# Words that make a header or URL query parameter name a credential (X-Api-Key, ?access_token=, ?sig=...): the
# value would be a secret in a plain file, whatever the key holding the whole table or URL is called.
CREDENTIAL_WORDS = frozenset((
    "key", "apikey", "token", "secret", "password", "passwd", "pwd", "pass", "auth", "authorization", "credential",
    "credentials", "session", "sessionid", "sid", "signature", "sig", "jwt", "bearer", "cookie", "otp", "private",
))
MAX_CLIENT_IDS = 100

_LABEL = r"[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?"
_HOST_RE = re.compile(rf"^{_LABEL}(\.{_LABEL})*\.?$")
_CLUSTER_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_URL_SAFE_RE = re.compile(r"^[A-Za-z0-9_.~-]+$")  # the key goes into the websocket path /app/<key>
_NO_SPACE_RE = re.compile(r"^\S+$")
_HEADER_NAME_RE = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_LOOPBACK_NOTE = "(http:// is allowed only for loopback hosts: 127.0.0.0/8, ::1, localhost)"
_WORD_RE = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")  # X-ApiKey, api_key, apiKey -> words
# A value that is a credential whatever its name: an HTTP auth scheme, a JWT, or a long random-looking token.
_AUTH_SCHEME_RE = re.compile(r"^(bearer|basic|digest|token|apikey|api-key|hmac|negotiate)\s+\S", re.IGNORECASE)
_JWT_RE = re.compile(r"^[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*$")
_RANDOM_RE = re.compile(r"^[A-Za-z0-9+/=_.~-]{32,}$")
_NO_SECRETS = "secrets belong in the OS keyring or the environment, never in the config file"


class Invalid(ValueError):
    """One value failed its check; the loader adds the file and the key to turn it into a ConfigError."""

    def __init__(self, requirement: str, *, echo: bool = True) -> None:
        super().__init__(requirement)
        self.requirement = requirement  # a phrase starting with "must"
        self.echo = echo  # False when the value may be sensitive and must not be repeated back


def looks_secret(name: str) -> bool:
    """True for key names that suggest a secret value, so the file never becomes a secret store."""
    norm = name.strip().lower().replace("-", "_")
    return norm in SECRET_KEY_NAMES or norm.endswith(_SECRET_SUFFIXES)


def credential_name(name: str) -> bool:
    """True for a header or query parameter name that carries a credential: X-Api-Key, apiKey, access_token,
    X-Auth-Token, sig... (the name is split into words, so X-Team or X-Monkey-Id are not)."""
    words = {w.lower() for w in _WORD_RE.findall(name)}
    joined = re.sub(r"[^a-z0-9]", "", name.lower())
    return bool(words & CREDENTIAL_WORDS) or looks_secret(name) or joined in CREDENTIAL_WORDS


def credential_value(value: str) -> bool:
    """True for a value that is a credential whatever it is called: ``Bearer ...``/``Basic ...``, a JWT, or a
    long random-looking token (32+ characters of base64/hex alphabet mixing letters and digits)."""
    value = value.strip()
    if _AUTH_SCHEME_RE.match(value) or _JWT_RE.fullmatch(value):
        return True
    return bool(_RANDOM_RE.fullmatch(value)) and any(c.isdigit() for c in value) and any(c.isalpha() for c in value)


def is_loopback_host(host: str) -> bool:
    """127.0.0.0/8, ::1 and localhost: the only hosts where plain http is acceptable."""
    host = host.strip("[]").rstrip(".").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _is_host(value: str) -> bool:
    try:
        ipaddress.ip_address(value.strip("[]"))
    except ValueError:
        return bool(_HOST_RE.fullmatch(value)) and len(value) <= 253
    return True


Check = Callable[[Any], Any]


def _text(expected: str, pattern: re.Pattern[str] = _NO_SPACE_RE, max_len: int = 1000) -> Check:
    def check(value: Any) -> str:
        if not isinstance(value, str) or not pattern.fullmatch(value) or len(value) > max_len:
            raise Invalid(f"must be {expected}")
        return value

    return check


def _optional(inner: Check) -> Check:
    """An empty string means "not set", so Settings and `VAR=` in a shell can clear a key."""

    def check(value: Any) -> Any:
        return None if value == "" else inner(value)

    return check


def _choice(*options: str) -> Check:
    def check(value: Any) -> str:
        if value not in options:
            raise Invalid("must be one of " + ", ".join(f'"{o}"' for o in options))
        return str(value)

    return check


def _host(expected: str) -> Check:
    def check(value: Any) -> str:
        if not isinstance(value, str) or not _is_host(value):
            hint = " (without a scheme, a port or a path)" if isinstance(value, str) and value else ""
            raise Invalid(f"must be {expected}{hint}")
        return value

    return check


def _valid_channel(name: str) -> bool:
    """Pusher's channel-name rules, from the one place the engine and the signer use too."""
    try:
        validate_channel_name(name)
    except ValueError:
        return False
    return True


def _channel(prefixes: tuple[str, ...] = ()) -> Check:
    def check(value: Any) -> str:
        expected = f"a channel name of at most {CHANNEL_MAX_LEN} characters from a-z A-Z 0-9 - _ = @ , . ;"
        if prefixes:
            expected += " starting with " + " or ".join(f'"{p}"' for p in prefixes)
        ok = isinstance(value, str) and _valid_channel(value)
        if not ok or (prefixes and not value.startswith(prefixes)):
            raise Invalid(f"must be {expected}")
        return value

    return check


def _url(value: Any) -> str:
    expected = f"an https:// URL {_LOOPBACK_NOTE}"
    if not isinstance(value, str) or not _NO_SPACE_RE.fullmatch(value):
        raise Invalid(f"must be {expected}")
    try:
        parts = urlsplit(value)
        host = parts.hostname
        parts.port  # noqa: B018  (raises ValueError on a bad port)
    except ValueError:
        raise Invalid(f"must be {expected}") from None
    if parts.username is not None or parts.password is not None:
        raise Invalid(
            "must not contain a user name or password: secrets belong in the OS keyring or the environment",
            echo=False,
        )
    for name, item in parse_qsl(parts.query, keep_blank_values=True) + parse_qsl(parts.fragment):
        if credential_name(name) or credential_value(item):
            raise Invalid(
                f"must not carry a credential in its query string or fragment (the parameter {_shown(name)}): "
                f"the app sends the Auth0 access token itself, and {_NO_SECRETS}",
                echo=False,
            )
    if parts.scheme not in ("http", "https") or not host:
        raise Invalid(f"must be {expected}")
    if parts.scheme == "http" and not is_loopback_host(host):
        raise Invalid(f"must use https:// {_LOOPBACK_NOTE}")
    return value


def _host_or_url(value: Any) -> str:
    """``[auth0_management] domain``: the tenant's host name, or a URL (https; http on loopback, for tests)."""
    if isinstance(value, str) and "://" in value:
        return _url(value)
    return _host("a host name such as your-tenant.us.auth0.com")(value)


def _port(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise Invalid("must be an integer between 1 and 65535")
    return value


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise Invalid("must be true or false")
    return value


def _seconds(value: Any) -> float:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and 0 < value <= 300
    if not ok:
        raise Invalid("must be a number of seconds greater than 0 and at most 300")
    return float(value)


def _pusher_key(value: Any) -> str:
    if value == "":
        return ""  # not configured yet; Config.require_pusher() complains when a command needs it
    return _text("a Pusher app key (letters, digits, '-', '_', '.', '~')", _URL_SAFE_RE, 200)(value)


def _app_id(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return str(value)  # Pusher app ids are numeric; accept them unquoted
    expected = "a Pusher app id (a number or letters, digits, '-', '_', '.', '~')"
    return _text(expected, _URL_SAFE_RE, 200)(value)


def _shown(name: str) -> str:
    """A parameter or header name, quoted and cut, safe to repeat in an error (never its value)."""
    return repr(name if len(name) <= 40 else name[:40] + "...")


def _headers(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        raise Invalid("must be a table of header names to string values")
    for name, header in value.items():
        if name.lower() in FORBIDDEN_HEADERS:
            raise Invalid(
                f"must not set {name}: the app sends the Auth0 access token itself, and secrets belong in "
                "the OS keyring or the environment",
                echo=False,
            )
        single_line = isinstance(header, str) and not re.search(r"[\r\n\0]", header)
        if not _HEADER_NAME_RE.fullmatch(name) or not single_line:
            raise Invalid("must be a table of header names (HTTP tokens) to single-line string values")
        if credential_name(name) or credential_value(header):
            raise Invalid(
                f"must not set {_shown(name)}: its value looks like a credential (an API key, a token or a "
                f"password), and {_NO_SECRETS}; the app sends the Auth0 access token itself",
                echo=False,
            )
    return dict(value)


def _client_ids(value: Any) -> tuple[str, ...]:
    expected = f"a list of at most {MAX_CLIENT_IDS} Auth0 client ids without spaces, such as [\"abc123\"]"
    ok = isinstance(value, list) and len(value) <= MAX_CLIENT_IDS and all(
        isinstance(item, str) and _NO_SPACE_RE.fullmatch(item) and len(item) <= 200 for item in value)
    if not ok:
        raise Invalid(f"must be {expected}")
    return tuple(dict.fromkeys(value))


def _per_minute(value: Any) -> float:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and 0 < value <= 100_000
    if not ok:
        raise Invalid("must be a number of requests per minute greater than 0 and at most 100000")
    return float(value)


def _database(value: Any) -> str:
    """A SQLite file path, or a ``postgresql://`` URL without a password (that comes from the environment)."""
    if not isinstance(value, str) or not value.strip() or "\0" in value or len(value) > 4096:
        raise Invalid("must be the path of the tenant-log database file, or a postgresql:// URL")
    if value.startswith(("postgresql://", "postgres://")):
        try:
            password = urlsplit(value).password
        except ValueError:
            raise Invalid("must be a valid postgresql:// URL", echo=False) from None
        if password is not None:
            raise Invalid("must not contain a password: set PGPASSWORD in the environment instead", echo=False)
    elif "://" in value:
        raise Invalid("must be a file path or a postgresql:// URL")
    return value


def _count(low: int, high: int, what: str) -> Check:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise Invalid(f"must be {what}: an integer between {low} and {high}")
        return value

    return check


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
        "domain": Field(_optional(_host("a host name such as your-tenant.us.auth0.com"))),
        "issuer": Field(_optional(_url)),
        "client_id": Field(_optional(_text("an Auth0 client id without spaces"))),
        "audience": Field(_optional(_text("an API identifier without spaces"))),
        "scope": Field(_text("space-separated scopes", re.compile(r"^\S+( \S+)*$"))),
    },
    "pusher": {
        "key": Field(_pusher_key),
        "cluster": Field(_optional(_text("a Pusher cluster name such as mt1 or eu", _CLUSTER_RE, 63))),
        "host": Field(_optional(_host("a host name or IP address such as 127.0.0.1"))),
        "port": Field(_optional(_port), env="int"),
        "tls": Field(_bool, env="bool"),
        "app_id": Field(_optional(_app_id)),
    },
    "authorization": {
        "mode": Field(_choice("local", "remote")),
        "endpoint": Field(_optional(_url)),
        "user_endpoint": Field(_optional(_url)),
        "headers": Field(_headers, env="table"),
        "timeout": Field(_seconds, env="float"),
    },
    "feed": {"channel": Field(_channel()), "events_endpoint": Field(_optional(_url))},
    "chat": {
        "channel": Field(_channel()),
        "event": Field(_text("an event name without spaces of at most 200 characters", max_len=200)),
        "send": Field(_choice("endpoint", "client-events")),
        "message_endpoint": Field(_optional(_url)),
        "presence_channel": Field(_channel(("presence-",))),
    },
    "authserver": {
        "permission": Field(_text("a permission name without spaces such as read:login-feed")),
        "allowed_client_ids": Field(_client_ids, env="list"),
        "rate_limit": Field(_per_minute, env="float"),
        "rate_burst": Field(_count(1, 10_000, "the requests a user may make at once"), env="int"),
        "max_connections": Field(_count(1, 100_000, "the most open connections"), env="int"),
        "database": Field(_optional(_database)),
        "retention_days": Field(_count(1, 3650, "how many days tenant-log events are kept"), env="int"),
    },
    "auth0_management": {
        "domain": Field(_optional(_host_or_url)),
        "client_id": Field(_optional(_text("an Auth0 client id without spaces"))),
        "audience": Field(_optional(_text("an API identifier without spaces"))),
    },
    "alerts": _alert_fields(),
}
# Section names accepted in the file and the environment besides SCHEMA's own: [server] is what the docs use for
# `login-feed server`; [authserver] (the attribute's name) stays valid for files written before.
SECTION_ALIASES: dict[str, str] = {"server": "authserver"}
# Keys accepted where product docs once placed them, mapped to their one canonical home.
ALIASES: dict[tuple[str, str], tuple[str, str]] = {("authorization", "app_id"): ("pusher", "app_id")}
