"""The authorization server's HTTP routes, as a Starlette (ASGI) application.

Routes:

- ``POST /pusher/auth``: form (as pusher-js sends) or JSON ``socket_id`` and ``channel_name`` ->
  ``{"auth"}``, plus ``channel_data`` for presence and ``shared_secret`` for encrypted channels; or several
  channels at once (``channel_name[0]``, ``channel_name[1]``, ... as the pusher-js-auth plugin sends them):
  :mod:`.batch_auth`;
- ``POST /pusher/user-auth``: ``socket_id`` -> ``{"auth", "user_data"}`` for user sign-in (the id is the token's
  ``sub``, escaped into Pusher's channel-name alphabet: see :func:`~.profiles.pusher_user_id`);
- ``POST /message``: the chat sample's endpoint: ``message`` -> ``[chat] event`` on ``[chat] channel`` with
  ``{"message", "name", "user_id"}``; the name and user id come from the verified token (and the caller's profile),
  never from the request, so nobody can post as someone else (a ``name`` in the request is ignored);
- ``GET /healthz``: ``{"ok": true}``, without authentication; with the tenant log, 503 ``{"ok": false}`` while its
  store does not answer (the load balancer's probe).
- the tenant log (:mod:`.logstream`), when the server keeps one: ``POST /auth0/log-stream`` (its own stream token),
  ``GET /events`` and ``GET /users/{user_id}/events`` (the checks below, with a rate limit of their own).

Every other route needs ``Authorization: Bearer <Auth0 access token>`` with the configured permission. Order of
checks: token (401), per-user rate limit (429 with ``Retry-After``), client and permission (403), body size, type
and read deadline (413/415/408), parameters (400), channel policy (403). The rate limit is a token bucket per
``sub`` (:mod:`.ratelimit`), one for the signing routes and one for ``/message``: a person's chat cannot starve
their own reconnects. Bodies must arrive within ``body_timeout`` seconds in total, so a client that drips its
body cannot hold a connection; slow headers and idle connections are the HTTP server's job (:mod:`.listener`).
Every error body is ``{"error", "error_description"}``; 401s carry ``WWW-Authenticate``. Blocking work (JWKS and
/userinfo fetches, the Pusher HTTP API) runs in Starlette's thread pool so the event loop keeps serving.

The access log is one line per request through ``logging`` (logger ``desktop.authserver.access``, see
:mod:`.access_log`); errors become answers in :mod:`.error_responses`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any, Protocol

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from desktop.authserver.access_log import AccessLogMiddleware, note_caller
from desktop.authserver.batch_auth import authorize_batch, batched_channel_names
from desktop.authserver.error_responses import exception_handlers
from desktop.authserver.logstream import TenantLog
from desktop.authserver.params import (
    BODY_TIMEOUT,
    MAX_BODY_BYTES,
    ApiError,
    parse_channel_name,
    parse_socket_id,
    read_params,
)
from desktop.authserver.policy import ChannelPolicy
from desktop.authserver.profiles import ProfileLookup, UserInfoFetcher, pusher_user_id
from desktop.authserver.ratelimit import TokenBuckets, retry_after_header
from desktop.authserver.tokens import AccessTokenVerifier, TokenRejected
from desktop.config_schema import Config
from desktop.signing.names import SERVER_TO_USER_PREFIX, ChannelKind, channel_kind, validate_channel_name
from desktop.signing.pusher_http import MAX_EVENT_DATA_BYTES, TriggerError
from desktop.signing.signatures import (
    channel_auth_response,
    encode_json_compact,
    user_auth_response,
)

__all__ = ["BODY_TIMEOUT", "MAX_BODY_BYTES", "ApiError", "Trigger", "create_app"]

_MESSAGE_ID = re.compile(r"[A-Za-z0-9_.:\-]{1,64}")  # the client's own message id (echo matching): passed through
_SIGNING, _MESSAGE, _EVENTS = "signing", "message", "events"


class Trigger(Protocol):
    """Publishes one event (blocking); raises :class:`TriggerError` when Pusher refuses or cannot be reached."""

    def __call__(self, channel: str, event: str, data: str, socket_id: str | None) -> None: ...


class _Handlers:
    def __init__(self, config: Config, secret: str, master_key: bytes | None, verifier: AccessTokenVerifier,
                 *, trigger: Trigger | None, profiles: ProfileLookup, clock: Callable[[], float],
                 body_timeout: float) -> None:
        self.key = config.require_pusher().key
        self.secret = secret
        self.master_key = master_key
        self.verifier = verifier
        self.trigger = trigger
        self.profiles = profiles
        self.policy = ChannelPolicy.from_config(config, encryption=master_key is not None)
        self.chat_channel = config.chat.channel
        self.chat_event = config.chat.event
        self.clock = clock
        self.body_timeout = body_timeout
        per_second, burst = config.authserver.rate_limit / 60.0, config.authserver.rate_burst
        self.limits = {group: TokenBuckets(per_second, burst) for group in (_SIGNING, _MESSAGE, _EVENTS)}

    # ---- routes -------------------------------------------------------------------------------------------

    async def healthz(self, request: Request) -> Response:
        return JSONResponse({"ok": True})

    async def channel_auth(self, request: Request) -> Response:
        claims, token = await self._authenticate(request, _SIGNING)
        params = await read_params(request, self.body_timeout)
        socket_id = parse_socket_id(params.get("socket_id"))
        batch = batched_channel_names(params)
        if batch is not None:  # several channels at once (pusher-js-auth's format): see .batch_auth
            return JSONResponse(await authorize_batch(
                socket_id, batch, lambda channel: self._sign_channel(socket_id, channel, claims, token)))
        channel = parse_channel_name(params.get("channel_name"))
        return JSONResponse(await self._sign_channel(socket_id, channel, claims, token))

    async def _sign_channel(self, socket_id: str, channel: str, claims: dict[str, Any], token: str) -> dict[str, Any]:
        """The policy check and the signature for one valid channel name (raises Forbidden or ApiError)."""
        self.policy.check(channel)
        channel_data = None
        if channel_kind(channel) is ChannelKind.PRESENCE:
            user_info = await run_in_threadpool(self.profiles.lookup, claims, token)
            channel_data = encode_json_compact({"user_id": claims["sub"], "user_info": user_info})
        try:
            body = channel_auth_response(self.key, self.secret, socket_id, channel, channel_data=channel_data,
                                         master_key=self.master_key)
        except ValueError as exc:  # e.g. a user id longer than presence channels allow
            raise ApiError(400, "invalid_request", str(exc)) from None
        return body

    async def user_auth(self, request: Request) -> Response:
        claims, token = await self._authenticate(request, _SIGNING)
        params = await read_params(request, self.body_timeout)
        socket_id = parse_socket_id(params.get("socket_id"))
        user_id = pusher_user_id(claims["sub"])
        try:
            validate_channel_name(SERVER_TO_USER_PREFIX + user_id, allow_internal=True)
        except ValueError:
            raise ApiError(400, "invalid_request", "the user id (sub) is too long for Pusher user sign-in") from None
        user_info = await run_in_threadpool(self.profiles.lookup, claims, token)
        try:
            body = user_auth_response(self.key, self.secret, socket_id, {"id": user_id, "user_info": user_info})
        except ValueError as exc:
            raise ApiError(400, "invalid_request", str(exc)) from None
        return JSONResponse(body)

    async def message(self, request: Request) -> Response:
        claims, token = await self._authenticate(request, _MESSAGE)
        if self.trigger is None:
            raise ApiError(503, "not_configured",
                           "the chat message endpoint needs [pusher] app_id in the server's configuration")
        params = await read_params(request, self.body_timeout)
        text = params.get("message")
        if not isinstance(text, str) or not text.strip():
            raise ApiError(400, "invalid_request", "'message' is required and must be non-empty text")
        raw_socket_id = params.get("socket_id")
        socket_id = None if raw_socket_id in (None, "") else parse_socket_id(raw_socket_id)
        # Who is speaking comes from the verified token and the caller's profile only: a "name" in the request
        # is ignored, so nobody can post as someone else.
        profile = await run_in_threadpool(self.profiles.lookup, claims, token)
        event: dict[str, str] = {"message": text, "name": profile.get("name") or profile.get("email") or claims["sub"],
                                 "user_id": claims["sub"]}
        message_id = params.get("id")
        if isinstance(message_id, str) and _MESSAGE_ID.fullmatch(message_id):
            event["id"] = message_id  # lets the sender recognise its own message when it comes back
        data = encode_json_compact(event)
        if len(data.encode("utf-8")) > MAX_EVENT_DATA_BYTES:
            raise ApiError(413, "payload_too_large",
                           f"the message is too large: Pusher accepts at most {MAX_EVENT_DATA_BYTES // 1024} KB "
                           "per event (message and name, JSON-encoded)")
        try:
            await run_in_threadpool(self.trigger, self.chat_channel, self.chat_event, data, socket_id)
        except TriggerError as exc:
            if exc.status == 413:  # e.g. over the limit once encrypted for a private-encrypted chat channel
                raise ApiError(413, "payload_too_large", f"the message is too large: {exc}") from None
            raise ApiError(502, "pusher_error", f"the message could not be published: {exc}") from None
        return JSONResponse({"ok": True})

    # ---- checks -------------------------------------------------------------------------------------------

    async def _authenticate(self, request: Request, group: str) -> tuple[dict[str, Any], str]:
        """The verified claims and the raw token, after the rate limit of ``group`` for this ``sub`` and the
        client and permission checks; sets ``sub`` for the access log."""
        header = request.headers.get("authorization")
        if not header:
            raise TokenRejected("an 'Authorization: Bearer <access token>' header is required")
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token or " " in token:
            raise TokenRejected("the Authorization header must be 'Bearer <access token>'")
        claims = await run_in_threadpool(self.verifier.verify, token)
        note_caller(request.scope, claims["sub"])
        wait = self.limits[group].take(claims["sub"], self.clock())
        if wait > 0:
            retry = retry_after_header(wait)
            raise ApiError(429, "rate_limited", f"too many requests from this user; try again in {retry} s",
                           {"Retry-After": retry})
        self.policy.require_permission(claims)
        return claims, token


# ---- the application --------------------------------------------------------------------------------------


def create_app(
    config: Config,
    secret: str,
    master_key: bytes | None,
    verifier: AccessTokenVerifier,
    trigger: Trigger | None,
    *,
    userinfo: UserInfoFetcher | None = None,
    profiles: ProfileLookup | None = None,
    clock: Callable[[], float] = time.monotonic,
    body_timeout: float = BODY_TIMEOUT,
    tenant_log: TenantLog | None = None,
) -> Starlette:
    """The ASGI application.

    :param config: ``[pusher] key`` (required), ``[feed]``, ``[chat]`` and ``[authserver]`` (permission, allowed
        client ids, rate limit).
    :param secret: the Pusher app secret (from the keyring or ``LOGIN_FEED_PUSHER_SECRET``).
    :param master_key: the 32-byte encryption master key, or None (encrypted channels are then refused).
    :param verifier: checks the callers' access tokens.
    :param trigger: publishes chat messages (``PusherHttpApi``); None answers ``/message`` with 503.
    :param userinfo: fetches ``/userinfo`` with a caller's token when the token has no name or email.
    :param profiles: a ready :class:`ProfileLookup` (tests); built from ``userinfo`` otherwise.
    :param clock: monotonic seconds, for the per-user rate limit.
    :param body_timeout: seconds a client has to send a whole request body.
    :param tenant_log: the log stream's target and ``/events`` (:mod:`.logstream`); None leaves them out.
    """
    if not isinstance(secret, str) or not secret:
        raise ValueError("the Pusher app secret is required")
    if master_key is not None and len(master_key) != 32:
        raise ValueError("the encryption master key must be 32 bytes")
    handlers = _Handlers(config, secret, master_key, verifier, trigger=trigger,
                         profiles=profiles if profiles is not None else ProfileLookup(userinfo), clock=clock,
                         body_timeout=body_timeout)
    routes = [
        Route("/pusher/auth", handlers.channel_auth, methods=["POST"]),
        Route("/pusher/user-auth", handlers.user_auth, methods=["POST"]),
        Route("/message", handlers.message, methods=["POST"]),
        Route("/healthz", handlers.healthz if tenant_log is None else tenant_log.healthz, methods=["GET"]),
    ]
    if tenant_log is not None:
        routes += tenant_log.routes(lambda request: handlers._authenticate(request, _EVENTS))
    return Starlette(routes=routes, middleware=[Middleware(AccessLogMiddleware)],
                     exception_handlers=exception_handlers())
