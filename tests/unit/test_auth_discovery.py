"""Discovery: Auth0's document shape, issuer matching, https-only endpoints, and the device-flow requirement."""

from __future__ import annotations

from typing import Any

import pytest

from desktop.auth.discovery import (
    DiscoveryError,
    ProviderMetadata,
    discovery_url,
    issuer_from_config,
    parse_discovery,
    same_issuer,
)

ISSUER = "https://tenant.eu.auth0.com/"


def auth0_document(**changes: Any) -> dict[str, Any]:
    """A real tenant's discovery document, trimmed to what matters (research reference §1.1)."""
    doc: dict[str, Any] = {
        "issuer": ISSUER,
        "authorization_endpoint": ISSUER + "authorize",
        "token_endpoint": ISSUER + "oauth/token",
        "device_authorization_endpoint": ISSUER + "oauth/device/code",
        "userinfo_endpoint": ISSUER + "userinfo",
        "jwks_uri": ISSUER + ".well-known/jwks.json",
        "revocation_endpoint": ISSUER + "oauth/revoke",
        "scopes_supported": ["openid", "profile", "offline_access", "email"],
    }
    doc.update(changes)
    return {k: v for k, v in doc.items() if v is not None}


def test_auth0_document_gives_every_endpoint() -> None:
    assert parse_discovery(auth0_document(), ISSUER) == ProviderMetadata(
        issuer=ISSUER,
        token_endpoint=ISSUER + "oauth/token",
        device_authorization_endpoint=ISSUER + "oauth/device/code",
        userinfo_endpoint=ISSUER + "userinfo",
        jwks_uri=ISSUER + ".well-known/jwks.json",
        revocation_endpoint=ISSUER + "oauth/revoke",
    )


@pytest.mark.parametrize(("document_issuer", "expected"), [
    ("https://tenant.eu.auth0.com/", "https://tenant.eu.auth0.com"),
    ("https://tenant.eu.auth0.com", "https://tenant.eu.auth0.com/"),
])
def test_issuer_match_ignores_one_trailing_slash(document_issuer: str, expected: str) -> None:
    assert parse_discovery(auth0_document(issuer=document_issuer), expected).issuer == document_issuer


def test_another_issuer_is_refused_with_both_names() -> None:
    with pytest.raises(DiscoveryError, match=r"evil\.example.*tenant\.eu\.auth0\.com"):
        parse_discovery(auth0_document(issuer="https://evil.example/"), ISSUER)


def test_missing_device_endpoint_means_no_device_flow() -> None:
    with pytest.raises(DiscoveryError, match="does not support the device authorization flow"):
        parse_discovery(auth0_document(device_authorization_endpoint=None), ISSUER)


def test_device_endpoint_is_optional_when_not_required() -> None:
    meta = parse_discovery(auth0_document(device_authorization_endpoint=None), ISSUER, require_device_flow=False)
    assert meta.device_authorization_endpoint is None


def test_revocation_endpoint_is_optional() -> None:
    assert parse_discovery(auth0_document(revocation_endpoint=None), ISSUER).revocation_endpoint is None


@pytest.mark.parametrize("document", [None, [], "openid", 42, b"{}"])
def test_document_must_be_an_object(document: object) -> None:
    with pytest.raises(DiscoveryError, match="not a JSON object"):
        parse_discovery(document, ISSUER)


@pytest.mark.parametrize("key", ["issuer", "token_endpoint", "userinfo_endpoint", "jwks_uri"])
def test_required_fields_are_named_when_missing(key: str) -> None:
    with pytest.raises(DiscoveryError, match=key):
        parse_discovery(auth0_document(**{key: None}), ISSUER)


@pytest.mark.parametrize("value", [42, "", ["https://x/"], {"url": "https://x/"}, True])
def test_mistyped_endpoint_is_refused(value: object) -> None:
    with pytest.raises(DiscoveryError, match="token_endpoint"):
        parse_discovery(auth0_document(token_endpoint=value), ISSUER)


@pytest.mark.parametrize("url", [
    "http://tenant.eu.auth0.com/oauth/token",  # plain http to a real host
    "http://10.0.0.1/oauth/token",
    "http://localhost.evil.example/oauth/token",
    "ftp://tenant.eu.auth0.com/oauth/token",
    "javascript:alert(1)",
    "https:///oauth/token",  # no host
    "https://user:pass@tenant.eu.auth0.com/oauth/token",
    "https://tenant.eu.auth0.com:99999/oauth/token",
    "/oauth/token",
])
@pytest.mark.parametrize("key", ["token_endpoint", "device_authorization_endpoint", "jwks_uri", "revocation_endpoint"])
def test_endpoints_must_be_https(key: str, url: str) -> None:
    with pytest.raises(DiscoveryError):
        parse_discovery(auth0_document(**{key: url}), ISSUER)


@pytest.mark.parametrize("host", ["127.0.0.1:3000", "127.8.9.10", "[::1]:8080", "localhost:3000", "LOCALHOST"])
def test_plain_http_is_allowed_on_loopback_hosts(host: str) -> None:
    issuer = f"http://{host}/"
    doc = {
        "issuer": issuer, "token_endpoint": issuer + "token", "device_authorization_endpoint": issuer + "device/auth",
        "userinfo_endpoint": issuer + "me", "jwks_uri": issuer + "jwks",
    }
    meta = parse_discovery(doc, issuer)
    assert meta.token_endpoint == issuer + "token"
    assert meta.revocation_endpoint is None


def test_an_http_issuer_on_a_real_host_is_refused() -> None:
    issuer = "http://tenant.eu.auth0.com/"
    with pytest.raises(DiscoveryError, match="https"):
        parse_discovery(auth0_document(issuer=issuer), issuer)


def test_messages_are_one_printable_line() -> None:
    with pytest.raises(DiscoveryError) as caught:
        parse_discovery(auth0_document(issuer="https://evil.example/\n\x1b[31mred" + "x" * 1000), ISSUER)
    message = str(caught.value)
    assert message.isprintable()
    assert len(message) < 600


@pytest.mark.parametrize(("issuer", "url"), [
    ("https://tenant.eu.auth0.com/", "https://tenant.eu.auth0.com/.well-known/openid-configuration"),
    ("https://tenant.eu.auth0.com", "https://tenant.eu.auth0.com/.well-known/openid-configuration"),
    ("https://login.example.com/tenant/", "https://login.example.com/tenant/.well-known/openid-configuration"),
    ("http://127.0.0.1:3000/", "http://127.0.0.1:3000/.well-known/openid-configuration"),
])
def test_discovery_url(issuer: str, url: str) -> None:
    assert discovery_url(issuer) == url


def test_discovery_url_refuses_plain_http_to_a_real_host() -> None:
    with pytest.raises(DiscoveryError, match="https"):
        discovery_url("http://tenant.eu.auth0.com/")


@pytest.mark.parametrize(("domain", "issuer", "expected"), [
    ("tenant.eu.auth0.com", None, "https://tenant.eu.auth0.com/"),
    ("tenant.eu.auth0.com.", None, "https://tenant.eu.auth0.com/"),
    (" tenant.eu.auth0.com/ ", "", "https://tenant.eu.auth0.com/"),
    ("tenant.eu.auth0.com", "https://login.example.com/", "https://login.example.com/"),
    (None, "https://login.example.com", "https://login.example.com"),
])
def test_issuer_from_config(domain: str | None, issuer: str | None, expected: str) -> None:
    assert issuer_from_config(domain, issuer) == expected


@pytest.mark.parametrize("domain", [None, "", "  "])
def test_issuer_from_config_needs_a_domain_or_issuer(domain: str | None) -> None:
    with pytest.raises(DiscoveryError, match=r"auth0\.domain"):
        issuer_from_config(domain, None)


def test_issuer_from_config_points_urls_to_the_issuer_setting() -> None:
    with pytest.raises(DiscoveryError, match=r"auth0\.issuer"):
        issuer_from_config("https://tenant.eu.auth0.com/", None)


def test_same_issuer() -> None:
    assert same_issuer("https://a/", "https://a")
    assert not same_issuer("https://a/", "https://b/")
