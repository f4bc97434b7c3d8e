"""Auth0 access token verification for the authorization server: RS256 JWTs checked against the issuer's JWKS.

The algorithm is fixed to RS256 before anything else is looked at: taking it from the token would let a caller
pick ``none`` or HS256 keyed with our public key. Keys come from the issuer's JWKS by ``kid``; the set is cached,
and an unknown ``kid`` (key rotation) refetches it once, at most once per ``refetch_interval`` seconds, so a
stream of made-up kids cannot turn this server into a hammer on the provider. Time checks use the injected
clock. No message built here contains the token or any part of it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import jwt

from desktop.auth.discovery import same_issuer
from desktop.authserver.errors import AuthServerError

__all__ = [
    "ALGORITHM",
    "AccessTokenVerifier",
    "KeySetUnavailable",
    "TokenRejected",
]

log = logging.getLogger(__name__)

ALGORITHM = "RS256"
MAX_TOKEN_CHARS = 16 * 1024
MIN_RSA_BITS = 2048
MAX_SUB_CHARS = 255


class TokenRejected(AuthServerError):
    """The caller's token must not be trusted (or lacks a permission); ``description`` never quotes it."""

    def __init__(self, description: str, *, status: int = 401, error: str = "invalid_token") -> None:
        super().__init__(description, status=status, error=error)


class KeySetUnavailable(AuthServerError):
    """The issuer's key set could not be fetched, so no token can be checked right now (answer 503)."""

    status = 503
    error = "temporarily_unavailable"


class AccessTokenVerifier:
    """Verifies Auth0 access tokens for one API: ``verify(token)`` returns the claims or raises.

    ``jwks_fetcher()`` returns the JWKS document (``{"keys": [...]}``) and may block on the network: call
    :meth:`verify` off the event loop. Thread-safe.
    """

    def __init__(
        self,
        issuer: str,
        audience: str,
        jwks_fetcher: Callable[[], Mapping[str, Any]],
        clock: Callable[[], float] = time.time,
        *,
        leeway: float = 30.0,
        refetch_interval: float = 60.0,
        max_age: float = 3600.0,
        retry_after_failure: float = 5.0,
    ) -> None:
        if not issuer or not audience:
            raise ValueError("an issuer and an audience are required to verify access tokens")
        self.issuer = issuer
        self.audience = audience
        self._fetch = jwks_fetcher
        self._clock = clock
        self.leeway = leeway
        self.refetch_interval = refetch_interval
        self.max_age = max_age
        self.retry_after_failure = retry_after_failure
        self._lock = threading.Lock()  # guards the fields below; never held across the network
        self._fetch_lock = threading.Lock()  # one JWKS fetch at a time
        self._generation = 0  # fetch attempts finished so far
        self._keys: dict[str | None, Any] | None = None  # kid -> public key (None: a key without kid)
        self._fetched_at: float | None = None
        self._failed_at: float | None = None
        self._refetched_at: float | None = None  # the last refetch for an unknown kid (rate-limited)
        self.fetch_count = 0

    # ---- key set ------------------------------------------------------------------------------------------

    def _refresh(self, seen: int, *, wait: bool = True) -> None:
        """Fetch the key set, unless another thread fetched since this one looked (generation ``seen``).

        The network call runs under ``_fetch_lock`` only: verifications whose key is cached never wait for
        it, and concurrent callers that need a fetch share one instead of each making their own. ``wait=False``
        returns at once while another fetch is under way (the keys in hand still serve).
        """
        if not self._fetch_lock.acquire(blocking=wait):
            return
        try:
            with self._lock:
                if self._generation != seen:
                    if self._keys is None:  # the other fetch failed just now
                        raise KeySetUnavailable("the issuer's key set (JWKS) could not be fetched a moment ago")
                    return
                now = self._clock()
                if (self._keys is None and self._failed_at is not None
                        and 0 <= now - self._failed_at < self.retry_after_failure):
                    raise KeySetUnavailable("the issuer's key set (JWKS) could not be fetched a moment ago")
                self._fetched_at = now
                self.fetch_count += 1
            try:
                keys = _parse_jwks(self._fetch())
            except Exception as exc:
                with self._lock:
                    self._failed_at = now
                    self._generation += 1
                if isinstance(exc, KeySetUnavailable):
                    raise
                reason = type(exc).__name__
                raise KeySetUnavailable(f"the issuer's key set (JWKS) could not be fetched ({reason})") from None
            with self._lock:
                self._keys = keys
                self._failed_at = None
                self._generation += 1
        finally:
            self._fetch_lock.release()
        log.info("loaded %d signing key(s) from the issuer's JWKS", len(keys))

    def _refresh_keeping_old_keys(self, seen: int, *, wait: bool) -> None:
        try:
            self._refresh(seen, wait=wait)
        except KeySetUnavailable as exc:
            log.warning("%s; keeping the keys fetched earlier", exc)

    def _may_refetch_locked(self) -> bool:
        if self._refetched_at is None:
            return True
        elapsed = self._clock() - self._refetched_at
        return elapsed < 0 or elapsed >= self.refetch_interval  # a clock that went back must not block forever

    def _key_for(self, kid: str | None) -> Any:
        with self._lock:
            seen, keys = self._generation, self._keys
            stale = self._fetched_at is not None and self._clock() - self._fetched_at >= self.max_age
        if keys is None:
            self._refresh(seen)
        elif stale:  # keys removed by the issuer stop working within max_age
            self._refresh_keeping_old_keys(seen, wait=False)
        with self._lock:
            key = self._select(kid)
            rotate = key is None and self._may_refetch_locked()
            if rotate:
                self._refetched_at = self._clock()
                seen = self._generation
        if rotate:  # key rotation: the issuer may have a new key
            self._refresh_keeping_old_keys(seen, wait=True)
            with self._lock:
                key = self._select(kid)
        if key is None:
            raise TokenRejected("the access token was signed with a key the issuer does not publish")
        return key

    def _select(self, kid: str | None) -> Any:
        assert self._keys is not None
        if kid is None:
            return next(iter(self._keys.values())) if len(self._keys) == 1 else None
        return self._keys.get(kid)

    # ---- verification -------------------------------------------------------------------------------------

    def verify(self, token: str) -> dict[str, Any]:
        """The verified claims of ``token``, or :class:`TokenRejected` (401) / :class:`KeySetUnavailable`.

        Checks: RS256 only; signature with the JWKS key named by ``kid``; ``iss`` is the issuer (one trailing
        slash ignored); ``aud`` contains the audience; ``exp`` (required), ``nbf`` and ``iat`` against the clock
        with ``leeway``; a non-empty string ``sub``.
        """
        if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_CHARS:
            raise TokenRejected("the access token is missing or too large")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise TokenRejected("the access token is not a well-formed JWT") from None
        alg = header.get("alg")
        if alg != ALGORITHM:
            shown = alg if isinstance(alg, str) and alg.isalnum() and len(alg) <= 10 else "another algorithm"
            raise TokenRejected(f"the access token is signed with {shown}; only {ALGORITHM} is accepted")
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise TokenRejected("the access token's key id (kid) is not a string")
        key = self._key_for(kid)
        try:
            claims: dict[str, Any] = jwt.decode(
                token, key, algorithms=[ALGORITHM],
                options={
                    "verify_signature": True, "verify_exp": False, "verify_nbf": False, "verify_iat": False,
                    "verify_aud": False, "verify_iss": False, "verify_sub": False, "verify_jti": False,
                    "enforce_minimum_key_length": True,
                },
            )
        except jwt.InvalidSignatureError:
            raise TokenRejected("the access token's signature does not match the issuer's key") from None
        except jwt.PyJWTError as exc:
            raise TokenRejected(f"the access token cannot be verified ({type(exc).__name__})") from None
        self._check_claims(claims)
        return claims

    def _check_claims(self, claims: Mapping[str, Any]) -> None:
        iss = claims.get("iss")
        if not isinstance(iss, str) or not same_issuer(iss, self.issuer):
            raise TokenRejected(f"the access token was not issued by {self.issuer}")
        aud = claims.get("aud")
        audiences = [aud] if isinstance(aud, str) else aud
        if not isinstance(audiences, list) or self.audience not in audiences:
            raise TokenRejected(f"the access token is not meant for this API (its audience is not {self.audience})")
        now = self._clock()
        exp, nbf, iat = (_time_claim(claims, name) for name in ("exp", "nbf", "iat"))
        if exp is None:
            raise TokenRejected("the access token has no expiry (exp)")
        if now >= exp + self.leeway:
            raise TokenRejected("the access token has expired")
        if nbf is not None and nbf > now + self.leeway:
            raise TokenRejected("the access token is not valid yet (nbf)")
        if iat is not None and iat > now + self.leeway:
            raise TokenRejected("the access token was issued in the future (iat)")
        sub = claims.get("sub")
        if not isinstance(sub, str) or not sub.strip():
            raise TokenRejected("the access token does not say who the caller is (no sub)")
        if len(sub) > MAX_SUB_CHARS or not sub.isprintable():
            raise TokenRejected("the access token's sub is too long or not printable")


def _time_claim(claims: Mapping[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TokenRejected(f"the access token's {name} claim is not a number")
    return float(value)


def _parse_jwks(document: object) -> dict[str | None, Any]:
    """kid -> RSA public key for every usable signing key; malformed or unsuitable entries are skipped."""
    keys = document.get("keys") if isinstance(document, Mapping) else None
    if not isinstance(keys, list):
        raise KeySetUnavailable('the issuer\'s key set (JWKS) is not of the form {"keys": [...]}')
    parsed: dict[str | None, Any] = {}
    for entry in keys:
        if not isinstance(entry, Mapping) or entry.get("kty") != "RSA":
            continue
        if entry.get("use", "sig") != "sig" or entry.get("alg", ALGORITHM) != ALGORITHM:
            continue
        kid = entry.get("kid")
        if kid is not None and not isinstance(kid, str):
            continue
        try:
            key = jwt.PyJWK(dict(entry), algorithm=ALGORITHM).key
        except jwt.PyJWTError:
            log.warning("skipping a malformed key in the issuer's JWKS")
            continue
        if getattr(key, "key_size", 0) < MIN_RSA_BITS:
            log.warning("skipping an RSA key shorter than %d bits in the issuer's JWKS", MIN_RSA_BITS)
            continue
        parsed[kid] = key
    return parsed
