"""OpenID Provider discovery: which endpoints to call, checked before any token or code is sent to them.

A wrong or hostile discovery document could point the token endpoint at another host or at plain http, so
every endpoint must be https (http only on a loopback host, for local test servers) and the issuer must be
the configured one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from desktop.auth.common import AuthError, check_url, require_str
from desktop.util.text import clean_text

__all__ = [
    "DiscoveryError", "ProviderMetadata", "discovery_url", "issuer_from_config", "parse_discovery", "same_issuer",
]

WELL_KNOWN_PATH = "/.well-known/openid-configuration"
_WHAT = "The sign-in service's discovery document"


class DiscoveryError(AuthError):
    """The provider cannot be used: misconfigured issuer, unreachable shape, or no device flow."""


@dataclass(frozen=True, slots=True)
class ProviderMetadata:
    """The endpoints this app uses; ``device_authorization_endpoint`` is None only when not required."""

    issuer: str
    token_endpoint: str
    device_authorization_endpoint: str | None
    userinfo_endpoint: str
    jwks_uri: str
    revocation_endpoint: str | None


def same_issuer(a: str, b: str) -> bool:
    """Issuers compare equal up to one trailing slash (Auth0's ends with '/', config files may not)."""
    return a.rstrip("/") == b.rstrip("/")


def issuer_from_config(domain: str | None, issuer: str | None) -> str:
    """The issuer URL: ``issuer`` as given, else ``https://<domain>/`` (Auth0's form, trailing slash)."""
    if issuer and issuer.strip():
        return issuer.strip()
    host = (domain or "").strip().rstrip("/").rstrip(".")
    if not host:
        raise DiscoveryError("No sign-in service configured: set auth0.domain (or auth0.issuer for a custom URL).")
    if "://" in host or "/" in host:
        raise DiscoveryError(
            f"auth0.domain must be a host name such as your-tenant.us.auth0.com, not {clean_text(host)!r}; "
            "put a full URL in auth0.issuer instead."
        )
    return f"https://{host}/"


def discovery_url(issuer: str) -> str:
    """``<issuer>/.well-known/openid-configuration`` without a double slash; the issuer must be https."""
    check_url(issuer, "The issuer", DiscoveryError)
    return issuer.rstrip("/") + WELL_KNOWN_PATH


def _required(document: Mapping[str, object], key: str) -> str:
    return check_url(require_str(document, key, _WHAT, DiscoveryError), f"The {key}", DiscoveryError)


def _optional(document: Mapping[str, object], key: str) -> str | None:
    return None if document.get(key) is None else _required(document, key)


def parse_discovery(document: object, expected_issuer: str, *, require_device_flow: bool = True) -> ProviderMetadata:
    """Validate a discovery document against the configured issuer.

    ``require_device_flow=False`` suits code that only verifies tokens (the authorization endpoint).
    """
    if not isinstance(document, Mapping):
        raise DiscoveryError(f"{_WHAT} is not a JSON object.")
    issuer = require_str(document, "issuer", _WHAT, DiscoveryError)
    check_url(issuer, "The issuer in the discovery document", DiscoveryError)
    if not same_issuer(issuer, expected_issuer):
        raise DiscoveryError(
            f"The discovery document is for issuer {clean_text(issuer)!r}, but the configured issuer is "
            f"{clean_text(expected_issuer)!r}. Check auth0.domain / auth0.issuer."
        )
    device = _optional(document, "device_authorization_endpoint")
    if device is None and require_device_flow:
        raise DiscoveryError(
            f"The sign-in service at {clean_text(issuer)} does not support the device authorization flow "
            "(its discovery document has no device_authorization_endpoint)."
        )
    return ProviderMetadata(
        issuer=issuer,
        token_endpoint=_required(document, "token_endpoint"),
        device_authorization_endpoint=device,
        userinfo_endpoint=_required(document, "userinfo_endpoint"),
        jwks_uri=_required(document, "jwks_uri"),
        revocation_endpoint=_optional(document, "revocation_endpoint"),
    )

