"""Talking to the OpenID provider over HTTP: discovery, JWKS, device authorization, token, revocation.

A thin IO layer under the pure cores: it returns what the provider said (status and JSON body) and leaves
the decisions to ``deviceflow``/``session``. Blocking (through :mod:`desktop.util.http`, with a total deadline
and a size cap per request): never call it on the GUI thread.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from desktop.auth.common import AuthError
from desktop.auth.discovery import DiscoveryError, ProviderMetadata, discovery_url, parse_discovery
from desktop.auth.idtoken import UnknownKeyError, verify_id_token
from desktop.util.http import HttpClient, HttpError

log = logging.getLogger("desktop.auth")

DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
TIMEOUT = 15.0
MAX_BODY = 256 * 1024


class ProviderUnreachable(AuthError):
    """The provider did not answer (network, DNS, TLS, timeout); the message says which."""


class OidcProvider:
    """One issuer and one public client id, with a cached discovery document and key set."""

    def __init__(self, issuer: str, client_id: str, *, timeout: float = TIMEOUT) -> None:
        self.issuer = issuer
        self.client_id = client_id
        self._http = HttpClient(issuer, timeout=timeout, max_bytes=MAX_BODY)
        self._metadata: ProviderMetadata | None = None
        self._jwks: dict[str, Any] | None = None
        self._lock = threading.Lock()

    def close(self) -> None:
        self._http.close()

    # -- discovery and keys -----------------------------------------------------------------------------
    def metadata(self) -> ProviderMetadata:
        """The discovery document, fetched once (the lock is never held across the network: two first
        callers may both fetch, and the first answer stays)."""
        with self._lock:
            cached = self._metadata
        if cached is not None:
            return cached
        status, body = self._request("GET", discovery_url(self.issuer))
        if status != 200:
            raise DiscoveryError(f"{self.issuer} answered {status} for its OpenID configuration")
        found = parse_discovery(body, self.issuer)
        with self._lock:
            if self._metadata is None:
                self._metadata = found
            return self._metadata

    def jwks(self, *, refresh: bool = False) -> dict[str, Any]:
        with self._lock:
            cached = self._jwks
        if cached is not None and not refresh:
            return cached
        status, body = self._request("GET", self.metadata().jwks_uri)
        if status != 200 or not isinstance(body, dict) or not isinstance(body.get("keys"), list):
            raise DiscoveryError(f"the provider's key set could not be read (HTTP {status})")
        with self._lock:
            self._jwks = body
        return body

    def verify_id_token(self, id_token: str, now: float) -> dict[str, Any]:
        """Check the ID token against the provider's keys; refetch the keys once for an unknown ``kid``."""
        try:
            return verify_id_token(id_token, jwks=self.jwks(), issuer=self.issuer, client_id=self.client_id, now=now)
        except UnknownKeyError:
            log.info("unknown signing key; fetching the provider's keys again")
            return verify_id_token(id_token, jwks=self.jwks(refresh=True), issuer=self.issuer,
                                   client_id=self.client_id, now=now)

    # -- grants -----------------------------------------------------------------------------------------
    def device_authorization(self, scope: str, audience: str | None) -> tuple[int, Any]:
        endpoint = self.metadata().device_authorization_endpoint
        if endpoint is None:
            raise DiscoveryError(f"{self.issuer} does not support the device authorization flow")
        form = {"client_id": self.client_id, "scope": scope}
        if audience:
            form["audience"] = audience
        return self._request("POST", endpoint, data=form)

    def poll_device_token(self, device_code: str) -> tuple[int, Any]:
        return self._request("POST", self.metadata().token_endpoint, data={
            "grant_type": DEVICE_CODE_GRANT, "device_code": device_code, "client_id": self.client_id})

    def refresh(self, refresh_token: str) -> tuple[int, Any]:
        return self._request("POST", self.metadata().token_endpoint, data={
            "grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": self.client_id})

    def revoke(self, refresh_token: str) -> bool:
        """Revoke at the provider; ``False`` when it has no revocation endpoint or refused."""
        endpoint = self.metadata().revocation_endpoint
        if endpoint is None:
            return False
        status, _ = self._request("POST", endpoint, data={"client_id": self.client_id, "token": refresh_token,
                                                          "token_type_hint": "refresh_token"})
        return status == 200

    def userinfo(self, access_token: str) -> tuple[int, Any]:
        endpoint = self.metadata().userinfo_endpoint
        return self._request("GET", endpoint, headers={"Authorization": f"Bearer {access_token}"})

    # -- plumbing ---------------------------------------------------------------------------------------
    def _request(self, method: str, url: str, **kwargs: Any) -> tuple[int, Any]:
        """(status, JSON body or None). Network failures raise :class:`ProviderUnreachable`, token-free."""
        try:
            answer = self._http.request(method, url, **kwargs)
        except HttpError as exc:
            raise ProviderUnreachable(exc.message) from None
        try:
            body = answer.json() if answer.body else None
        except HttpError:
            body = None
        return answer.status, body
