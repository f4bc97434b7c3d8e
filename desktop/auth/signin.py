"""Signing in and staying signed in: the device flow, refresh with rotation, sign-out.

Blocking and thread-safe; the CLI calls it directly, the window through ``qtflow.SignInFlow`` on a worker
thread. Decisions come from the pure cores (``deviceflow``, ``session``); this module does the waiting,
the HTTP calls and the keyring writes, in the order that keeps a rotated refresh token safe: the new one
is stored before anything else happens.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from desktop.auth import deviceflow as df
from desktop.auth.common import AuthError
from desktop.auth.discovery import DiscoveryError
from desktop.auth.idtoken import IdTokenError, Profile, profile_from_claims
from desktop.auth.provider import OidcProvider, ProviderUnreachable
from desktop.auth.session import RefreshError, Session, apply_refresh, start_session
from desktop.auth.store import KeyringUnavailable, RefreshTokenStore
from desktop.auth.tokens import TokenResponse, TokenResponseError, parse_token_response
from desktop.config_schema import Auth0Config, ConfigError
from desktop.util.text import json_detail

log = logging.getLogger("desktop.auth")


class SignInFailed(AuthError):
    """The device flow ended without a sign-in; ``reason`` is "denied", "expired", "cancelled" or "error"."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


class NotSignedIn(AuthError):
    """Nobody is signed in (or the sign-in ended and needs a new device flow)."""


@dataclass(frozen=True)
class SignOutResult:
    revoked: bool
    message: str


class SignInManager:
    def __init__(self, provider: OidcProvider, store: RefreshTokenStore, *, scope: str, audience: str | None,
                 clock: Callable[[], float] = time.time) -> None:
        self.provider = provider
        self.store = store
        self.scope = scope
        self.audience = audience
        self._clock = clock
        self._session: Session | None = None
        self._refresh_lock = threading.Lock()
        #: Set when the keyring could not keep the sign-in: shown to the user, who stays signed in for now.
        self.keyring_warning = ""

    @property
    def session(self) -> Session | None:
        return self._session

    @property
    def profile(self) -> Profile | None:
        return None if self._session is None else self._session.profile

    # -- device flow ------------------------------------------------------------------------------------
    def device_login(self, on_code: Callable[[df.DeviceAuthorization], None],
                     cancelled: threading.Event) -> Session:
        """Run one device flow to its end. Raises :class:`SignInFailed` unless the user approved."""
        try:
            status, body = self.provider.device_authorization(self.scope, self.audience)
        except (ProviderUnreachable, DiscoveryError) as exc:
            raise SignInFailed("error", f"Could not start signing in: {exc}.") from None
        if status != 200:
            raise SignInFailed("error", f"The sign-in service refused to start (HTTP {status}){json_detail(body)}.")
        try:
            authorization = df.parse_device_authorization(body, self._clock())
        except df.DeviceFlowError as exc:
            raise SignInFailed("error", str(exc)) from None
        flow = df.DeviceFlow(authorization, self._clock())
        on_code(authorization)
        while True:
            wait = max(0.0, flow.next_poll_at - self._clock())
            if cancelled.wait(wait):
                raise SignInFailed("cancelled", flow.cancel().message)
            expired = flow.check_expired(self._clock())
            if expired is not None:
                raise SignInFailed(expired.reason.value, expired.message)
            try:
                status, body = self.provider.poll_device_token(authorization.device_code)
            except ProviderUnreachable as exc:
                log.info("poll failed (%s); backing off", exc)
                flow.on_network_error(self._clock())
                continue
            if cancelled.is_set():
                raise SignInFailed("cancelled", flow.cancel().message)
            outcome = flow.on_response(status, body, self._clock())
            if isinstance(outcome, df.Authorized):
                session = self._signed_in(outcome.tokens)
                if cancelled.is_set():  # the user pressed Cancel while we were storing the approval
                    self._undo_sign_in(session)
                    raise SignInFailed("cancelled", "Sign-in was cancelled.")
                return session
            if isinstance(outcome, df.Failed):
                reason = outcome.reason.value if outcome.reason.value in ("denied", "expired", "cancelled") else "error"
                raise SignInFailed(reason, outcome.message)

    def _signed_in(self, tokens: TokenResponse) -> Session:
        profile = self._profile_from(tokens, None)
        session = start_session(profile, tokens, self._clock())
        self._keep_refresh_token(session.refresh_token)
        self._session = session
        return session

    def _undo_sign_in(self, session: Session) -> None:
        """Cancelled at the last moment: revoke what we were given and forget it, as if never approved."""
        if session.refresh_token:
            with contextlib.suppress(ProviderUnreachable, AuthError):
                self.provider.revoke(session.refresh_token)
        with contextlib.suppress(KeyringUnavailable):
            self._forget_locally()

    # -- staying signed in ------------------------------------------------------------------------------
    def restore(self) -> Session | None:
        """Sign in again from the refresh token in the keyring, if there is one and it still works."""
        try:
            refresh_token = self.store.load()
        except KeyringUnavailable as exc:
            self.keyring_warning = str(exc)
            return None
        if not refresh_token:
            return None
        try:
            return self._refresh(refresh_token, None)
        except RefreshError as exc:
            if exc.kind == "reauth":
                with contextlib.suppress(KeyringUnavailable):
                    self._forget_locally()
            raise

    def access_token(self, *, force_refresh: bool = False) -> str:
        """A valid access token, refreshed ahead of expiry (or now, after a 401 from an endpoint)."""
        with self._refresh_lock:
            session = self._session
            if session is None:
                raise NotSignedIn("nobody is signed in: run `login-feed login`")
            if force_refresh or session.needs_refresh(self._clock()):
                if not session.refresh_token:
                    if not session.expired(self._clock()) and not force_refresh:
                        return session.access_token
                    self._session = None
                    raise NotSignedIn("the sign-in has expired and cannot be renewed: sign in again")
                session = self._refresh_locked(session.refresh_token, session)
            return session.access_token

    def _refresh(self, refresh_token: str, session: Session | None) -> Session:
        with self._refresh_lock:
            return self._refresh_locked(refresh_token, session)

    def _refresh_locked(self, refresh_token: str, session: Session | None) -> Session:
        try:
            status, body = self.provider.refresh(refresh_token)
        except ProviderUnreachable as exc:
            raise RefreshError(f"could not renew the sign-in: {exc}", "retry") from None
        except DiscoveryError as exc:
            raise RefreshError(f"could not renew the sign-in: {exc}", "fatal") from None
        if status != 200:
            error = RefreshError.from_answer(status, body)
            if error.kind == "reauth":  # expired, revoked or reused: this refresh token is dead for good
                with contextlib.suppress(KeyringUnavailable):
                    self._forget_locally()
            raise error
        try:
            tokens = parse_token_response(body, self._clock())
        except TokenResponseError as exc:
            raise RefreshError(str(exc), "fatal") from None
        # Rotation: the used token is dead now. Keep the new one before anything else can fail.
        if tokens.refresh_token and tokens.refresh_token != refresh_token:
            self._keep_refresh_token(tokens.refresh_token)
        base = session or Session(profile=Profile(sub=""), access_token="", expires_at=0.0,
                                  refresh_token=refresh_token)
        renewed = apply_refresh(base, tokens, self._clock())
        if tokens.id_token or session is None:
            renewed = replace(renewed, profile=self._profile_from(tokens, session))
        self._session = renewed
        return renewed

    def _profile_from(self, tokens: TokenResponse, session: Session | None) -> Profile:
        if tokens.id_token:
            try:
                return profile_from_claims(self.provider.verify_id_token(tokens.id_token, self._clock()))
            except IdTokenError as exc:
                raise SignInFailed("error", f"The sign-in service sent an ID token that failed its checks: "
                                            f"{exc}") from None
            except (ProviderUnreachable, DiscoveryError) as exc:
                raise SignInFailed("error", f"Could not check the ID token: {exc}.") from None
        if session is not None:
            return session.profile
        status, body = self.provider.userinfo(tokens.access_token)
        if status != 200 or not isinstance(body, dict) or not body.get("sub"):
            raise SignInFailed("error", "The sign-in service sent no ID token and no profile (is `openid` in the "
                                        "scope?).")
        return profile_from_claims(body)

    def _keep_refresh_token(self, refresh_token: str | None) -> None:
        if not refresh_token:
            return
        try:
            self.store.save(refresh_token)
            self.keyring_warning = ""
        except KeyringUnavailable as exc:
            self.keyring_warning = str(exc)
            log.warning("%s", exc)

    # -- signing out ------------------------------------------------------------------------------------
    def logout(self) -> SignOutResult:
        """Revoke the refresh token at the provider, then forget it here, even when offline."""
        refresh_token = self._session.refresh_token if self._session else None
        keyring_error = ""
        try:
            refresh_token = refresh_token or self.store.load()
        except KeyringUnavailable as exc:
            keyring_error = str(exc)
        revoked, note = False, ""
        if refresh_token:
            try:
                revoked = self.provider.revoke(refresh_token)
                note = "" if revoked else "the sign-in service did not confirm the revocation"
            except (ProviderUnreachable, AuthError) as exc:
                note = f"could not revoke the sign-in at the provider ({exc}); it was cleared on this computer"
        try:
            self._forget_locally()
        except KeyringUnavailable as exc:
            keyring_error = str(exc)
        message = "Signed out." if not (note or keyring_error) else "Signed out, but " + "; ".join(
            part for part in (note, keyring_error) if part) + "."
        return SignOutResult(revoked=revoked, message=message)

    def _forget_locally(self) -> None:
        """Drop the session and the stored refresh token (a keyring failure is reported by ``logout`` only)."""
        self._session = None
        try:
            self.store.delete()
        except KeyringUnavailable as exc:
            log.warning("%s", exc)
            raise


def manager_from_config(auth0: Auth0Config) -> SignInManager:
    """The sign-in manager for ``[auth0]``; :class:`NotConfigured` when the section lacks what it needs."""
    issuer = auth0.issuer_url
    if not issuer or not auth0.client_id:
        raise NotConfigured("signing in needs [auth0] domain (or issuer) and client_id in the configuration")
    provider = OidcProvider(issuer, auth0.client_id)
    return SignInManager(provider, RefreshTokenStore(issuer, auth0.client_id), scope=auth0.scope,
                         audience=auth0.audience)


class NotConfigured(AuthError, ConfigError):
    """The configuration has no (complete) ``[auth0]`` section (the CLI reports it like any config error)."""
