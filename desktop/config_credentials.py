"""Keeping secrets out of the configuration file: what looks like a credential, by its name or by its value,
and the checks of the keys where one could slip in (URLs, HTTP headers, the database URL).

Secrets come only from the environment or the OS keyring (:mod:`desktop.secrets`); a file that may be shared,
synced or pasted into a bug report must never hold one, whatever the key holding it is called. An error about
such a value never repeats it (``Invalid(..., echo=False)``).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from desktop.config_values import NO_SPACE_RE, Invalid, host, is_loopback_host

__all__ = ["CREDENTIAL_WORDS", "FORBIDDEN_HEADERS", "SECRET_KEY_NAMES", "credential_name", "credential_value",
           "database", "headers", "host_or_url", "looks_secret", "url"]

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

_HEADER_NAME_RE = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_LOOPBACK_NOTE = "(http:// is allowed only for loopback hosts: 127.0.0.0/8, ::1, localhost)"
_WORD_RE = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")  # X-ApiKey, api_key, apiKey -> words
# A value that is a credential whatever its name: an HTTP auth scheme, a JWT, or a long random-looking token.
_AUTH_SCHEME_RE = re.compile(r"^(bearer|basic|digest|token|apikey|api-key|hmac|negotiate)\s+\S", re.IGNORECASE)
_JWT_RE = re.compile(r"^[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*$")
_RANDOM_RE = re.compile(r"^[A-Za-z0-9+/=_.~-]{32,}$")
_NO_SECRETS = "secrets belong in the OS keyring or the environment, never in the config file"


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


def _shown(name: str) -> str:
    """A parameter or header name, quoted and cut, safe to repeat in an error (never its value)."""
    return repr(name if len(name) <= 40 else name[:40] + "...")


def url(value: Any) -> str:
    """An https URL (http on loopback) without a user name, password or credential in its query or fragment."""
    expected = f"an https:// URL {_LOOPBACK_NOTE}"
    if not isinstance(value, str) or not NO_SPACE_RE.fullmatch(value):
        raise Invalid(f"must be {expected}")
    try:
        parts = urlsplit(value)
        hostname = parts.hostname
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
    if parts.scheme not in ("http", "https") or not hostname:
        raise Invalid(f"must be {expected}")
    if parts.scheme == "http" and not is_loopback_host(hostname):
        raise Invalid(f"must use https:// {_LOOPBACK_NOTE}")
    return value


def host_or_url(value: Any) -> str:
    """``[auth0_management] domain``: the tenant's host name, or a URL (https; http on loopback, for tests)."""
    if isinstance(value, str) and "://" in value:
        return url(value)
    return host("a host name such as your-tenant.us.auth0.com")(value)


def headers(value: Any) -> dict[str, str]:
    """``[authorization] headers``: extra HTTP headers, none of them (by name or value) a credential."""
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


def database(value: Any) -> str:
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
