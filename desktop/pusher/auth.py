"""Channel authorization and user authentication: the local signer and the HTTP endpoint.

Both answer with the JSON object an endpoint would send (``{"auth": ..., "channel_data"?, "shared_secret"?}``)
so the core checks one shape. Failures are :class:`AuthorizationError` carrying the HTTP status, never a
token or a secret.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from desktop.pusher.errors import PusherError
from desktop.signing.names import ChannelKind, channel_kind
from desktop.signing.signatures import channel_auth_response, encode_json_compact, user_auth_response
from desktop.util.http import HttpClient, HttpError
from desktop.util.text import clean_text

MAX_ANSWER_BYTES = 64 * 1024


class AuthorizationError(PusherError):
    """Authorization was refused or failed; ``status`` is the endpoint's HTTP status when there was one."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class BatchUnsupported(AuthorizationError):
    """The endpoint did not answer a batched request in the batched format: ask one channel at a time."""


class Authorizer(Protocol):
    #: True when calls may wait on the network: the client then runs them on a worker thread.
    blocking: bool

    def authorize_channel(self, socket_id: str, channel_name: str) -> dict[str, Any]: ...

    def authenticate_user(self, socket_id: str) -> dict[str, Any]: ...


@dataclass(slots=True)
class LocalAuthorizer:
    """Signs with the app secret held by this process (mode ``local``)."""

    app_key: str
    secret: str = field(repr=False)
    master_key: bytes | None = field(default=None, repr=False)
    #: ``{"id": ..., "user_info": {...}}``: who we are on presence channels and for user sign-in.
    user: Mapping[str, Any] | None = None
    blocking: bool = False

    def authorize_channel(self, socket_id: str, channel_name: str) -> dict[str, Any]:
        channel_data = None
        if channel_kind(channel_name) is ChannelKind.PRESENCE:
            user = self._user()
            channel_data = encode_json_compact({"user_id": user["id"], "user_info": user.get("user_info", {})})
        try:
            return channel_auth_response(self.app_key, self.secret, socket_id, channel_name,
                                         channel_data=channel_data, master_key=self.master_key)
        except ValueError as exc:
            raise AuthorizationError(str(exc)) from None

    def authenticate_user(self, socket_id: str) -> dict[str, Any]:
        user = self._user()
        try:
            return user_auth_response(self.app_key, self.secret, socket_id, dict(user))
        except ValueError as exc:
            raise AuthorizationError(str(exc)) from None

    def _user(self) -> Mapping[str, Any]:
        if not self.user or not self.user.get("id"):
            raise AuthorizationError("presence channels and user sign-in need a user id; none is configured")
        return self.user


@dataclass(slots=True)
class HttpAuthorizer:
    """Asks an endpoint, as pusher-js's ajax transport does: a form POST of ``socket_id`` and ``channel_name``."""

    endpoint: str
    user_endpoint: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    params: Mapping[str, str] = field(default_factory=dict)
    #: Called before each request for headers that change (a fresh bearer token).
    headers_provider: Callable[[], Mapping[str, str]] | None = None
    #: Called once after a 401 (renew the bearer token); the request is then retried once.
    on_unauthorized: Callable[[], None] | None = None
    #: The total deadline of one request (connect, send, the whole answer).
    timeout: float = 10.0
    blocking: bool = True
    #: Whether the endpoint signs several channels in one request: None until asked, then True or False.
    batching: bool | None = None
    http: HttpClient = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.http = HttpClient("the authorization endpoint", timeout=self.timeout, max_bytes=MAX_ANSWER_BYTES)

    def authorize_channel(self, socket_id: str, channel_name: str) -> dict[str, Any]:
        return self._post(self.endpoint, {"socket_id": socket_id, "channel_name": channel_name})

    def authorize_channels(self, socket_id: str, channels: list[str]) -> dict[str, dict[str, Any] | AuthorizationError]:
        """Several channels of one socket in one request, in pusher-js-auth's format (``channel_name[i]`` in,
        ``{socket_id: {channel: {"status", "data" | "error"}}}`` out; ``login-feed server`` speaks it). Each
        channel's answer, or its refusal. Raises :class:`BatchUnsupported` (and stops batching for good) when
        the answer is not in that format, and :class:`AuthorizationError` when the whole request failed; the
        caller then asks one channel at a time, which gives each channel its own precise answer."""
        form = {"socket_id": socket_id, **{f"channel_name[{i}]": name for i, name in enumerate(channels)}}
        try:
            answer = self._post(self.endpoint, form)
        except AuthorizationError as exc:
            if self.batching is None:  # never answered a batch: e.g. a 400 from an endpoint that wants channel_name
                self.batching = False
                raise BatchUnsupported(f"no batched authorization here ({exc.message})", exc.status) from None
            raise
        mine = answer.get(socket_id)
        if not isinstance(mine, Mapping):
            self.batching = False
            raise BatchUnsupported("the authorization endpoint's answer is not a batched one")
        self.batching = True
        return {name: _batched_item(name, mine.get(name)) for name in channels}

    def authenticate_user(self, socket_id: str) -> dict[str, Any]:
        if not self.user_endpoint:
            raise AuthorizationError("no user authentication endpoint is configured")
        return self._post(self.user_endpoint, {"socket_id": socket_id})

    def close(self) -> None:
        self.http.close()

    def _post(self, url: str, form: dict[str, str]) -> dict[str, Any]:
        try:
            return self._post_once(url, form)
        except AuthorizationError as exc:
            if exc.status != 401 or self.on_unauthorized is None:
                raise
        try:
            self.on_unauthorized()
        except Exception as exc:  # the renewal failed: report the 401 with why it could not be renewed
            raise AuthorizationError(f"the authorization endpoint answered 401 and the sign-in could not be "
                                     f"renewed: {exc}", 401) from None
        return self._post_once(url, form)

    def _post_once(self, url: str, form: dict[str, str]) -> dict[str, Any]:
        headers = dict(self.headers)
        if self.headers_provider is not None:
            try:
                headers.update(self.headers_provider())
            except Exception as exc:  # e.g. nobody is signed in: the channel fails with that reason
                raise AuthorizationError(str(exc)) from None
        try:
            answer = self.http.post(url, data={**self.params, **form}, headers=headers)
            if answer.status != 200:
                raise AuthorizationError(f"the authorization endpoint answered {answer.status}{answer.error_detail()}",
                                         answer.status)
            return answer.json_object()
        except HttpError as exc:
            raise AuthorizationError(exc.message, exc.status) from None



def _batched_item(channel: str, item: object) -> dict[str, Any] | AuthorizationError:
    """One channel's part of a batched answer: its auth object, or why it was refused."""
    if isinstance(item, Mapping) and item.get("status") == 200 and isinstance(item.get("data"), Mapping):
        return dict(item["data"])
    status = item.get("status") if isinstance(item, Mapping) else None
    error = item.get("error") if isinstance(item, Mapping) else None
    reason = clean_text(error, 200) if isinstance(error, str) and error else "no answer for this channel"
    return AuthorizationError(f"the authorization endpoint refused {clean_text(channel, 200)}: {reason}",
                              status if isinstance(status, int) and not isinstance(status, bool) else None)
