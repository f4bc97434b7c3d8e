"""Who may join what: the authorization server's channel policy and permission check (pure).

A caller with the configured permission may join exactly the channels this deployment uses: the feed channel,
its ``private-encrypted-`` variant (when the server holds an encryption master key), the chat channel and the
team's presence channel. Everything else is refused, so a stolen or over-broad token cannot be used to sign
arbitrary channels of the same Pusher app.

The permission is read from the token's ``permissions`` claim only (Auth0 RBAC), never from ``scope``: with the
API's RBAC off, Auth0 grants any scope the API defines to anyone who asks, and the desktop's client id is public,
so a scope proves nothing about the user. When ``[authserver] allowed_client_ids`` is set, the token must also
have been issued to one of those applications (``azp`` as Auth0 writes it, or RFC 9068's ``client_id``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from desktop.authserver.errors import AuthServerError
from desktop.config_schema import Config
from desktop.signing.names import ChannelKind, channel_kind

__all__ = ["ChannelPolicy", "Forbidden", "client_of", "has_permission", "permissions_of"]

_ENCRYPTED = "private-encrypted-"
_PRIVATE = "private-"


class Forbidden(AuthServerError):
    """The caller is authenticated but not allowed: HTTP 403 with ``error`` and ``description``."""

    def __init__(self, description: str, *, error: str = "forbidden", permission: str | None = None) -> None:
        super().__init__(description, status=403, error=error)
        self.permission = permission  # set for error "insufficient_scope": the permission that is missing


def permissions_of(claims: Mapping[str, Any]) -> frozenset[str]:
    """Auth0's ``permissions`` claim (RBAC) and nothing else: ``scope`` is deliberately ignored (see the module
    docstring); a malformed claim counts as no permissions."""
    permissions = claims.get("permissions")
    if not isinstance(permissions, list):
        return frozenset()
    return frozenset(p for p in permissions if isinstance(p, str))


def client_of(claims: Mapping[str, Any]) -> str | None:
    """The application the token was issued to: ``azp`` (Auth0), else ``client_id`` (RFC 9068); None if neither."""
    for name in ("azp", "client_id"):
        value = claims.get(name)
        if isinstance(value, str) and value:
            return value
    return None


def has_permission(claims: Mapping[str, Any], permission: str) -> bool:
    return permission in permissions_of(claims)


def encrypted_variant(channel: str) -> str:
    """``private-encrypted-<base>`` for a feed channel ``<base>``, ``private-<base>`` or already encrypted."""
    if channel.startswith(_ENCRYPTED):
        return channel
    base = channel[len(_PRIVATE):] if channel.startswith(_PRIVATE) else channel
    return _ENCRYPTED + base


@dataclass(frozen=True, slots=True)
class ChannelPolicy:
    """The channels a permitted caller may be signed into; :meth:`check` raises :class:`Forbidden` otherwise."""

    permission: str
    channels: frozenset[str]
    allowed_clients: frozenset[str] = frozenset()  # empty: any application of the tenant

    @classmethod
    def from_config(cls, config: Config, *, encryption: bool) -> ChannelPolicy:
        """The feed, chat and presence channels from the configuration; the feed's encrypted variant only when
        ``encryption`` (a master key is available: without one no ``shared_secret`` can be handed out)."""
        names = {config.feed.channel, config.chat.channel, config.chat.presence_channel}
        if encryption:
            names.add(encrypted_variant(config.feed.channel))
        else:
            names = {n for n in names if channel_kind(n) is not ChannelKind.ENCRYPTED}
        return cls(config.authserver.permission, frozenset(names), frozenset(config.authserver.allowed_client_ids))

    @classmethod
    def of(cls, permission: str, channels: Iterable[str], allowed_clients: Iterable[str] = ()) -> ChannelPolicy:
        return cls(permission, frozenset(channels), frozenset(allowed_clients))

    def require_permission(self, claims: Mapping[str, Any]) -> None:
        """Raise :class:`Forbidden` unless the token was issued to an allowed application (when a list is
        configured) and its ``permissions`` claim holds the configured permission."""
        if self.allowed_clients and client_of(claims) not in self.allowed_clients:
            raise Forbidden("the access token was issued to an application this server does not accept (azp)",
                            error="unauthorized_client")
        if not has_permission(claims, self.permission):
            raise Forbidden(f"the access token lacks the {self.permission!r} permission",
                            error="insufficient_scope", permission=self.permission)

    def allows(self, channel: str) -> bool:
        return channel in self.channels

    def check(self, channel: str) -> None:
        """Raise :class:`Forbidden` unless ``channel`` is one this deployment uses (the name is not echoed
        beyond 80 characters)."""
        if not self.allows(channel):
            shown = channel if len(channel) <= 80 else channel[:80] + "…"
            raise Forbidden(f"channel {shown!r} is not one this server authorizes")
