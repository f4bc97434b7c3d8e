"""ID token verification: a good token passes; forged, misdirected, stale or algorithm-confused ones do not."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from support.keys import rsa_private_key

from desktop.auth.idtoken import (
    IdTokenError,
    Profile,
    UnknownKeyError,
    access_token_expiry,
    profile_from_claims,
    verify_id_token,
)

ISSUER = "https://tenant.eu.auth0.com/"
CLIENT_ID = "login-feed-desktop"
KID = "key-2026"
NOW = 1_800_000_000.0


def jwk(private: rsa.RSAPrivateKey, kid: str | None = KID, **extra: Any) -> dict[str, Any]:
    data = jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key(), as_dict=True)
    return {**data, **({"kid": kid} if kid else {}), "use": "sig", "alg": "RS256", **extra}


@pytest.fixture
def jwks(rsa_key: rsa.RSAPrivateKey) -> dict[str, Any]:
    return {"keys": [jwk(rsa_key)]}


def claims(**changes: Any) -> dict[str, Any]:
    base = {"iss": ISSUER, "sub": "auth0|5f7c8ec7c33c6c004bbafe82", "aud": CLIENT_ID, "iat": int(NOW) - 10,
            "exp": int(NOW) + 36000, "name": "Sam Support", "email": "sam@example.com", "nickname": "sam",
            "picture": "https://example.com/sam.png"}
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def sign(private: rsa.RSAPrivateKey, payload: dict[str, Any] | None = None, kid: str | None = KID) -> str:
    """RS256 over any JSON payload (plain JWS: PyJWT's jwt.encode refuses some of the bad claims tested here)."""
    body = json.dumps(claims() if payload is None else payload).encode()
    return jwt.api_jws.encode(body, private, algorithm="RS256", headers={"kid": kid} if kid else None)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hand_made(header: dict[str, Any], payload: dict[str, Any], signature: bytes | None = None,
              hmac_key: bytes | None = None) -> str:
    """A token built by hand: what an attacker sends (PyJWT refuses to make some of these)."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}"
    if hmac_key is not None:
        signature = hmac.new(hmac_key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature or b'')}"


def verify(token: str, jwks: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    options: dict[str, Any] = {"issuer": ISSUER, "client_id": CLIENT_ID, "now": NOW, **kwargs}
    return verify_id_token(token, jwks=jwks, **options)


def refused(token: str, jwks: dict[str, Any], match: str, error: type[IdTokenError] = IdTokenError,
            **kwargs: Any) -> None:
    with pytest.raises(error, match=match) as caught:
        verify(token, jwks, **kwargs)
    assert token not in str(caught.value)
    assert token.split(".")[1] not in str(caught.value)


def test_a_valid_token_passes(rsa_key: rsa.RSAPrivateKey, jwks: dict[str, Any]) -> None:
    assert verify(sign(rsa_key), jwks) == claims()


@pytest.mark.parametrize(("token_iss", "expected"), [
    ("https://tenant.eu.auth0.com/", "https://tenant.eu.auth0.com"),
    ("https://tenant.eu.auth0.com", "https://tenant.eu.auth0.com/"),
])
def test_issuer_trailing_slash_is_normalised(rsa_key: rsa.RSAPrivateKey, jwks: dict[str, Any], token_iss: str,
                                             expected: str) -> None:
    assert verify(sign(rsa_key, claims(iss=token_iss)), jwks, issuer=expected)["iss"] == token_iss


def test_audience_list_containing_us_passes(rsa_key: rsa.RSAPrivateKey, jwks: dict[str, Any]) -> None:
    assert verify(sign(rsa_key, claims(aud=[CLIENT_ID])), jwks)
    assert verify(sign(rsa_key, claims(aud=["https://api.example", CLIENT_ID], azp=CLIENT_ID)), jwks)
    assert verify(sign(rsa_key, claims(aud=["https://api.example", CLIENT_ID])), jwks)


@pytest.mark.parametrize("aud", ["another-app", ["another-app"], [], None, 42, {"aud": CLIENT_ID}])
def test_wrong_audience_is_refused(rsa_key: rsa.RSAPrivateKey, jwks: dict[str, Any], aud: object) -> None:
    refused(sign(rsa_key, claims(aud=aud)), jwks, "audience")


def test_azp_of_another_app_is_refused(rsa_key: rsa.RSAPrivateKey, jwks: dict[str, Any]) -> None:
    refused(sign(rsa_key, claims(aud=[CLIENT_ID, "another-app"], azp="another-app")), jwks, "azp")


@pytest.mark.parametrize("iss", ["https://evil.example/", "https://tenant.eu.auth0.com.evil.example/", None, 7])
def test_wrong_issuer_is_refused(rsa_key: rsa.RSAPrivateKey, jwks: dict[str, Any], iss: object) -> None:
    refused(sign(rsa_key, claims(iss=iss)), jwks, "issued by")


def test_expired_is_refused_after_the_leeway(rsa_key: rsa.RSAPrivateKey, jwks: dict[str, Any]) -> None:
    token = sign(rsa_key, claims(iat=int(NOW) - 3600, exp=int(NOW) - 30))
    assert verify(token, jwks)  # within the default 60 s leeway
    refused(token, jwks, "expired", leeway=10)
    refused(sign(rsa_key, claims(iat=int(NOW) - 3600, exp=int(NOW) - 61)), jwks, "expired")


def test_expiry_uses_the_given_clock_not_the_system_clock(rsa_key: rsa.RSAPrivateKey, jwks: dict[str, Any]) -> None:
    real_now = time.time()
    token = sign(rsa_key, claims(iat=int(real_now) - 7200, exp=int(real_now) - 3600))  # long dead by the system clock
    assert verify(token, jwks, now=real_now - 5000)
    refused(token, jwks, "expired", now=real_now)


def test_issued_in_the_future_or_not_yet_valid_is_refused(rsa_key: rsa.RSAPrivateKey, jwks: dict[str, Any]) -> None:
    refused(sign(rsa_key, claims(iat=int(NOW) + 600)), jwks, "future")
    refused(sign(rsa_key, claims(nbf=int(NOW) + 600)), jwks, "not valid yet")
    assert verify(sign(rsa_key, claims(iat=int(NOW) + 30, nbf=int(NOW) + 30)), jwks)


@pytest.mark.parametrize("change", [{"exp": None}, {"iat": None}, {"exp": "tomorrow"}, {"iat": True},
                                    {"nbf": "now"}])
def test_missing_or_mistyped_times_are_refused(rsa_key: rsa.RSAPrivateKey, jwks: dict[str, Any],
                                               change: dict[str, Any]) -> None:
    with pytest.raises(IdTokenError):
        verify(sign(rsa_key, claims(**change)), jwks)


@pytest.mark.parametrize("sub", [None, ""])
def test_missing_sub_is_refused(rsa_key: rsa.RSAPrivateKey, jwks: dict[str, Any], sub: object) -> None:
    refused(sign(rsa_key, claims(sub=sub)), jwks, "sub")


def test_signature_from_another_key_is_refused(other_rsa_key: rsa.RSAPrivateKey, jwks: dict[str, Any]) -> None:
    refused(sign(other_rsa_key), jwks, "signature")


def test_tampered_payload_is_refused(rsa_key: rsa.RSAPrivateKey, jwks: dict[str, Any]) -> None:
    header, _, signature = sign(rsa_key).split(".")
    forged = b64(json.dumps(claims(sub="auth0|admin")).encode())
    refused(f"{header}.{forged}.{signature}", jwks, "signature")


@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
def test_alg_none_is_refused(jwks: dict[str, Any], alg: str) -> None:
    refused(hand_made({"alg": alg, "typ": "JWT", "kid": KID}, claims()), jwks, "only RS256")


def test_hs256_signed_with_the_public_key_is_refused(rsa_key: rsa.RSAPrivateKey, jwks: dict[str, Any]) -> None:
    pem = rsa_key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    for secret in (pem, pem.strip(), json.dumps(jwk(rsa_key)).encode()):
        refused(hand_made({"alg": "HS256", "typ": "JWT", "kid": KID}, claims(), hmac_key=secret), jwks, "only RS256")


def test_other_algorithms_are_refused(rsa_key: rsa.RSAPrivateKey, jwks: dict[str, Any]) -> None:
    refused(jwt.encode(claims(), rsa_key, algorithm="RS512", headers={"kid": KID}), jwks, "only RS256")
    refused(jwt.encode(claims(), rsa_key, algorithm="PS256", headers={"kid": KID}), jwks, "only RS256")
    ec_key = ec.generate_private_key(ec.SECP256R1())
    refused(jwt.encode(claims(), ec_key, algorithm="ES256", headers={"kid": KID}), jwks, "only RS256")
    refused(hand_made({"typ": "JWT", "kid": KID}, claims()), jwks, "only RS256")


def test_unknown_kid_asks_for_a_jwks_refetch(rsa_key: rsa.RSAPrivateKey, jwks: dict[str, Any]) -> None:
    refused(sign(rsa_key, kid="rotated-key"), jwks, "not in the", error=UnknownKeyError)
    assert issubclass(UnknownKeyError, IdTokenError)


def test_key_is_chosen_by_kid_among_several(rsa_key: rsa.RSAPrivateKey, other_rsa_key: rsa.RSAPrivateKey) -> None:
    keys = {"keys": [jwk(other_rsa_key, kid="old"), jwk(rsa_key, kid=KID)]}
    assert verify(sign(rsa_key), keys)
    refused(sign(rsa_key, kid="old"), keys, "signature")


def test_token_without_kid_uses_the_only_key(rsa_key: rsa.RSAPrivateKey, other_rsa_key: rsa.RSAPrivateKey,
                                              jwks: dict[str, Any]) -> None:
    assert verify(sign(rsa_key, kid=None), jwks)
    two = {"keys": [jwk(other_rsa_key, kid="old"), jwk(rsa_key)]}
    with pytest.raises(IdTokenError, match="no key") as caught:
        verify(sign(rsa_key, kid=None), two)
    assert not isinstance(caught.value, UnknownKeyError)


@pytest.mark.parametrize("mangle", [
    {"use": "enc"}, {"alg": "RS512"}, {"kty": "EC"},
])
def test_keys_not_meant_for_rs256_signatures_are_ignored(rsa_key: rsa.RSAPrivateKey, mangle: dict[str, str]) -> None:
    refused(sign(rsa_key), {"keys": [jwk(rsa_key, **mangle)]}, "not in the", error=UnknownKeyError)


@pytest.mark.parametrize("bad_jwks", [{}, {"keys": "x"}, [], None, {"keys": {"kid": KID}}])
def test_malformed_jwks_is_refused(rsa_key: rsa.RSAPrivateKey, bad_jwks: Any) -> None:
    refused(sign(rsa_key), bad_jwks, "JWKS")


def test_malformed_key_is_refused(rsa_key: rsa.RSAPrivateKey) -> None:
    refused(sign(rsa_key), {"keys": [{"kty": "RSA", "kid": KID, "n": "!!", "e": "AQAB"}]}, "malformed")


def test_short_rsa_keys_are_refused() -> None:
    weak = rsa_private_key(bits=1024)
    with pytest.warns(jwt.warnings.InsecureKeyLengthWarning):
        token = sign(weak)
    refused(token, {"keys": [jwk(weak)]}, "cannot be verified")


@pytest.mark.parametrize("token", ["", "abc", "a.b", "a.b.c", "eyJhbGciOiJSUzI1NiJ9.e30", "x" * 70_000])
def test_malformed_tokens_are_refused(jwks: dict[str, Any], token: str) -> None:
    with pytest.raises(IdTokenError):
        verify(token, jwks)


def test_non_string_token_is_refused(jwks: dict[str, Any]) -> None:
    with pytest.raises(IdTokenError):
        verify(b"a.b.c", jwks)  # type: ignore[arg-type]


# -- profile -----------------------------------------------------------------------------------------------------

def test_profile_from_claims() -> None:
    assert profile_from_claims(claims()) == Profile("auth0|5f7c8ec7c33c6c004bbafe82", "Sam Support",
                                                    "sam@example.com", "sam", "https://example.com/sam.png")


def test_profile_keeps_strings_only_and_truncates() -> None:
    profile = profile_from_claims({"sub": "s" * 900, "name": "<img src=x>" * 100, "email": 5, "nickname": ["x"],
                                   "picture": None})
    assert profile.sub == "s" * 500
    assert len(profile.name or "") == 500
    assert (profile.email, profile.nickname, profile.picture) == (None, None, None)


@pytest.mark.parametrize(("fields", "shown"), [
    ({"name": "Sam", "nickname": "sam", "email": "e@x"}, "Sam"),
    ({"nickname": "sam", "email": "e@x"}, "sam"),
    ({"email": "e@x"}, "e@x"),
    ({}, "auth0|1"),
])
def test_display_name(fields: dict[str, str], shown: str) -> None:
    assert profile_from_claims({"sub": "auth0|1", **fields}).display_name == shown


@pytest.mark.parametrize("sub", [None, "", 12])
def test_profile_needs_a_sub(sub: object) -> None:
    with pytest.raises(IdTokenError, match="sub"):
        profile_from_claims({"sub": sub, "name": "x"})


# -- access token expiry (scheduling only) -------------------------------------------------------------------------

def test_access_token_expiry_reads_exp_without_verifying(rsa_key: rsa.RSAPrivateKey,
                                                          other_rsa_key: rsa.RSAPrivateKey) -> None:
    assert access_token_expiry(sign(rsa_key, {"exp": 1234567890, "aud": ["https://api.example"]})) == 1234567890.0
    assert access_token_expiry(sign(other_rsa_key, {"exp": 1.5})) == 1.5  # any key, long expired: not a check


@pytest.mark.parametrize("token", ["opaque-access-token", "", "a.b.c", "eyJhbGciOiJub25lIn0.eyJleHAiOiJzb29uIn0."])
def test_access_token_expiry_is_none_when_unknown(token: str) -> None:
    assert access_token_expiry(token) is None


def test_access_token_expiry_is_none_without_a_numeric_exp(rsa_key: rsa.RSAPrivateKey) -> None:
    assert access_token_expiry(sign(rsa_key, {"sub": "x"})) is None
    assert access_token_expiry(sign(rsa_key, {"exp": True})) is None
