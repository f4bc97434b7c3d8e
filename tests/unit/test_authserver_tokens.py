"""Access token verification: RS256 via JWKS by kid, iss, aud, exp, sub; every forgery refused."""

from __future__ import annotations

import base64
import json
import warnings
from typing import Any

import jwt
import jwt.warnings
import pytest
from cryptography.hazmat.primitives import hashes, hmac, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from support.keys import public_jwk, rsa_private_key

from desktop.authserver.tokens import AccessTokenVerifier, KeySetUnavailable, TokenRejected

ISSUER = "https://tenant.example.auth0.com/"
AUDIENCE = "https://login-feed.example.com/api"
NOW = 1_750_000_000.0


def claims(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "iss": ISSUER, "aud": [AUDIENCE, f"{ISSUER}userinfo"], "sub": "auth0|ada", "iat": int(NOW) - 10,
        "exp": int(NOW) + 3600, "scope": "openid profile", "permissions": ["read:login-feed"],
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def sign(rsa_key: rsa.RSAPrivateKey, kid: str | None = "k1", **overrides: Any) -> str:
    headers = {"kid": kid} if kid is not None else {}
    return jwt.encode(claims(**overrides), rsa_key, algorithm="RS256", headers=headers)


class Jwks:
    """A JWKS fetcher that counts its calls; ``keys`` can change between calls (rotation)."""

    def __init__(self, *keys: dict[str, Any]) -> None:
        self.keys = list(keys)
        self.calls = 0
        self.fail = False

    def __call__(self) -> dict[str, Any]:
        self.calls += 1
        if self.fail:
            raise ConnectionError("provider down")
        return {"keys": list(self.keys)}


class Clock:
    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def verifier(jwks: Jwks, clock: Clock | None = None, **kwargs: Any) -> AccessTokenVerifier:
    return AccessTokenVerifier(ISSUER, AUDIENCE, jwks, clock or Clock(), **kwargs)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def rejected(v: AccessTokenVerifier, token: str) -> TokenRejected:
    with pytest.raises(TokenRejected) as info:
        v.verify(token)
    assert info.value.status == 401
    assert info.value.error == "invalid_token"
    assert token not in info.value.description
    assert token not in str(info.value)
    return info.value


def test_a_good_token_gives_its_claims(rsa_key) -> None:
    jwks = Jwks(public_jwk(rsa_key, "k1"))
    v = verifier(jwks)
    got = v.verify(sign(rsa_key))
    assert got["sub"] == "auth0|ada"
    assert got["permissions"] == ["read:login-feed"]
    # The key set is cached: a second token costs no fetch.
    v.verify(sign(rsa_key, sub="auth0|grace"))
    assert jwks.calls == 1


def test_issuer_trailing_slash_and_string_audience_are_accepted(rsa_key) -> None:
    v = AccessTokenVerifier(ISSUER.rstrip("/"), AUDIENCE, Jwks(public_jwk(rsa_key, "k1")), Clock())
    assert v.verify(sign(rsa_key, aud=AUDIENCE))["aud"] == AUDIENCE


def test_alg_none_is_refused(rsa_key) -> None:
    v = verifier(Jwks(public_jwk(rsa_key, "k1")))
    header = b64url(json.dumps({"alg": "none", "typ": "JWT", "kid": "k1"}).encode())
    payload = b64url(json.dumps(claims()).encode())
    for token in (f"{header}.{payload}.", f"{header}.{payload}"):
        error = rejected(v, token)
    assert "only RS256" in error.description or "well-formed" in error.description


def test_hs256_signed_with_the_public_key_as_secret_is_refused(rsa_key) -> None:
    """The classic key-confusion attack: HMAC keyed with the PEM public key that anyone can download."""
    v = verifier(Jwks(public_jwk(rsa_key, "k1")))
    pem = rsa_key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "k1"}).encode())
    payload = b64url(json.dumps(claims()).encode())
    mac = hmac.HMAC(pem, hashes.SHA256())
    mac.update(f"{header}.{payload}".encode())
    token = f"{header}.{payload}.{b64url(mac.finalize())}"
    error = rejected(v, token)
    assert "HS256" in error.description
    assert "only RS256" in error.description


def test_rs256_header_over_a_bad_signature_is_refused(rsa_key, other_rsa_key) -> None:
    v = verifier(Jwks(public_jwk(rsa_key, "k1")))
    forged = sign(other_rsa_key, kid="k1")  # right kid, wrong key
    assert "signature" in rejected(v, forged).description


def test_wrong_issuer_is_refused(rsa_key) -> None:
    v = verifier(Jwks(public_jwk(rsa_key, "k1")))
    assert "not issued by" in rejected(v, sign(rsa_key, iss="https://evil.example.com/")).description
    rejected(v, sign(rsa_key, iss=None))


def test_wrong_audience_is_refused(rsa_key) -> None:
    v = verifier(Jwks(public_jwk(rsa_key, "k1")))
    assert "not meant for this API" in rejected(v, sign(rsa_key, aud="https://other.example.com/api")).description
    rejected(v, sign(rsa_key, aud=["https://other.example.com/api", f"{ISSUER}userinfo"]))
    rejected(v, sign(rsa_key, aud=None))


def test_expired_token_is_refused_beyond_the_leeway(rsa_key) -> None:
    clock = Clock()
    v = verifier(Jwks(public_jwk(rsa_key, "k1")), clock, leeway=30)
    token = sign(rsa_key, exp=int(NOW) - 10)
    assert v.verify(token)["sub"] == "auth0|ada"  # 10 s late: inside the leeway
    clock.now = NOW + 25
    assert "expired" in rejected(v, token).description
    assert "no expiry" in rejected(v, sign(rsa_key, exp=None)).description
    assert "not a number" in rejected(v, sign(rsa_key, exp="tomorrow")).description


def test_not_yet_valid_and_future_iat_are_refused(rsa_key) -> None:
    v = verifier(Jwks(public_jwk(rsa_key, "k1")))
    assert "not valid yet" in rejected(v, sign(rsa_key, nbf=int(NOW) + 600)).description
    assert "future" in rejected(v, sign(rsa_key, iat=int(NOW) + 600)).description


def test_missing_or_empty_sub_is_refused(rsa_key) -> None:
    v = verifier(Jwks(public_jwk(rsa_key, "k1")))
    for sub in (None, "", "   ", 42):
        assert "sub" in rejected(v, sign(rsa_key, sub=sub)).description


def test_garbage_is_refused_without_echo(rsa_key) -> None:
    v = verifier(Jwks(public_jwk(rsa_key, "k1")))
    for token in ("not-a-jwt", "a.b.c", "x" * 20_000):
        rejected(v, token)
    with pytest.raises(TokenRejected):
        v.verify("")


def test_unknown_kid_refetches_once_then_401(rsa_key, other_rsa_key) -> None:
    jwks = Jwks(public_jwk(rsa_key, "k1"))
    clock = Clock()
    v = verifier(jwks, clock)
    v.verify(sign(rsa_key))
    assert jwks.calls == 1
    stranger = sign(other_rsa_key, kid="k-unknown")
    assert "does not publish" in rejected(v, stranger).description
    assert jwks.calls == 2  # refetched once for the unknown kid
    # A stream of bogus kids within a minute costs no more fetches.
    for n in range(5):
        rejected(v, sign(other_rsa_key, kid=f"bogus-{n}"))
    assert jwks.calls == 2
    clock.now += 61
    rejected(v, sign(other_rsa_key, kid="bogus-later"))
    assert jwks.calls == 3


def test_key_rotation_is_picked_up_by_the_refetch(rsa_key, other_rsa_key) -> None:
    jwks = Jwks(public_jwk(rsa_key, "k1"))
    v = verifier(jwks)
    v.verify(sign(rsa_key))
    jwks.keys.append(public_jwk(other_rsa_key, "k2"))
    assert v.verify(sign(other_rsa_key, kid="k2"))["sub"] == "auth0|ada"
    assert jwks.calls == 2


def test_token_without_kid_uses_the_only_key(rsa_key, other_rsa_key) -> None:
    assert verifier(Jwks(public_jwk(rsa_key, "k1"))).verify(sign(rsa_key, kid=None))["sub"] == "auth0|ada"
    v = verifier(Jwks(public_jwk(rsa_key, "k1"), public_jwk(other_rsa_key, "k2")))
    rejected(v, sign(rsa_key, kid=None))


def test_unsuitable_keys_in_the_jwks_are_ignored(rsa_key) -> None:
    small = rsa_private_key(bits=1024)
    with warnings.catch_warnings():  # PyJWT warns when signing with a short key: that is the point here
        warnings.simplefilter("ignore", jwt.warnings.InsecureKeyLengthWarning)
        small_token = sign(small, kid="small")
    jwks = Jwks(public_jwk(small, "small"), {"kty": "EC", "kid": "ec"}, {"kty": "RSA", "kid": "broken", "n": "x"},
                {**public_jwk(rsa_key, "enc"), "use": "enc"}, "not-a-key")
    v = verifier(jwks)
    rejected(v, small_token)
    rejected(v, sign(rsa_key, kid="enc"))


def test_jwks_unreachable_is_unavailable_not_a_bad_token(rsa_key) -> None:
    jwks = Jwks(public_jwk(rsa_key, "k1"))
    jwks.fail = True
    clock = Clock()
    v = verifier(jwks, clock)
    with pytest.raises(KeySetUnavailable):
        v.verify(sign(rsa_key))
    with pytest.raises(KeySetUnavailable):  # a failure is not retried at once
        v.verify(sign(rsa_key))
    assert jwks.calls == 1
    jwks.fail = False
    clock.now += 6
    assert v.verify(sign(rsa_key))["sub"] == "auth0|ada"


def test_unknown_kid_while_the_provider_is_down_is_401_with_old_keys_kept(rsa_key, other_rsa_key) -> None:
    jwks = Jwks(public_jwk(rsa_key, "k1"))
    clock = Clock()
    v = verifier(jwks, clock)
    v.verify(sign(rsa_key))
    jwks.fail = True
    clock.now += 120
    rejected(v, sign(other_rsa_key, kid="k-new"))
    assert v.verify(sign(rsa_key))["sub"] == "auth0|ada"


def test_keys_are_refreshed_after_max_age(rsa_key, other_rsa_key) -> None:
    """A key the issuer withdrew stops working within max_age."""
    jwks = Jwks(public_jwk(rsa_key, "k1"))
    clock = Clock()
    v = verifier(jwks, clock, max_age=3600)
    token = sign(rsa_key, exp=int(NOW) + 7200)
    v.verify(token)
    jwks.keys = [public_jwk(other_rsa_key, "k2")]
    clock.now += 3601
    rejected(v, token)
