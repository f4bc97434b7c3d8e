"""ID token verification (OpenID Connect Core §3.1.3.7) and the profile shown as "signed in as".

The algorithm is fixed to RS256 before anything is verified: taking it from the token would let an attacker
pick ``none`` or HS256 keyed with our public key. Time checks use the caller's ``now`` (PyJWT would read the
system clock), and no message ever contains the token.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt

from desktop.auth.common import AuthError
from desktop.auth.discovery import same_issuer
from desktop.util.text import clean_text

__all__ = [
    "ALGORITHM", "IdTokenError", "Profile", "UnknownKeyError", "access_token_expiry", "profile_from_claims",
    "verify_id_token",
]

ALGORITHM = "RS256"
PROFILE_FIELD_LIMIT = 500
_MAX_TOKEN_CHARS = 64 * 1024


class IdTokenError(AuthError):
    """The ID token must not be trusted; the message says why without quoting it."""


class UnknownKeyError(IdTokenError):
    """No key in the JWKS has the token's ``kid``: refetch the JWKS once (key rotation), then give up."""


@dataclass(frozen=True, slots=True)
class Profile:
    """Who is signed in; every field is a plain string (or None) of at most 500 characters."""

    sub: str
    name: str | None = None
    email: str | None = None
    nickname: str | None = None
    picture: str | None = None

    @property
    def display_name(self) -> str:
        """The friendliest label available: name, then nickname, then email, then the user id."""
        return self.name or self.nickname or self.email or self.sub


def _select_key(jwks: object, kid: object) -> Any:
    """The RSA signing key for ``kid``; a token without a kid may use the JWKS's only key."""
    keys = jwks.get("keys") if isinstance(jwks, Mapping) else None
    if not isinstance(keys, list):
        raise IdTokenError('The sign-in service\'s key set (JWKS) is not of the form {"keys": [...]}.')
    usable = [
        k for k in keys
        if isinstance(k, Mapping) and k.get("kty") == "RSA" and k.get("use", "sig") == "sig"
        and k.get("alg", ALGORITHM) == ALGORITHM
    ]
    if kid is None:
        if len(usable) != 1:
            raise IdTokenError(f"The ID token names no key (kid) and the key set holds {len(usable)} RSA keys.")
        chosen = usable[0]
    else:
        matches = [k for k in usable if k.get("kid") == kid]
        if not matches:
            raise UnknownKeyError(f"The ID token was signed with key {clean_text(kid, 80)!r}, which is not in the "
                                  "sign-in service's key set.")
        chosen = matches[0]
    try:
        return jwt.PyJWK(dict(chosen), algorithm=ALGORITHM).key
    except jwt.PyJWTError:
        raise IdTokenError("The sign-in service's signing key is malformed.") from None


def _time_claim(claims: Mapping[str, object], name: str) -> float | None:
    """A NumericDate claim, None when absent; present but not a number is an error."""
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise IdTokenError(f"The ID token's {name!r} claim is not a number.")
    return float(value)


def _check_claims(claims: Mapping[str, object], issuer: str, client_id: str, now: float, leeway: float) -> None:
    iss = claims.get("iss")
    if not isinstance(iss, str) or not same_issuer(iss, issuer):
        raise IdTokenError(f"The ID token was issued by {clean_text(iss, 120)!r}, not by {clean_text(issuer, 120)!r}.")
    aud = claims.get("aud")
    audiences = [aud] if isinstance(aud, str) else aud
    if not isinstance(audiences, list) or client_id not in audiences:
        raise IdTokenError("The ID token is meant for another application (its audience is not our client id).")
    azp = claims.get("azp")
    if azp is not None and azp != client_id:
        raise IdTokenError("The ID token was issued to another application (azp is not our client id).")
    exp, iat, nbf = (_time_claim(claims, name) for name in ("exp", "iat", "nbf"))
    if exp is None or iat is None:
        raise IdTokenError("The ID token has no expiry or issue time ('exp', 'iat').")
    if now >= exp + leeway:
        raise IdTokenError("The ID token has expired (check this computer's clock if this keeps happening).")
    if iat > now + leeway:
        raise IdTokenError("The ID token was issued in the future (check this computer's clock).")
    if nbf is not None and nbf > now + leeway:
        raise IdTokenError("The ID token is not valid yet (check this computer's clock).")
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        raise IdTokenError("The ID token does not say who signed in (no 'sub' claim).")


def verify_id_token(
    id_token: str, *, jwks: dict[str, Any], issuer: str, client_id: str, now: float, leeway: float = 60
) -> dict[str, Any]:
    """The verified claims of ``id_token``, or :class:`IdTokenError` (:class:`UnknownKeyError` for a new kid).

    Checks: RS256 only, signature with the JWKS key named by ``kid``, ``iss`` (trailing slash ignored),
    ``aud`` contains ``client_id``, ``azp`` (when present) is ``client_id``, ``exp``/``iat``/``nbf`` against
    ``now`` with ``leeway`` seconds, and a non-empty ``sub``.
    """
    if not isinstance(id_token, str) or not id_token or len(id_token) > _MAX_TOKEN_CHARS:
        raise IdTokenError("The ID token is missing or too large.")
    try:
        header = jwt.get_unverified_header(id_token)
    except jwt.PyJWTError:
        raise IdTokenError("The ID token is not a well-formed JWT.") from None
    alg = header.get("alg")
    if alg != ALGORITHM:
        raise IdTokenError(f"The ID token is signed with {clean_text(alg, 40)!r}; only {ALGORITHM} is accepted.")
    key = _select_key(jwks, header.get("kid"))
    try:
        claims: dict[str, Any] = jwt.decode(
            id_token, key, algorithms=[ALGORITHM],
            options={
                "verify_signature": True, "verify_exp": False, "verify_nbf": False, "verify_iat": False,
                "verify_aud": False, "verify_iss": False, "enforce_minimum_key_length": True,
            },
        )
    except jwt.InvalidSignatureError:
        raise IdTokenError("The ID token's signature does not match the sign-in service's key.") from None
    except jwt.PyJWTError as exc:
        raise IdTokenError(f"The ID token cannot be verified ({type(exc).__name__}).") from None
    _check_claims(claims, issuer, client_id, now, leeway)
    return claims


def _text(claims: Mapping[str, object], name: str) -> str | None:
    value = claims.get(name)
    return value[:PROFILE_FIELD_LIMIT] if isinstance(value, str) else None


def profile_from_claims(claims: Mapping[str, object]) -> Profile:
    """The profile from verified claims (or /userinfo); non-string values are dropped, long ones truncated."""
    sub = _text(claims, "sub")
    if not sub:
        raise IdTokenError("The profile has no user id ('sub').")
    return Profile(sub=sub, name=_text(claims, "name"), email=_text(claims, "email"),
                   nickname=_text(claims, "nickname"), picture=_text(claims, "picture"))


def access_token_expiry(access_token: str) -> float | None:
    """The access token's ``exp`` read WITHOUT verifying anything: only to schedule a refresh.

    Not a security check: the desktop app is not the token's audience; the API verifies it. Opaque
    (non-JWT) tokens and tokens without a numeric ``exp`` give None.
    """
    try:
        claims = jwt.decode(access_token, options={"verify_signature": False})
    except (jwt.PyJWTError, TypeError, ValueError):
        return None
    exp = claims.get("exp")
    return float(exp) if isinstance(exp, int | float) and not isinstance(exp, bool) else None
