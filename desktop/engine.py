"""Build the Pusher engine from the configuration: the one place that picks the authorizer.

Used by ``tail`` and the window (``desktop.app``), so both connect exactly the same way: the sign-in from the
configuration (:func:`signin_for`), who the engine is on presence channels (:func:`signed_in_user`), the client.
"""

from __future__ import annotations

import socket
from typing import Any

from desktop.auth.signin import NotConfigured, SignInManager, manager_from_config
from desktop.config_schema import Config
from desktop.pusher.auth import AuthorizationError, Authorizer, HttpAuthorizer, LocalAuthorizer
from desktop.pusher.client import PusherClient
from desktop.secrets import SecretStore
from desktop.signing.signatures import decode_master_key
from desktop.util.os_user import os_user_name


class MissingSecretAuthorizer:
    """Stands in for the local signer when no app secret is available: each channel fails with advice."""

    blocking = False

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def authorize_channel(self, socket_id: str, channel_name: str) -> dict[str, Any]:
        raise AuthorizationError(self.reason)

    def authenticate_user(self, socket_id: str) -> dict[str, Any]:
        raise AuthorizationError(self.reason)


def local_identity() -> dict[str, Any]:
    """Who this process is on presence channels when it signs locally (no Auth0 sign-in yet)."""
    user = os_user_name()
    return {"id": f"{user}@{socket.gethostname()}", "user_info": {"name": user}}


def signin_for(config: Config) -> SignInManager | None:
    """The sign-in manager for ``[auth0]``, or None where the configuration has none (local signing, or
    remote authorization without a sign-in)."""
    try:
        return manager_from_config(config.auth0)
    except NotConfigured:
        return None


def signed_in_user(signin: SignInManager | None) -> dict[str, Any] | None:
    """Who the signed-in person is on presence channels; None (the local identity) when nobody is signed in."""
    profile = None if signin is None else signin.profile
    if profile is None:
        return None
    return {"id": profile.sub, "user_info": {"name": profile.name or profile.email or profile.sub}}


def build_authorizer(config: Config, secrets: SecretStore, *, user: dict[str, Any] | None = None,
                     signin: SignInManager | None = None) -> Authorizer:
    """Local mode signs with the app secret (environment or keyring); remote mode asks the endpoint,
    sending the signed-in user's access token (renewed ahead of expiry, and once more after a 401)."""
    authz = config.authorization
    if authz.mode == "remote":
        assert authz.endpoint is not None  # the config loader insists on it
        bearer = None if signin is None else (
            lambda: {"Authorization": f"Bearer {signin.access_token()}"})
        renew = None if signin is None else (lambda: signin.access_token(force_refresh=True) and None)
        return HttpAuthorizer(authz.endpoint, authz.user_endpoint, headers=dict(authz.headers),
                              timeout=authz.timeout, headers_provider=bearer, on_unauthorized=renew)
    key = config.require_pusher().key
    secret = secrets.pusher_secret(key)
    if not secret:
        return MissingSecretAuthorizer(
            "local authorization needs the Pusher app secret: set LOGIN_FEED_PUSHER_SECRET or store it in "
            "the OS keyring from Settings")
    master_b64 = secrets.encryption_master_key()
    master = decode_master_key(master_b64) if master_b64 else None
    return LocalAuthorizer(key, secret, master, user=user or local_identity())


def build_client(config: Config, secrets: SecretStore, *, user: dict[str, Any] | None = None,
                 signin: SignInManager | None = None) -> PusherClient:
    pusher = config.require_pusher()
    return PusherClient(pusher.key, cluster=pusher.cluster, host=pusher.host, port=pusher.port,
                        use_tls=pusher.tls, authorizer=build_authorizer(config, secrets, user=user, signin=signin))
