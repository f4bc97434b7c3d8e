"""Channels as the client sees them: kind, subscription state, presence members, encryption key.

Pure data and small rules; the core decides when things happen, these objects only remember.
"""

from __future__ import annotations

import base64
import binascii
import enum
import json
from dataclasses import dataclass, field
from typing import Any

from nacl.exceptions import CryptoError
from nacl.secret import SecretBox

from desktop.pusher.errors import PusherError
from desktop.pusher.protocol import CLOSE_REASONS
from desktop.signing.names import ChannelKind


class SubscriptionState(enum.Enum):
    UNSUBSCRIBED = "unsubscribed"  # known, waiting for a connection
    AUTHORIZING = "authorizing"    # asked the authorizer, waiting for its answer
    SUBSCRIBING = "subscribing"    # pusher:subscribe sent, waiting for the server
    SUBSCRIBED = "subscribed"
    FAILED = "failed"              # authorization or the server refused; subscribe() again to retry


@dataclass(slots=True, frozen=True)
class Member:
    id: str
    info: Any = None


@dataclass(slots=True)
class Members:
    """The roster of a presence channel, as pusher-js keeps it."""

    by_id: dict[str, Any] = field(default_factory=dict)
    me: Member | None = None

    @property
    def count(self) -> int:
        return len(self.by_id)

    def reset(self, presence: dict[str, Any], my_id: str | None) -> None:
        hash_ = presence.get("hash") if isinstance(presence.get("hash"), dict) else {}
        ids = presence.get("ids") if isinstance(presence.get("ids"), list) else list(hash_)
        self.by_id = {str(i): hash_.get(str(i), hash_.get(i)) for i in ids}
        self.me = Member(my_id, self.by_id.get(my_id)) if my_id is not None else None

    def add(self, user_id: str, info: Any) -> bool:
        """Add a member; ``False`` if they were already here (another connection of the same user)."""
        new = user_id not in self.by_id
        self.by_id[user_id] = info
        return new

    def remove(self, user_id: str) -> Member | None:
        if user_id not in self.by_id:
            return None
        return Member(user_id, self.by_id.pop(user_id))

    def snapshot(self) -> dict[str, Any]:
        return {"count": self.count, "me": None if self.me is None else {"id": self.me.id, "info": self.me.info},
                "members": [{"id": k, "info": v} for k, v in self.by_id.items()]}

    def clear(self) -> None:
        self.by_id = {}
        self.me = None


@dataclass(slots=True, frozen=True)
class AuthResult:
    """What an authorizer answered for one channel and one socket id."""

    auth: str
    channel_data: str | None = None
    shared_secret: bytes | None = None


@dataclass(slots=True, frozen=True)
class AuthFailure:
    """Why a subscription failed, precisely enough to tell the user what happened.

    ``kind`` says who refused: ``AuthError`` (our authorizer: the endpoint refused or could not be asked)
    or ``ServerRefused`` (the Pusher server turned the subscription down). ``status`` is an HTTP status
    only, ``code`` a Pusher error code (4009 ...): soketi reports both in one ``status`` field, so they
    are told apart here and nobody prints "HTTP 4009".
    """

    message: str
    status: int | None = None
    code: int | None = None
    kind: str = "AuthError"

    def describe(self) -> str:
        """One sentence for a status bar or a terminal."""
        if self.kind == "ServerRefused":
            detail = [f"code {self.code}" + (f": {CODE_MEANINGS[self.code]}" if self.code in CODE_MEANINGS
                                               else "")] if self.code is not None else []
            if self.status is not None:
                detail.append(f"status {self.status}")
            extra = f" ({'; '.join(detail)})" if detail else ""
            return f"the server refused the subscription{extra}: {self.message}"
        if self.status is None:
            return f"authorization failed: {self.message}"
        if self.status == 200:
            return f"the authorization answer is unusable: {self.message}"
        return f"authorization refused (HTTP {self.status}): {self.message}"

    def as_event(self) -> dict[str, Any]:
        """The ``pusher:subscription_error`` payload: pusher-js's ``type``/``error``/``status``, and more."""
        return {"type": self.kind, "error": self.message, "status": self.status, "code": self.code,
                "reason": self.describe()}


#: Codes soketi puts in a subscription refusal whose general meaning fits; for others (4301 there means a
#: presence member too big, not a client event rate) the server's own message says it better.
CODE_MEANINGS = {code: CLOSE_REASONS[code] for code in (4009, 4100)}


def parse_auth_response(kind: ChannelKind, body: object) -> AuthResult:
    """Check an authorizer's answer has what the channel kind needs; raise ``ValueError`` otherwise."""
    if not isinstance(body, dict):
        raise ValueError("the authorization answer is not a JSON object")
    auth = body.get("auth")
    if not isinstance(auth, str) or ":" not in auth:
        raise ValueError("the authorization answer has no valid 'auth' field (expected 'key:signature')")
    channel_data = body.get("channel_data")
    if kind is ChannelKind.PRESENCE:
        if not isinstance(channel_data, str):
            raise ValueError("a presence authorization must include 'channel_data' as a JSON string")
        try:
            user = json.loads(channel_data)
        except ValueError:
            raise ValueError("the presence 'channel_data' is not valid JSON") from None
        if not isinstance(user, dict) or user.get("user_id") in (None, ""):
            raise ValueError("the presence 'channel_data' has no 'user_id'")
    elif channel_data is not None and not isinstance(channel_data, str):
        raise ValueError("'channel_data' must be a JSON string")
    secret: bytes | None = None
    if kind is ChannelKind.ENCRYPTED:
        raw = body.get("shared_secret")
        if not isinstance(raw, str):
            raise ValueError("an encrypted channel's authorization must include 'shared_secret'")
        try:
            secret = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("the 'shared_secret' is not valid base64") from None
        if len(secret) != SecretBox.KEY_SIZE:
            raise ValueError("the 'shared_secret' must decode to 32 bytes")
    return AuthResult(auth, channel_data, secret)


class DecryptError(PusherError, ValueError):
    """An encrypted event we could not open (wrong key, tampered, or not in the expected shape)."""


def decrypt_event(box: SecretBox, data: object) -> Any:
    """Open an encrypted channel event: ``{"nonce": b64, "ciphertext": b64}`` -> the decoded payload."""
    if not isinstance(data, dict):
        raise DecryptError("encrypted event data is not an object with nonce and ciphertext")
    nonce, ciphertext = data.get("nonce"), data.get("ciphertext")
    if not isinstance(nonce, str) or not isinstance(ciphertext, str):
        raise DecryptError("encrypted event data lacks a nonce or ciphertext string")
    try:
        plain = box.decrypt(base64.b64decode(ciphertext), base64.b64decode(nonce))
    except (CryptoError, binascii.Error, ValueError, TypeError) as exc:
        raise DecryptError(f"could not decrypt the event: {type(exc).__name__}") from None
    text = plain.decode("utf-8", "replace")
    try:
        return json.loads(text)
    except ValueError:
        return text


@dataclass(slots=True)
class Channel:
    """A channel the user asked for; it outlives connections and is resubscribed after each one."""

    name: str
    kind: ChannelKind
    state: SubscriptionState = SubscriptionState.UNSUBSCRIBED
    auth_request: int = 0
    members: Members | None = None
    box: SecretBox | None = None
    subscription_count: int | None = None
    refreshing_key: bool = False
    key_refresh_after: float = 0.0  # no new key fetch before this time (a rate bound)
    undecrypted: list[tuple[str, Any, float]] = field(default_factory=list)
    last_error: AuthFailure | None = None  # kept until a subscription succeeds: failed stays visible

    @property
    def needs_auth(self) -> bool:
        return self.kind.requires_auth

    @property
    def subscribed(self) -> bool:
        return self.state is SubscriptionState.SUBSCRIBED

    def connection_lost(self) -> None:
        """The socket is gone: the server forgot us, so must we (members, pending auth)."""
        self.state = SubscriptionState.UNSUBSCRIBED
        self.auth_request = 0
        self.refreshing_key = False
        self.key_refresh_after = 0.0  # held events wait for the key the resubscription brings
        if self.members is not None:
            self.members.clear()
