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

import contextlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit

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

LOOPBACK = "127.0.0.1"
_READY_POLL_INTERVAL = 0.05
_STOP_TIMEOUT = 10.0
_TAIL_CHARS = 4000


class OidcProviderError(RuntimeError):
    """The provider could not be started, did not become ready, or refused a test-route call."""


class OidcProviderNotInstalledError(OidcProviderError):
    """The npm test stack (``node_modules/oidc-provider``) or ``node`` itself is missing."""


def oidc_provider_installed(package_json: Path = OIDC_PROVIDER_PACKAGE) -> bool:
    """Return True when ``oidc-provider`` is installed under ``node_modules``."""
    return package_json.is_file()


def _free_loopback_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


def _tail(path: Path, chars: int = _TAIL_CHARS) -> str:
    """Return the last ``chars`` characters of a log file ('' if it does not exist)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return ""
    return text[-chars:]


class OidcProvider:
    """One OpenID provider on a free loopback port, started as a ``node`` child process.

    State (device codes, grants, refresh tokens) lives in the provider's memory: a restart forgets it, and
    each start generates a new RSA signing key (one key, with a ``kid``, in the JWKS).

    Output goes to log files in a private temporary directory; :meth:`close` (or leaving the ``with`` block)
    stops the server and deletes them.
    """

    host: str = LOOPBACK

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
        self.extra_env: dict[str, str] = dict(extra_env or {})
        self.ready_timeout = ready_timeout
        self._fixed_port = port is not None
        self.port = port if port is not None else _free_loopback_port()
        self._workdir: tempfile.TemporaryDirectory[str] | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._starts = 0

    # ------------------------------------------------------------------ addresses

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` (no trailing slash)."""
        return f"http://{self.host}:{self.port}"

    @property
    def issuer(self) -> str:
        """The issuer, with Auth0's trailing slash: ``http://127.0.0.1:PORT/``."""
        return f"{self.base_url}/"

    @property
    def discovery_url(self) -> str:
        return f"{self.base_url}/.well-known/openid-configuration"

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

    @property
    def pid(self) -> int | None:
        process = self._process
        return process.pid if process is not None and process.poll() is None else None

    @property
    def is_running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def log_dir(self) -> Path:
        """Directory holding ``oidc.out.log`` and ``oidc.err.log`` (created on first use)."""
        if self._workdir is None:
            self._workdir = tempfile.TemporaryDirectory(prefix="oidc-provider-")
        return Path(self._workdir.name)

    @property
    def stdout_path(self) -> Path:
        return self.log_dir / "oidc.out.log"

    @property
    def stderr_path(self) -> Path:
        return self.log_dir / "oidc.err.log"

    def output_tail(self, chars: int = _TAIL_CHARS) -> str:
        """The end of the provider's stdout and stderr, for error messages."""
        return (
            f"--- oidc provider stderr (tail) ---\n{_tail(self.stderr_path, chars)}\n"
            f"--- oidc provider stdout (tail) ---\n{_tail(self.stdout_path, chars)}"
        )

    # ------------------------------------------------------------------ lifecycle

    def environment(self) -> dict[str, str]:
        """The environment the provider runs with (inherited ``OIDC_*`` variables are dropped)."""
        env = {name: value for name, value in os.environ.items() if not name.startswith("OIDC_")}
        env.update(
            {
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
        )
        env.update(self.extra_env)
        return env

    def start(self) -> Self:
        """Start the provider (on the same port after a stop) and wait until discovery answers.

        :raises OidcProviderNotInstalledError: ``node`` or the npm test stack is missing.
        :raises OidcProviderError: the port is taken, the process exited, or discovery did not answer in time.
        """
        if self.is_running:
            return self
        self._reap()
        node = shutil.which("node")
        if node is None:
            raise OidcProviderNotInstalledError("`node` is not on PATH: install Node.js 20 to run the OpenID provider")
        if not oidc_provider_installed():
            raise OidcProviderNotInstalledError(
                f"oidc-provider is not installed ({OIDC_PROVIDER_PACKAGE.parent} is missing): run `make test` "
                "(or `npm install` at the repository root) first"
            )
        if self._starts == 0 and not self._fixed_port and not self._port_is_free():
            self.port = _free_loopback_port()

        self._starts += 1
        marker = f"=== start #{self._starts} (port {self.port}) ===\n".encode()
        with self.stdout_path.open("ab") as out, self.stderr_path.open("ab") as err:
            out.write(marker)
            err.write(marker)
            out.flush()
            err.flush()
            self._process = subprocess.Popen(
                [node, str(PROVIDER_SCRIPT)],
                cwd=self.log_dir,
                env=self.environment(),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,  # a Ctrl-C in the terminal reaches pytest, not the provider
            )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self, timeout: float = _STOP_TIMEOUT) -> None:
        """Stop the provider (SIGTERM; SIGKILL if it is still alive after ``timeout`` seconds)."""
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
        self._reap()

    def restart(self) -> Self:
        """Stop, then start again on the same port (all state and the signing key are new)."""
        self.stop()
        return self.start()

    def close(self) -> None:
        """Stop the provider and delete its log directory."""
        self.stop()
        if self._workdir is not None:
            self._workdir.cleanup()
            self._workdir = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = f"pid={self.pid}" if self.is_running else "stopped"
        return f"<OidcProvider {self.issuer} {state}>"

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

    def _request(
        self, method: str, path: str, body: Mapping[str, Any] | None = None, timeout: float = 5.0
    ) -> tuple[int, bytes]:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            headers = {"Accept": "application/json"}
            payload = None
            if body is not None:
                payload = json.dumps(body).encode()
                headers["Content-Type"] = "application/json"
            connection.request(method, path, body=payload, headers=headers)
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

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

    def _port_is_free(self) -> bool:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((self.host, self.port))
            except OSError:
                return False
            return True

    def _wait_ready(self) -> None:
        """Wait until discovery answers 200 with this provider's issuer."""
        process = self._process
        assert process is not None
        deadline = time.monotonic() + self.ready_timeout
        path = urlsplit(self.discovery_url).path
        last_error = "no answer yet"
        while True:
            code = process.poll()
            if code is not None:
                raise OidcProviderError(
                    f"the OpenID provider exited with code {code} before it was ready on {self.base_url}\n"
                    + self.output_tail()
                )
            try:
                status, raw = self._request("GET", path, timeout=1.0)
                if status == 200 and json.loads(raw).get("issuer") == self.issuer:
                    return
                last_error = f"HTTP {status}: {raw[:200]!r}"
            except (OSError, http.client.HTTPException, ValueError) as exc:
                last_error = f"{type(exc).__name__}: {exc}"
            if time.monotonic() >= deadline:
                raise OidcProviderError(
                    f"the OpenID provider did not answer {self.discovery_url} after {self.ready_timeout:g} s "
                    f"(last: {last_error})\n" + self.output_tail()
                )
            time.sleep(_READY_POLL_INTERVAL)

    def _reap(self) -> None:
        """Wait for an exited (or killed) process so no zombie or ResourceWarning is left behind."""
        process = self._process
        if process is None:
            return
        try:
            process.wait(_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            process.wait()
        self._process = None
