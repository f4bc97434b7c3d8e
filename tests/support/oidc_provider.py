"""Run a real OpenID provider with the device flow (npm ``oidc-provider``), shaped like Auth0, for tests.

The provider script is ``tests/support/oidc/provider.mjs``; ``oidc-provider`` comes from the npm test stack
(``package.json`` at the repository root, installed by ``make test``). It serves Auth0's paths
(``/oauth/device/code``, ``/oauth/token``, ``/userinfo``, ``/oauth/revoke``, ``/.well-known/jwks.json``,
``/.well-known/openid-configuration``), an issuer with Auth0's trailing slash, RS256 JWT access tokens for the
API audience with a ``permissions`` claim, RS256 ID tokens and rotating refresh tokens. With ``auth0_compat``
(the default) it also answers as Auth0 does where oidc-provider differs: pending/denied/expired polls and
``invalid_grant`` with HTTP 403, ``slow_down`` with 429, ``interval`` in the device authorization response,
``expired_token`` only once (then ``invalid_grant``), ``aud`` = ``[API, <issuer>userinfo]`` plus ``azp``
in access tokens, and a ``/userinfo`` that accepts those access tokens.

Nobody has to open a browser: :meth:`OidcProvider.approve`, :meth:`~OidcProvider.deny` and
:meth:`~OidcProvider.expire` act on a pending user code through test-only routes (``/__test/...``).

Usage::

    with OidcProvider(interval=1) as idp:
        grant = requests.post(idp.device_authorization_endpoint, data={"client_id": idp.client_id, ...})
        idp.approve(grant.json()["user_code"])
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from support.server_process import LOOPBACK, ServerProcess, ServerProcessError, find_node

__all__ = [
    "DEFAULT_AUDIENCE",
    "DEFAULT_CLIENT_ID",
    "DEFAULT_PERMISSIONS",
    "DEMO_USERS",
    "OIDC_PROVIDER_PACKAGE",
    "PROVIDER_SCRIPT",
    "OidcProvider",
    "OidcProviderError",
    "OidcProviderNotInstalledError",
    "oidc_provider_installed",
]

#: Repository root (this file is ``<root>/tests/support/oidc_provider.py``).
REPO_ROOT = Path(__file__).resolve().parents[2]
PROVIDER_SCRIPT = REPO_ROOT / "tests" / "support" / "oidc" / "provider.mjs"
OIDC_PROVIDER_PACKAGE = REPO_ROOT / "node_modules" / "oidc-provider" / "package.json"

DEFAULT_CLIENT_ID = "login-feed-desktop"
DEFAULT_AUDIENCE = "https://login-feed.example.com/api"
DEFAULT_PERMISSIONS = ("read:login-feed",)
DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
#: The demo users the provider knows (any other ``sub`` gets a made-up profile).
DEMO_USERS: dict[str, dict[str, str]] = {
    "auth0|demo-ada": {"name": "Ada Lovelace", "email": "ada@example.com", "nickname": "ada"},
    "auth0|demo-grace": {"name": "Grace Hopper", "email": "grace@example.com", "nickname": "grace"},
}


class OidcProviderError(ServerProcessError):
    """The provider could not be started, did not become ready, or refused a test-route call."""


class OidcProviderNotInstalledError(OidcProviderError):
    """The npm test stack (``node_modules/oidc-provider``) or ``node`` itself is missing."""


def oidc_provider_installed(package_json: Path = OIDC_PROVIDER_PACKAGE) -> bool:
    """Return True when ``oidc-provider`` is installed under ``node_modules``."""
    return package_json.is_file()


class OidcProvider(ServerProcess):
    """One OpenID provider on a free loopback port, started as a ``node`` child process.

    State (device codes, grants, refresh tokens) lives in the provider's memory: a restart forgets it, and
    each start generates a new RSA signing key (one key, with a ``kid``, in the JWKS).

    Output goes to log files in a private temporary directory; :meth:`close` (or leaving the ``with`` block)
    stops the server and deletes them. The life cycle (start, stop, kill, restart, close, logs) is
    :class:`~support.server_process.ServerProcess`'s; :meth:`start` waits until discovery answers with this
    provider's issuer.
    """

    host: str = LOOPBACK
    label: ClassVar[str] = "the OpenID provider"
    log_name: ClassVar[str] = "oidc"
    workdir_prefix: ClassVar[str] = "oidc-provider-"
    env_prefix: ClassVar[str] = "OIDC_"
    ready_path: ClassVar[str] = "/.well-known/openid-configuration"
    error_type: ClassVar[type[ServerProcessError]] = OidcProviderError

    def __init__(
        self,
        *,
        interval: int = 1,
        access_token_ttl: int = 3600,
        device_code_ttl: int = 600,
        id_token_ttl: int = 3600,
        refresh_token_ttl: int = 30 * 24 * 3600,
        auth0_compat: bool = True,
        enforce_interval: bool = True,
        client_id: str = DEFAULT_CLIENT_ID,
        audience: str = DEFAULT_AUDIENCE,
        permissions: tuple[str, ...] | list[str] = DEFAULT_PERMISSIONS,
        port: int | None = None,
        extra_env: Mapping[str, str] | None = None,
        ready_timeout: float = 15.0,
    ) -> None:
        """Prepare (but do not start) a provider.

        :param interval: the polling interval (seconds) advertised in the device authorization response (in
            Auth0 mode) and enforced with ``slow_down`` when ``enforce_interval`` is on. A poll of a pending
            code less than ``interval - min(1, interval / 2)`` seconds after the previous poll of the same code
            gets ``slow_down``.
        :param access_token_ttl: access token lifetime (``expires_in`` of the token response), seconds.
        :param device_code_ttl: device code lifetime (``expires_in`` of the device authorization), seconds.
        :param id_token_ttl: ID token lifetime, seconds.
        :param refresh_token_ttl: refresh token (and grant) lifetime, seconds.
        :param auth0_compat: answer with Auth0's statuses and token shapes (see the module docstring);
            False gives plain oidc-provider behaviour (HTTP 400 errors, no ``interval``, no usable /userinfo).
        :param enforce_interval: answer ``slow_down`` (429 in Auth0 mode, else 400) to polls that come too fast.
        :param permissions: the ``permissions`` claim of access tokens (``approve`` can override it per grant).
        :param port: a fixed port (the demo); by default a free loopback port.
        :param extra_env: more ``OIDC_*`` variables for the script; they override the ones set here.
        """
        super().__init__(port=port, extra_env=extra_env, ready_timeout=ready_timeout)
        self.interval = interval
        self.access_token_ttl = access_token_ttl
        self.device_code_ttl = device_code_ttl
        self.id_token_ttl = id_token_ttl
        self.refresh_token_ttl = refresh_token_ttl
        self.auth0_compat = auth0_compat
        self.enforce_interval = enforce_interval
        self.client_id = client_id
        self.audience = audience
        self.permissions = tuple(permissions)

    # ------------------------------------------------------------------ addresses

    @property
    def issuer(self) -> str:
        """The issuer, with Auth0's trailing slash: ``http://127.0.0.1:PORT/``."""
        return f"{self.base_url}/"

    @property
    def discovery_url(self) -> str:
        return self.ready_url

    @property
    def device_authorization_endpoint(self) -> str:
        return f"{self.base_url}/oauth/device/code"

    @property
    def token_endpoint(self) -> str:
        return f"{self.base_url}/oauth/token"

    @property
    def userinfo_endpoint(self) -> str:
        return f"{self.base_url}/userinfo"

    @property
    def revocation_endpoint(self) -> str:
        return f"{self.base_url}/oauth/revoke"

    @property
    def jwks_uri(self) -> str:
        return f"{self.base_url}/.well-known/jwks.json"

    @property
    def userinfo_audience(self) -> str:
        """The second ``aud`` of access tokens granted ``openid`` in Auth0 mode (Auth0: ``https://{domain}/userinfo``)."""
        return self.userinfo_endpoint

    # ------------------------------------------------------------------ lifecycle

    def command(self) -> list[str]:
        node = find_node("the OpenID provider", OidcProviderNotInstalledError)
        if not oidc_provider_installed():
            raise OidcProviderNotInstalledError(
                f"oidc-provider is not installed ({OIDC_PROVIDER_PACKAGE.parent} is missing): run `make test` "
                "(or `npm install` at the repository root) first"
            )
        return [node, str(PROVIDER_SCRIPT)]

    def server_environment(self) -> dict[str, str]:
        return {
            "OIDC_PORT": str(self.port),
            "OIDC_HOST": self.host,
            "OIDC_ISSUER": self.issuer,
            "OIDC_CLIENT_ID": self.client_id,
            "OIDC_AUDIENCE": self.audience,
            "OIDC_PERMISSIONS": " ".join(self.permissions),
            "OIDC_ACCESS_TOKEN_TTL": str(self.access_token_ttl),
            "OIDC_DEVICE_CODE_TTL": str(self.device_code_ttl),
            "OIDC_ID_TOKEN_TTL": str(self.id_token_ttl),
            "OIDC_REFRESH_TOKEN_TTL": str(self.refresh_token_ttl),
            "OIDC_INTERVAL": str(self.interval),
            "OIDC_AUTH0_COMPAT": "1" if self.auth0_compat else "0",
            "OIDC_ENFORCE_INTERVAL": "1" if self.enforce_interval else "0",
            "OIDC_TEST_ROUTES": "1",
        }

    def _is_ready(self, status: int, body: bytes) -> bool:
        """Discovery answers 200 with this provider's issuer (not another server's left on the port)."""
        return status == 200 and json.loads(body).get("issuer") == self.issuer

    # ------------------------------------------------------------------ the user's side, without a browser

    def approve(
        self,
        user_code: str,
        sub: str = "auth0|demo-ada",
        *,
        permissions: list[str] | tuple[str, ...] | None = None,
    ) -> dict[str, Any]:
        """Approve a pending user code as user ``sub``, as if they had confirmed it on the verification page.

        The grant covers the scopes the device requested, for the audience it requested. ``permissions``
        overrides the access tokens' ``permissions`` claim for this grant (refreshes included); ``[]`` makes
        a user without any. User codes are matched like oidc-provider does (case and separators ignored).

        :raises OidcProviderError: unknown code (404), or already approved/denied/expired (409).
        """
        body: dict[str, Any] = {"user_code": user_code, "sub": sub}
        if permissions is not None:
            body["permissions"] = list(permissions)
        return self._test_route("POST", "/__test/approve", body)

    def deny(self, user_code: str) -> dict[str, Any]:
        """Deny a pending user code (the user cancelled): its next poll answers ``access_denied``."""
        return self._test_route("POST", "/__test/deny", {"user_code": user_code})

    def expire(self, user_code: str) -> dict[str, Any]:
        """Make a device code expire now: its next poll answers ``expired_token`` (then ``invalid_grant``)."""
        return self._test_route("POST", "/__test/expire", {"user_code": user_code})

    def health(self) -> dict[str, Any]:
        """``GET /__test/health``: the provider's settings."""
        return self._test_route("GET", "/__test/health")

    # ------------------------------------------------------------------ internals

    def _test_route(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> dict[str, Any]:
        if not self.is_running:
            raise OidcProviderError(f"the OpenID provider is not running ({method} {path})")
        try:
            status, raw = self._request(method, path, body)
        except (OSError, http.client.HTTPException) as exc:
            raise OidcProviderError(f"{method} {path} failed: {type(exc).__name__}: {exc}") from exc
        try:
            answer: dict[str, Any] = json.loads(raw or b"{}")
        except ValueError:
            answer = {"error": "not_json", "error_description": raw[:500].decode("utf-8", "replace")}
        if status != 200:
            raise OidcProviderError(
                f"{method} {path} {json.dumps(body) if body else ''} -> HTTP {status}: "
                f"{answer.get('error')}: {answer.get('error_description')}"
            )
        return answer
