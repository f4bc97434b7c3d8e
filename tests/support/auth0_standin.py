"""A hand-written Auth0 stand-in on 127.0.0.1: Auth0's exact device-flow answers, which oidc-provider cannot show.

oidc-provider answers every device-flow error with 400, never sends ``slow_down`` or ``interval``, and keeps
answering ``expired_token``. Auth0 uses 403 (pending, denied, expired), 429 (slow_down), sends ``interval``,
and answers ``expired_token`` exactly once, then ``invalid_grant``. This server plays those answers from a
script, records when each poll arrived and when it was answered, mints RS256 tokens with its own key and
serves the matching JWKS, refresh (rotating by default, with reuse detection), revocation and /userinfo.

Example::

    with Auth0Standin(interval=0.2, script=[PENDING, SLOW_DOWN, APPROVED]) as idp:
        discovery = requests.get(idp.discovery_url, timeout=5).json()
        code = requests.post(discovery["device_authorization_endpoint"],
                             data={"client_id": idp.client_id, "scope": "openid offline_access"}, timeout=5).json()
        ...  # poll discovery["token_endpoint"] with code["device_code"] until the tokens come
        assert [p.status for p in idp.polls] == [403, 429, 200]
        assert all(wait >= 0.2 for wait in idp.poll_waits())  # measured from the previous answer
        verify_id_token(..., jwks=idp.jwks, issuer=idp.issuer, client_id=idp.client_id, now=time.time())
"""

from __future__ import annotations

import itertools
import json
import secrets
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from support.http_stub import HttpStub, Reply, StubRequest, StubService
from support.keys import rsa_private_key

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


TOKENS: Any = object()
"""Script marker: answer with tokens minted when the poll arrives (so their times are current)."""
Answer = tuple[int, Any]
"""(HTTP status, body): a dict is sent as JSON, str/bytes as-is (garbage), TOKENS as a token answer."""

# Auth0's answers, status and wording as documented (research reference §1.4).
PENDING: Answer = (403, {"error": "authorization_pending",
                         "error_description": "User has yet to authorize device code."})
SLOW_DOWN: Answer = (429, {"error": "slow_down",
                           "error_description": "You are polling faster than the specified interval of 5 seconds."})
DENIED: Answer = (403, {"error": "access_denied", "error_description": "User cancelled the confirmation prompt."})
EXPIRED_TOKEN: Answer = (403, {"error": "expired_token", "error_description": "Expired device code."})
INVALID_GRANT: Answer = (403, {"error": "invalid_grant", "error_description": "Invalid or expired device code."})
APPROVED: Answer = (200, TOKENS)
_BAD_REFRESH: Answer = (403, {"error": "invalid_grant", "error_description": "Unknown or invalid refresh token."})


@dataclass(frozen=True, slots=True)
class Poll:
    """One device-code poll: arrival and answer times on ``time.monotonic()``, the form, what was answered."""

    arrived_at: float
    answered_at: float
    form: dict[str, str]
    status: int
    body: Any


class Auth0Standin(StubService):
    """Auth0's device flow on ``http://127.0.0.1:<port>/``; use as a context manager or ``start()``/``stop()``.

    ``script``: answers for device-code polls, in order; when it runs out, polls get :data:`PENDING`.
    Once the code's ``expires_in`` has passed (or after :meth:`expire_now`) polls get ``expired_token``
    once, then ``invalid_grant``, whatever the script says. ``interval=None`` omits the field
    (like oidc-provider). A refresh token is issued only when the device request asked for ``offline_access``.
    """

    def __init__(self, *, client_id: str = "login-feed-desktop", audience: str = "https://login-feed.example/api",
                 interval: float | None = 5, expires_in: float = 900, script: Iterable[Answer] = (),
                 user_code: str = "QTZL-MCBW", access_token_lifetime: int = 86400, rotate_refresh_tokens: bool = True,
                 poll_latency: float = 0.0, key: rsa.RSAPrivateKey | None = None, kid: str = "standin-key-1") -> None:
        self.client_id, self.audience, self.interval, self.expires_in = client_id, audience, interval, expires_in
        self.user_code, self.access_token_lifetime = user_code, access_token_lifetime
        self.rotate_refresh_tokens, self.poll_latency, self.kid = rotate_refresh_tokens, poll_latency, kid
        self.key = key or rsa_private_key()
        self.profile: dict[str, Any] = {"sub": "auth0|standin-user", "name": "Sam Support", "nickname": "sam",
                                        "email": "sam@example.com", "email_verified": True,
                                        "picture": "https://example.com/sam.png"}
        self._lock = threading.Lock()
        self._script: list[Answer] = list(script)
        self.polls: list[Poll] = []
        self.device_requests: list[dict[str, str]] = []
        self.refresh_requests: list[dict[str, str]] = []
        self.revocations: list[dict[str, str]] = []
        self._device_code: str | None = None
        self._scope, self._code_expires, self._expired_answered = "", 0.0, False
        self._refresh_tokens, self._used_refresh_tokens, self._access_tokens = set[str](), set[str](), set[str]()
        self._stub = HttpStub(self._play)
        self.discovery: dict[str, Any] = {
            "issuer": self.issuer, "device_authorization_endpoint": self.issuer + "oauth/device/code",
            "token_endpoint": self.issuer + "oauth/token", "userinfo_endpoint": self.issuer + "userinfo",
            "revocation_endpoint": self.issuer + "oauth/revoke", "jwks_uri": self.issuer + ".well-known/jwks.json",
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
        }
        """Served as-is at /.well-known/openid-configuration: edit it to serve a broken document."""

    @property
    def issuer(self) -> str:
        """Auth0's form: with a trailing slash."""
        return self._stub.url("/")

    @property
    def discovery_url(self) -> str:
        return self.issuer + ".well-known/openid-configuration"

    def play(self, *answers: Answer) -> None:
        """Replace the answers still to come for device-code polls."""
        with self._lock:
            self._script = list(answers)

    def expire_now(self) -> None:
        """Make the current device code expired, as if ``expires_in`` had passed."""
        with self._lock:
            self._code_expires = 0.0

    def poll_waits(self) -> list[float]:
        """For each poll after the first: seconds between the previous poll's answer and this poll's arrival."""
        with self._lock:
            polls = list(self.polls)
        return [b.arrived_at - a.answered_at for a, b in itertools.pairwise(polls)]

    @property
    def jwks(self) -> dict[str, Any]:
        jwk = jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        return {"keys": [{**jwk, "kid": self.kid, "use": "sig", "alg": "RS256"}]}

    def mint_id_token(self, **claims: Any) -> str:
        """An ID token like Auth0's; ``claims`` override or add (None removes a claim)."""
        now = int(time.time())
        base = {"iss": self.issuer, "aud": self.client_id, "iat": now, "exp": now + 36000, **self.profile}
        return self._sign(base, claims)

    def mint_access_token(self, **claims: Any) -> str:
        """An access token in Auth0's default (JWT) profile: ``aud`` list, ``azp``, ``scope``, ``permissions``."""
        now = int(time.time())
        base = {"iss": self.issuer, "sub": self.profile["sub"], "aud": [self.audience, self.issuer + "userinfo"],
                "azp": self.client_id, "iat": now, "exp": now + self.access_token_lifetime,
                "scope": "openid profile email offline_access", "permissions": ["read:login-feed"]}
        return self._sign(base, claims)

    def _sign(self, base: dict[str, Any], overrides: dict[str, Any]) -> str:
        claims = {k: v for k, v in {**base, **overrides}.items() if v is not None}
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": self.kid, "typ": "JWT"})

    # Endpoints below run with the lock held.
    def _token_answer(self, with_refresh: bool) -> dict[str, Any]:
        access = self.mint_access_token()
        self._access_tokens.add(access)
        body: dict[str, Any] = {"access_token": access, "id_token": self.mint_id_token(), "token_type": "Bearer",
                                "expires_in": self.access_token_lifetime, "scope": self._scope or "openid"}
        if with_refresh:
            body["refresh_token"] = refresh = secrets.token_urlsafe(24)
            self._refresh_tokens.add(refresh)
        return body

    def _device_code_request(self, form: dict[str, str]) -> Answer:
        self.device_requests.append(form)
        if "client_secret" in form:
            return 403, {"error": "unauthorized_client",
                         "error_description": "Unauthorized or unknown client for device code flow."}
        if form.get("client_id") != self.client_id:
            return 401, {"error": "invalid_client", "error_description": "Unknown client."}
        self._device_code, self._scope = secrets.token_urlsafe(32), form.get("scope", "")
        self._code_expires, self._expired_answered = time.monotonic() + self.expires_in, False
        body: dict[str, Any] = {
            "device_code": self._device_code, "user_code": self.user_code,
            "verification_uri": self.issuer + "activate",
            "verification_uri_complete": f"{self.issuer}activate?user_code={self.user_code}",
            "expires_in": self.expires_in,
        }
        if self.interval is not None:
            body["interval"] = self.interval
        return 200, body

    def _device_poll(self, form: dict[str, str]) -> Answer:
        if form.get("client_id") != self.client_id:
            return 401, {"error": "invalid_client", "error_description": "Unknown client."}
        if self._device_code is None or form.get("device_code") != self._device_code:
            return INVALID_GRANT
        if time.monotonic() >= self._code_expires:
            if self._expired_answered:
                return INVALID_GRANT
            self._expired_answered = True
            return EXPIRED_TOKEN
        status, body = self._script.pop(0) if self._script else PENDING
        if body is TOKENS:
            self._device_code = None  # a device code is good for one set of tokens
            return status, self._token_answer("offline_access" in self._scope.split())
        return status, body

    def _refresh(self, form: dict[str, str]) -> Answer:
        self.refresh_requests.append(form)
        token = form.get("refresh_token", "")
        if token in self._used_refresh_tokens:  # reuse detection: the whole family is revoked
            self._refresh_tokens.clear()
            return _BAD_REFRESH
        if form.get("client_id") != self.client_id or token not in self._refresh_tokens:
            return _BAD_REFRESH
        if not self.rotate_refresh_tokens:
            return 200, self._token_answer(with_refresh=False)
        self._refresh_tokens.discard(token)
        self._used_refresh_tokens.add(token)
        return 200, self._token_answer(with_refresh=True)

    def _revoke(self, form: dict[str, str]) -> Answer:
        self.revocations.append(form)
        if form.get("token") in self._refresh_tokens:
            self._refresh_tokens.clear()
        return 200, b""

    def _post(self, path: str, form: dict[str, str], arrived: float) -> Answer:
        if path == "/oauth/device/code":
            return self._device_code_request(form)
        if path == "/oauth/revoke":
            return self._revoke(form)
        if path != "/oauth/token":
            return 404, {"error": "not_found"}
        grant = form.get("grant_type")
        if grant == "refresh_token":
            return self._refresh(form)
        if grant != DEVICE_GRANT:
            return 403, {"error": "unsupported_grant_type", "error_description": "Unsupported grant type."}
        status, body = self._device_poll(form)
        self.polls.append(Poll(arrived, time.monotonic(), form, status, body))
        return status, body

    def _get(self, path: str, authorization: str) -> Answer:
        if path == "/.well-known/openid-configuration":
            return 200, self.discovery
        if path == "/.well-known/jwks.json":
            return 200, self.jwks
        if path == "/userinfo":
            token = authorization.removeprefix("Bearer ")
            return (200, self.profile) if token in self._access_tokens else (401, {"error": "invalid_token"})
        return 404, {"error": "not_found"}

    def _play(self, request: StubRequest) -> Reply:
        """Served by the loopback :class:`HttpStub`: one answer per request, under the lock."""
        path = request.path.split("?")[0]
        if request.method == "GET":
            with self._lock:
                status, body = self._get(path, request.headers.get("Authorization", ""))
        else:
            arrived = time.monotonic()
            if path == "/oauth/token" and self.poll_latency:
                time.sleep(self.poll_latency)  # a slow server: the client's wait must start after this
            with self._lock:
                status, body = self._post(request.path, request.form, arrived)
        if isinstance(body, dict | list):
            data, kind = json.dumps(body).encode(), "application/json"
        else:
            data, kind = (body.encode() if isinstance(body, str) else body), "text/html"
        return Reply(status, data, {"Content-Type": kind, "Cache-Control": "no-store"})
