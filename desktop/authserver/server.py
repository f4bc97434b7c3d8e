"""``login-feed server`` (alias ``authserver``): build the application from the configuration and serve it with uvicorn.

Start-up fails early and clearly (exit 2) when something it cannot run without is missing: the Pusher key, the
app secret (keyring or ``LOGIN_FEED_PUSHER_SECRET``), ``[auth0]`` issuer and audience; a master key that is set
but malformed is an error too. The issuer's discovery document is read once at start to find ``jwks_uri`` and
``userinfo_endpoint`` (exit 1 when the issuer cannot be reached). SIGINT and SIGTERM stop the server
gracefully (uvicorn drains open requests) and exit 0. The tenant log's store opens at start (exit 1 when it
cannot), and its publisher first sends whatever an earlier run stored but did not publish.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from starlette.applications import Starlette

from desktop.auth.discovery import DiscoveryError, ProviderMetadata, discovery_url, parse_discovery
from desktop.authserver.app import create_app
from desktop.authserver.errors import AuthServerError
from desktop.authserver.logstream import TenantLog, build_tenant_log
from desktop.authserver.profiles import UserInfoClient
from desktop.authserver.tokens import AccessTokenVerifier
from desktop.config_checks import MASTER_KEY_ENV, PUSHER_SECRET_ENV
from desktop.config_schema import Config
from desktop.resources import data_dir as make_data_dir
from desktop.secrets import SecretStore
from desktop.signing.pusher_http import PusherHttpApi
from desktop.signing.signatures import decode_master_key
from desktop.tenantlog.catchup import management_client, settings_from_config, start_catch_up
from desktop.tenantlog.management import ManagementError
from desktop.tenantlog.store import StoreError
from desktop.util.http import HttpClient, HttpError, shown_url
from desktop.util.signals import stop_signals

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "AuthServerSetupError", "Runtime", "build_runtime", "load_secrets", "serve"]

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
HTTP_TIMEOUT = 10.0
_MAX_DOCUMENT_BYTES = 256 * 1024
MISSING_SECRET = (
    f"the authorization server needs the Pusher app secret: set {PUSHER_SECRET_ENV} or store it in the keyring"
)


class AuthServerSetupError(AuthServerError):
    """The server cannot start; the message says what to fix. ``exit_code`` 2 for configuration, 1 otherwise."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def load_secrets(config: Config, env: Mapping[str, str] | None = None,
                 store: SecretStore | None = None) -> tuple[str, bytes | None]:
    """The Pusher app secret (required) and the encryption master key (optional)."""
    store = store if store is not None else SecretStore(os.environ if env is None else env)
    key = config.require_pusher().key
    secret = store.pusher_secret(key)
    if not secret:
        raise AuthServerSetupError(MISSING_SECRET)
    master_b64 = store.encryption_master_key()
    try:
        master = decode_master_key(master_b64) if master_b64 else None
    except ValueError as exc:
        raise AuthServerSetupError(f"{exc} (from {MASTER_KEY_ENV} or the keyring)") from None
    return secret, master


def _get_json(http: HttpClient, url: str, what: str) -> Any:
    """GET a JSON document within the client's deadline and size cap; errors name the document and where it is
    (without a query string), never a header."""
    where = f"{what} at {shown_url(url)}"
    answer = http.get(url, what=where)
    if answer.status != 200:
        raise HttpError(f"{where} answered HTTP {answer.status}", answer.status)
    return answer.json()


def discover(issuer: str, http: HttpClient) -> ProviderMetadata:
    try:
        url = discovery_url(issuer)
        return parse_discovery(_get_json(http, url, "the discovery document"), issuer,
                               require_device_flow=False)
    except DiscoveryError as exc:
        raise AuthServerSetupError(str(exc)) from None
    except HttpError as exc:
        raise AuthServerSetupError(
            f"cannot read the sign-in service's discovery document for {shown_url(issuer)}: {exc}", exit_code=1,
        ) from None


@dataclass
class Runtime:
    """The application and what it holds open (HTTP clients): close it when the server has stopped."""

    app: Starlette
    verifier: AccessTokenVerifier
    metadata: ProviderMetadata
    trigger: PusherHttpApi | None
    sessions: list[HttpClient | UserInfoClient | PusherHttpApi] = field(default_factory=list)
    tenant_log: TenantLog | None = None

    def close(self) -> None:
        if self.tenant_log is not None:
            self.tenant_log.close()
        for session in self.sessions:
            session.close()


def build_runtime(config: Config, secret: str, master_key: bytes | None,
                  clock: Callable[[], float] = time.time, *, tenant_log: bool = False, data_dir: Path | None = None,
                  env: Mapping[str, str] | None = None) -> Runtime:
    """Discovery, the token verifier, /userinfo, the Pusher trigger and the application; with ``tenant_log``
    also the tenant log (store in ``data_dir``, not yet publishing: call ``runtime.tenant_log.start()``)."""
    issuer = config.auth0.issuer_url
    if not issuer:
        raise AuthServerSetupError("the authorization server needs [auth0] domain (or issuer) to verify access tokens")
    audience = config.auth0.audience
    if not audience:
        raise AuthServerSetupError(
            "the authorization server needs [auth0] audience: the identifier of the API whose access tokens it "
            "accepts")
    pusher = config.require_pusher()
    discovery_http = HttpClient("the sign-in service", timeout=HTTP_TIMEOUT, max_bytes=_MAX_DOCUMENT_BYTES)
    sessions: list[HttpClient | UserInfoClient | PusherHttpApi] = [discovery_http]
    kept: TenantLog | None = None
    try:
        metadata = discover(issuer, discovery_http)
        verifier = AccessTokenVerifier(
            issuer, audience, lambda: _get_json(discovery_http, metadata.jwks_uri, "the JWKS"), clock)
        trigger = None
        if pusher.app_id:
            trigger = PusherHttpApi(pusher.http_api_base, pusher.app_id, pusher.key, secret, master_key=master_key,
                                    clock=clock)
            sessions.append(trigger)
        else:
            log.warning("[pusher] app_id is not set: POST /message will answer 503")
        userinfo = UserInfoClient(metadata.userinfo_endpoint)
        sessions.append(userinfo)
        if tenant_log:
            try:
                kept = build_tenant_log(config, data_dir, trigger, env)
            except StoreError as exc:
                raise AuthServerSetupError(str(exc), exit_code=1) from None
        app = create_app(config, secret, master_key, verifier, trigger, userinfo=userinfo, tenant_log=kept)
    except BaseException:
        if kept is not None:
            kept.close()
        for session in sessions:
            session.close()
        raise
    return Runtime(app, verifier, metadata, trigger, sessions, kept)


class _Terminated(Exception):
    pass


def _terminated(_name: str) -> None:
    raise _Terminated


@contextmanager
def _sigterm_exits_cleanly() -> Iterator[None]:
    """uvicorn stops on SIGTERM and then re-raises it with the previous handler: make that an exception we catch
    (and exit 0) instead of the default handler that kills the process."""
    with stop_signals(_terminated, (signal.SIGTERM,)), suppress(_Terminated):
        yield


def serve(config: Config, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
          env: Mapping[str, str] | None = None, *, forwarded_allow_ips: str | None = None,
          data_dir: Path | None = None, backfill_since: date | None = None) -> int:
    """Run the server until SIGINT/SIGTERM; the exit code. Raises :class:`AuthServerSetupError` on bad set-up.

    ``forwarded_allow_ips``: behind a reverse proxy, the proxies whose ``X-Forwarded-For``/``-Proto`` are believed
    (comma-separated); None ignores those headers. Limits on connections and slow clients: :mod:`.listener`.
    With ``[auth0_management]``, the tenant log's gap since the newest stored event is filled from Auth0 on a
    thread while the server serves (``backfill_since``: every event since that date instead).
    """
    from desktop.authserver.listener import build_server  # noqa: PLC0415 - only this command needs uvicorn

    # the access log, start/stop lines and the tenant log's counts, even without -v
    for name in ("desktop.authserver", "desktop.tenantlog", "uvicorn.error"):
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() > logging.INFO:
            logger.setLevel(logging.INFO)
    secret, master_key = load_secrets(config, env)
    runtime = build_runtime(config, secret, master_key, tenant_log=True, data_dir=data_dir, env=env)
    log.info("verifying access tokens from %s for audience %s (permission %s); encrypted channels %s",
             runtime.metadata.issuer, config.auth0.audience, config.authserver.permission,
             "on" if master_key is not None else "off (no master key)")
    server = build_server(runtime.app, host, port, max_connections=config.authserver.max_connections,
                          timeout_graceful_shutdown=10, proxy_headers=forwarded_allow_ips is not None,
                          forwarded_allow_ips=forwarded_allow_ips)
    catching_up = lookups = None
    try:
        if runtime.tenant_log is not None:
            runtime.tenant_log.start()  # first publishes what an earlier run left unpublished
            try:  # reads the newest stored log_id now, before the log stream can deliver anything newer
                # checkpoints next to a SQLite file; in the data directory with PostgreSQL (one per replica)
                state_dir = None if hasattr(runtime.tenant_log.store, "path") else make_data_dir(data_dir)
                catching_up = start_catch_up(settings_from_config(config), runtime.tenant_log, state_dir,
                                             backfill_from=backfill_since, env=env)
                lookups = management_client(settings_from_config(config), env)
                if lookups is not None:
                    runtime.tenant_log.user_logs = lambda user, n: lookups.user_logs(user, per_page=min(n, 100))
            except ManagementError as exc:
                raise AuthServerSetupError(str(exc)) from None
        with _sigterm_exits_cleanly():
            server.run()
    except KeyboardInterrupt:
        pass
    finally:
        if catching_up is not None:
            catching_up.stop()
        if lookups is not None:
            lookups.stop()
            lookups.close()
        runtime.close()
    if not server.started:
        return 1  # uvicorn has logged why (e.g. the port is in use)
    return 0
