"""RSA keys for signing test tokens, generated once per test session.

A 2048-bit key takes a noticeable part of a second on a loaded 2-core machine, and nothing a test checks
depends on a key being fresh: :func:`rsa_private_key` hands out the same key for the same index, and the
session fixtures :func:`rsa_key` and :func:`other_rsa_key` (registered in ``tests/conftest.py``) are the
signing key and a second, different one (a token signed by someone else).
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa


@cache
def rsa_private_key(index: int = 0, bits: int = 2048) -> rsa.RSAPrivateKey:
    """The session's key number ``index`` of ``bits`` bits (distinct indexes: distinct keys)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def public_jwk(key: rsa.RSAPrivateKey, kid: str = "k1") -> dict[str, Any]:
    """The public half as a JWK for a key set (RS256, for signatures)."""
    return {**json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key())), "kid": kid, "use": "sig",
            "alg": "RS256"}


@pytest.fixture(scope="session")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa_private_key(0)


@pytest.fixture(scope="session")
def other_rsa_key() -> rsa.RSAPrivateKey:
    return rsa_private_key(1)
