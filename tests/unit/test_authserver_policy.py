"""Which channels the authorization server signs, and the permission check."""

from __future__ import annotations

import pytest

from desktop.authserver.policy import (
    ChannelPolicy,
    Forbidden,
    client_of,
    encrypted_variant,
    has_permission,
    permissions_of,
)
from desktop.authserver.profiles import pusher_user_id
from desktop.config_schema import AuthServerConfig, ChatConfig, Config, FeedConfig


def config(feed: str = "private-login-feed", chat: str = "private-chat", presence: str = "presence-support",
           permission: str = "read:login-feed") -> Config:
    return Config(feed=FeedConfig(channel=feed), chat=ChatConfig(channel=chat, presence_channel=presence),
                  authserver=AuthServerConfig(permission=permission))


def test_default_configuration_allows_feed_chat_presence_and_the_encrypted_feed() -> None:
    policy = ChannelPolicy.from_config(Config(), encryption=True)
    assert policy.channels == {"private-login-feed", "private-encrypted-login-feed", "private-chat",
                               "presence-support"}
    assert policy.permission == "read:login-feed"
    for channel in policy.channels:
        policy.check(channel)


@pytest.mark.parametrize("channel", [
    "private-other", "presence-admins", "private-login-feed2", "private-encrypted-chat", "private-cache-login-feed",
    "Private-login-feed", "private-encrypted-other",
])
def test_anything_else_is_forbidden(channel: str) -> None:
    policy = ChannelPolicy.from_config(Config(), encryption=True)
    assert not policy.allows(channel)
    with pytest.raises(Forbidden) as info:
        policy.check(channel)
    assert info.value.status == 403
    assert info.value.error == "forbidden"
    assert channel in info.value.description


def test_without_a_master_key_encrypted_channels_are_not_offered() -> None:
    policy = ChannelPolicy.from_config(Config(), encryption=False)
    assert policy.channels == {"private-login-feed", "private-chat", "presence-support"}
    encrypted_feed = ChannelPolicy.from_config(config(feed="private-encrypted-feed"), encryption=False)
    assert "private-encrypted-feed" not in encrypted_feed.channels


def test_configured_channels_are_followed() -> None:
    policy = ChannelPolicy.from_config(config(feed="private-encrypted-signups", chat="presence-chat",
                                              presence="presence-team"), encryption=True)
    assert policy.channels == {"private-encrypted-signups", "presence-chat", "presence-team"}


def test_encrypted_variant() -> None:
    assert encrypted_variant("private-login-feed") == "private-encrypted-login-feed"
    assert encrypted_variant("private-encrypted-login-feed") == "private-encrypted-login-feed"
    assert encrypted_variant("auth0") == "private-encrypted-auth0"


def test_long_channel_names_are_shortened_in_the_message() -> None:
    policy = ChannelPolicy.from_config(Config(), encryption=False)
    with pytest.raises(Forbidden) as info:
        policy.check("private-" + "x" * 150)
    assert len(info.value.description) < 150


def test_permission_only_from_the_permissions_claim_never_the_scope() -> None:
    # With the API's RBAC off, Auth0 grants any scope the API defines to anyone who asks: a scope proves nothing.
    assert has_permission({"permissions": ["read:login-feed"]}, "read:login-feed")
    assert not has_permission({"scope": "openid read:login-feed profile"}, "read:login-feed")
    assert not has_permission({"permissions": [], "scope": "read:login-feed"}, "read:login-feed")
    assert not has_permission({}, "read:login-feed")
    assert not has_permission({"permissions": "read:login-feed"}, "read:login-feed")  # must be a list
    assert not has_permission({"permissions": [["read:login-feed"]], "scope": 7}, "read:login-feed")
    assert permissions_of({"permissions": ["a", 1, "b"], "scope": "c  d"}) == {"a", "b"}


def test_the_client_is_azp_else_client_id() -> None:
    assert client_of({"azp": "desktop", "client_id": "other"}) == "desktop"
    assert client_of({"client_id": "desktop"}) == "desktop"
    assert client_of({"azp": 7}) is None
    assert client_of({}) is None


def test_allowed_client_ids_are_checked_when_configured() -> None:
    open_policy = ChannelPolicy.from_config(Config(), encryption=False)
    open_policy.require_permission({"permissions": ["read:login-feed"], "azp": "anything"})
    policy = ChannelPolicy.from_config(
        Config(authserver=AuthServerConfig(allowed_client_ids=("desktop", "cli"))), encryption=False)
    assert policy.allowed_clients == {"desktop", "cli"}
    policy.require_permission({"permissions": ["read:login-feed"], "azp": "cli"})
    policy.require_permission({"permissions": ["read:login-feed"], "client_id": "desktop"})
    for claims in ({"azp": "someone-elses-app"}, {"client_id": "x"}, {}):
        with pytest.raises(Forbidden) as info:
            policy.require_permission({"permissions": ["read:login-feed"], **claims})
        assert info.value.status == 403
        assert info.value.error == "unauthorized_client"


def test_require_permission_raises_insufficient_scope() -> None:
    policy = ChannelPolicy.from_config(config(permission="read:feed"), encryption=False)
    policy.require_permission({"permissions": ["read:feed"]})
    with pytest.raises(Forbidden) as info:
        policy.require_permission({"permissions": ["read:login-feed"]})
    assert info.value.status == 403
    assert info.value.error == "insufficient_scope"
    assert info.value.permission == "read:feed"
    assert "read:feed" in info.value.description


def test_pusher_user_id_is_a_reversible_channel_safe_form_of_the_sub() -> None:
    assert pusher_user_id("auth0|64f1a2b3c4") == "auth0=7C64f1a2b3c4"
    assert pusher_user_id("google-oauth2|1234") == "google-oauth2=7C1234"
    assert pusher_user_id("already_safe-id@x.y") == "already_safe-id@x.y"
    assert pusher_user_id("a=b c") == "a=3Db=20c"
    assert pusher_user_id("samlp|é") == "samlp=7C=C3=A9"
    # Distinct subs stay distinct (escaping '=' itself keeps the mapping reversible).
    assert pusher_user_id("a|b") != pusher_user_id("a=7Cb")
