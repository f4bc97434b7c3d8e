"""Channel names and authorization signatures: the documented vectors, the pusher SDK as reference, bad input."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pusher
import pytest
from pusher.signature import verify as sdk_verify
from pusher.util import channel_name_re as sdk_channel_name_re

from desktop.signing.names import (
    MAX_CHANNEL_NAME_LENGTH,
    ChannelInfo,
    ChannelKind,
    channel_info,
    channel_kind,
    is_internal_channel,
    validate_channel_name,
)
from desktop.signing.signatures import (
    channel_auth_response,
    channel_string_to_sign,
    decode_master_key,
    encode_json_compact,
    shared_secret,
    sign_channel,
    sign_user,
    user_auth_response,
    validate_socket_id,
    verify,
    verify_channel_auth,
    verify_user_auth,
)

# The worked examples of https://pusher.com/docs/channels/library_auth_reference/auth-signatures
KEY = "278d425bdf160c739803"
SECRET = "7ad3773142a6692b25b8"
SOCKET = "1234.1234"
PRIVATE_SIG = "58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4"
USER_SIG = "4708d583dada6a56435fb8bc611c77c359a31eebde13337c16ab43aa6de336ba"
PRESENCE_DATA = {"user_id": 10, "user_info": {"name": "Mr. Channels"}}
# Recomputed for presence-foobar + "Mr. Channels" (the docs' example); see test_docs_presence_hash_is_for_mr_pusher.
PRESENCE_SIG = "31935e7d86dba64c2a90aed31fdc61869f9b22ba9d8863bba239c03ca481bc80"
DOCS_PRESENCE_SIG = "afaed3695da2ffd16931f457e338e6c9f2921fa133ce7dac49f529792be6304c"
MASTER_KEY = bytes(range(32))
MASTER_KEY_B64 = base64.b64encode(MASTER_KEY).decode()


def _hmac(message: str) -> str:
    return hmac.new(SECRET.encode(), message.encode(), hashlib.sha256).hexdigest()


@pytest.fixture
def sdk() -> pusher.Pusher:
    return pusher.Pusher(app_id="1", key=KEY, secret=SECRET, encryption_master_key_base64=MASTER_KEY_B64)


# --- documented vectors ------------------------------------------------------------------------------


def test_private_channel_vector() -> None:
    assert sign_channel(KEY, SECRET, SOCKET, "private-foobar") == f"{KEY}:{PRIVATE_SIG}"
    assert channel_auth_response(KEY, SECRET, SOCKET, "private-foobar") == {"auth": f"{KEY}:{PRIVATE_SIG}"}


def test_user_vector() -> None:
    assert sign_user(KEY, SECRET, SOCKET, '{"id":"12345"}') == f"{KEY}:{USER_SIG}"
    assert user_auth_response(KEY, SECRET, SOCKET, {"id": "12345"}) == {
        "auth": f"{KEY}:{USER_SIG}",
        "user_data": '{"id":"12345"}',
    }


def test_presence_vector_signs_the_compact_string_it_sends() -> None:
    response = channel_auth_response(KEY, SECRET, SOCKET, "presence-foobar", channel_data=PRESENCE_DATA)
    assert response == {
        "auth": f"{KEY}:{PRESENCE_SIG}",
        "channel_data": '{"user_id":10,"user_info":{"name":"Mr. Channels"}}',
    }
    assert _hmac(f"{SOCKET}:presence-foobar:{response['channel_data']}") == PRESENCE_SIG


def test_docs_presence_hash_is_for_mr_pusher() -> None:
    """The docs print afaed3…304c for "Mr. Channels"; it is really the hash for "Mr. Pusher"."""
    data = encode_json_compact({"user_id": 10, "user_info": {"name": "Mr. Pusher"}})
    assert sign_channel(KEY, SECRET, SOCKET, "presence-foobar", data) == f"{KEY}:{DOCS_PRESENCE_SIG}"
    assert PRESENCE_SIG != DOCS_PRESENCE_SIG


# --- the pusher server SDK as reference implementation ---------------------------------------------


def test_private_matches_sdk(sdk: pusher.Pusher) -> None:
    for channel in ("private-foobar", "private-cache-x", "presence-x"):
        expected = sdk.authenticate(channel, SOCKET)["auth"]
        assert sign_channel(KEY, SECRET, SOCKET, channel) == expected


def test_presence_matches_sdk_when_given_its_string(sdk: pusher.Pusher) -> None:
    expected = sdk.authenticate("presence-foobar", SOCKET, PRESENCE_DATA)
    # The SDK's json.dumps puts spaces in; a string channel_data is signed and sent verbatim.
    assert " " in expected["channel_data"]
    ours = channel_auth_response(KEY, SECRET, SOCKET, "presence-foobar", channel_data=expected["channel_data"])
    assert ours == expected


def test_encrypted_matches_sdk(sdk: pusher.Pusher) -> None:
    channel = "private-encrypted-login-feed"
    expected = sdk.authenticate(channel, SOCKET)
    ours = channel_auth_response(KEY, SECRET, SOCKET, channel, master_key=MASTER_KEY)
    assert ours["auth"] == expected["auth"]
    assert ours["shared_secret"] == expected["shared_secret"].decode("ascii")
    assert base64.b64decode(ours["shared_secret"]) == hashlib.sha256(channel.encode() + MASTER_KEY).digest()
    assert set(ours) == {"auth", "shared_secret"}


def test_user_matches_sdk(sdk: pusher.Pusher) -> None:
    user = {"id": "google-oauth2.1234", "user_info": {"name": "Ada Lovelace", "email": "ada@example.com"}}
    expected = sdk.authenticate_user(SOCKET, user)
    assert sign_user(KEY, SECRET, SOCKET, expected["user_data"]) == expected["auth"]
    ours = user_auth_response(KEY, SECRET, SOCKET, user)
    assert json.loads(ours["user_data"]) == user
    signature = ours["auth"].split(":", 1)[1]
    assert sdk_verify(SECRET, f"{SOCKET}::user::{ours['user_data']}", signature)


def test_shared_secret_matches_sdk_crypto() -> None:
    from pusher.crypto import generate_shared_secret, parse_master_key

    assert decode_master_key(MASTER_KEY_B64) == parse_master_key(None, MASTER_KEY_B64)
    for channel in ("private-encrypted-a", "private-encrypted-cache-b"):
        assert shared_secret(channel, MASTER_KEY) == generate_shared_secret(channel.encode(), MASTER_KEY)


# --- JSON and keys -----------------------------------------------------------------------------------


def test_encode_json_compact() -> None:
    assert encode_json_compact({"a": [1, 2], "b": {"c": None}}) == '{"a":[1,2],"b":{"c":null}}'
    assert encode_json_compact({"name": "Zoë 東京"}) == '{"name":"Zoë 東京"}'
    with pytest.raises(ValueError):
        encode_json_compact({"x": float("nan")})


def test_non_ascii_presence_data_round_trips() -> None:
    data = {"user_id": "u1", "user_info": {"name": "Zoë"}}
    response = channel_auth_response(KEY, SECRET, SOCKET, "presence-team", channel_data=data)
    assert response["channel_data"] == '{"user_id":"u1","user_info":{"name":"Zoë"}}'
    assert verify_channel_auth(
        KEY, SECRET, SOCKET, "presence-team", auth=response["auth"], channel_data=response["channel_data"]
    )


def test_decode_master_key_strips_whitespace() -> None:
    assert decode_master_key(f"  {MASTER_KEY_B64}\n") == MASTER_KEY


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (base64.b64encode(b"k" * 31).decode(), "32 bytes, not 31"),
        (base64.b64encode(b"k" * 33).decode(), "32 bytes, not 33"),
        ("", "32 bytes, not 0"),
        ("not base64!!", "not valid base64"),
        ("QUJD=ZZZ", "not valid base64"),
    ],
)
def test_decode_master_key_rejects_bad_keys_without_echoing_them(value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as excinfo:
        decode_master_key(value)
    if value:
        assert value not in str(excinfo.value)
    assert excinfo.value.__cause__ is None


def test_shared_secret_needs_a_32_byte_key() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        shared_secret("private-encrypted-a", b"short")


# --- response rules ---------------------------------------------------------------------------------


def test_public_channel_needs_no_authorization() -> None:
    with pytest.raises(ValueError, match="public"):
        channel_auth_response(KEY, SECRET, SOCKET, "auth0")


def test_encrypted_channel_needs_master_key() -> None:
    with pytest.raises(ValueError, match="master key"):
        channel_auth_response(KEY, SECRET, SOCKET, "private-encrypted-login-feed")


def test_master_key_is_ignored_for_plain_private_channels() -> None:
    response = channel_auth_response(KEY, SECRET, SOCKET, "private-foobar", master_key=MASTER_KEY)
    assert response == {"auth": f"{KEY}:{PRIVATE_SIG}"}


def test_channel_data_only_for_presence() -> None:
    with pytest.raises(ValueError, match="only for presence"):
        channel_auth_response(KEY, SECRET, SOCKET, "private-foobar", channel_data={"user_id": "1"})


@pytest.mark.parametrize(
    ("channel_data", "message"),
    [
        (None, "need channel_data"),
        ("{not json", "not valid JSON"),
        ("[1, 2]", "JSON object"),
        ({}, "user_id"),
        ({"user_id": True}, "user_id"),
        ({"user_id": 1.5}, "user_id"),
        ({"user_id": None}, "user_id"),
        ({"user_id": ""}, "empty"),
        ({"user_id": "x" * 129}, "128"),
    ],
)
def test_bad_presence_channel_data(channel_data: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        channel_auth_response(KEY, SECRET, SOCKET, "presence-team", channel_data=channel_data)  # type: ignore[arg-type]


@pytest.mark.parametrize("user_data", [{}, {"id": ""}, {"id": 12345}, {"id": None}, {"name": "x"}])
def test_user_data_needs_a_string_id(user_data: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"user_data\.id"):
        user_auth_response(KEY, SECRET, SOCKET, user_data)


def test_user_id_with_a_pipe_is_signed() -> None:
    """Auth0 ids look like auth0|abc; Pusher only asks for a non-empty string (the SDK is stricter)."""
    response = user_auth_response(KEY, SECRET, SOCKET, {"id": "auth0|5f2b"})
    assert verify_user_auth(KEY, SECRET, SOCKET, response["user_data"], auth=response["auth"])


def test_string_payloads_must_be_strings() -> None:
    with pytest.raises(TypeError):
        sign_channel(KEY, SECRET, SOCKET, "presence-x", {"user_id": 1})  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        sign_user(KEY, SECRET, SOCKET, {"id": "1"})  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        user_auth_response(KEY, SECRET, SOCKET, '{"id":"1"}')  # type: ignore[arg-type]


@pytest.mark.parametrize(("key", "secret"), [("", SECRET), (KEY, ""), ("a:b", SECRET), (None, SECRET)])
def test_bad_credentials_are_refused_without_echoing_the_secret(key: object, secret: str) -> None:
    with pytest.raises(ValueError) as excinfo:
        sign_channel(key, secret, SOCKET, "private-a")  # type: ignore[arg-type]
    assert SECRET not in str(excinfo.value)


# --- socket ids --------------------------------------------------------------------------------------


@pytest.mark.parametrize("socket_id", ["1234.1234", "0.0", "123456789.987654321"])
def test_good_socket_ids(socket_id: str) -> None:
    assert validate_socket_id(socket_id) == socket_id


@pytest.mark.parametrize(
    "socket_id", ["", "1234", "1234.", ".1234", "a.b", "1.2.3", " 1.2", "1.2 ", "1234.1234\n", "١٢.٣٤", "1:2"]
)
def test_bad_socket_ids(socket_id: str) -> None:
    with pytest.raises(ValueError, match="socket_id"):
        validate_socket_id(socket_id)
    with pytest.raises(ValueError, match="socket_id"):
        sign_channel(KEY, SECRET, socket_id, "private-a")


def test_socket_id_must_be_a_string() -> None:
    with pytest.raises(TypeError):
        validate_socket_id(1234.1234)  # type: ignore[arg-type]


# --- verification ------------------------------------------------------------------------------------


def test_verify_accepts_the_right_signature_only() -> None:
    auth = sign_channel(KEY, SECRET, SOCKET, "private-foobar")
    assert verify_channel_auth(KEY, SECRET, SOCKET, "private-foobar", auth=auth)
    assert verify(KEY, SECRET, channel_string_to_sign(SOCKET, "private-foobar"), auth)
    assert not verify_channel_auth(KEY, SECRET, "1234.1235", "private-foobar", auth=auth)
    assert not verify_channel_auth(KEY, SECRET, SOCKET, "private-foobaz", auth=auth)
    assert not verify_channel_auth(KEY, "other-secret", SOCKET, "private-foobar", auth=auth)
    assert not verify_channel_auth("otherkey", SECRET, SOCKET, "private-foobar", auth=auth)
    assert not verify_channel_auth(KEY, SECRET, SOCKET, "private-foobar", auth=auth, channel_data="{}")


@pytest.mark.parametrize("auth", ["", "garbage", f"{KEY}:", f"{KEY}:zz", "ключ:подпись", "\ud800", None, 42])
def test_verify_returns_false_on_garbage(auth: object) -> None:
    assert not verify_channel_auth(KEY, SECRET, SOCKET, "private-foobar", auth=auth)  # type: ignore[arg-type]
    assert not verify_user_auth(KEY, SECRET, SOCKET, '{"id":"1"}', auth=auth)  # type: ignore[arg-type]


def test_verify_returns_false_on_garbage_input() -> None:
    auth = sign_channel(KEY, SECRET, SOCKET, "private-foobar")
    assert not verify_channel_auth(KEY, SECRET, None, "private-foobar", auth=auth)  # type: ignore[arg-type]
    assert not verify_channel_auth(KEY, SECRET, SOCKET, "private-\ud800", auth=auth)
    assert not verify(KEY, "", "x", auth)


# --- channel names -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kind", "is_cache"),
    [
        ("auth0", ChannelKind.PUBLIC, False),
        ("cache-auth0", ChannelKind.PUBLIC, True),
        ("private-login-feed", ChannelKind.PRIVATE, False),
        ("private-cache-login-feed", ChannelKind.PRIVATE, True),
        ("private-encrypted-login-feed", ChannelKind.ENCRYPTED, False),
        ("private-encrypted-cache-login-feed", ChannelKind.ENCRYPTED, True),
        ("presence-support", ChannelKind.PRESENCE, False),
        ("presence-cache-support", ChannelKind.PRESENCE, True),
        ("privateish", ChannelKind.PUBLIC, False),
        ("private-encryptedx", ChannelKind.PRIVATE, False),
        ("public-cache-x", ChannelKind.PUBLIC, False),
        ("#server-to-user-42", ChannelKind.PUBLIC, False),
    ],
)
def test_channel_kinds(name: str, kind: ChannelKind, is_cache: bool) -> None:
    assert channel_info(name) == ChannelInfo(kind, is_cache)
    assert channel_kind(name) is kind


def test_kind_properties() -> None:
    assert [k for k in ChannelKind if k.requires_auth] == [
        ChannelKind.PRIVATE,
        ChannelKind.PRESENCE,
        ChannelKind.ENCRYPTED,
    ]
    assert [k for k in ChannelKind if k.allows_client_events] == [ChannelKind.PRIVATE, ChannelKind.PRESENCE]
    assert ChannelKind.ENCRYPTED == "encrypted"


@pytest.mark.parametrize(
    "name",
    ["auth0", "private-login-feed", "presence-support", "a", "-_=@,.;", "x" * MAX_CHANNEL_NAME_LENGTH],
)
def test_valid_channel_names(name: str) -> None:
    assert validate_channel_name(name) == name
    assert sdk_channel_name_re.match(name)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "empty"),
        ("x" * (MAX_CHANNEL_NAME_LENGTH + 1), "165 characters long; the limit is 164"),
        ("private login", "may only contain"),
        ("private-a/b", "may only contain"),
        ("private-é", "may only contain"),
        ("private-a\n", "may only contain"),
        ("private-a|b", "may only contain"),
        ("#feed", "reserved"),
        ("#server-to-user-42", "internal"),
    ],
)
def test_invalid_channel_names(name: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate_channel_name(name)
    with pytest.raises(ValueError):
        sign_channel(KEY, SECRET, SOCKET, name)


def test_server_to_user_channel_is_internal() -> None:
    assert is_internal_channel("#server-to-user-42")
    assert validate_channel_name("#server-to-user-42", allow_internal=True) == "#server-to-user-42"
    with pytest.raises(ValueError, match="no user id"):
        validate_channel_name("#server-to-user-", allow_internal=True)
    with pytest.raises(ValueError, match="may only contain"):
        validate_channel_name("#server-to-user-auth0|42", allow_internal=True)
    with pytest.raises(ValueError, match="reserved"):
        validate_channel_name("#other", allow_internal=True)


def test_channel_name_errors_are_bounded() -> None:
    with pytest.raises(ValueError) as excinfo:
        validate_channel_name("é" * 10_000)
    assert len(str(excinfo.value)) < 300


def test_channel_name_must_be_a_string() -> None:
    with pytest.raises(TypeError):
        validate_channel_name(None)  # type: ignore[arg-type]
