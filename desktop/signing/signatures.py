"""Pusher authorization signatures (protocol reference §1.9, §1.10): pure, shared by the local signer and
the reference endpoint.

The signed string and the string sent to the client must be byte-identical, so every JSON blob that is
signed is produced here by :func:`encode_json_compact` and returned alongside its signature.
No message raised from here contains a secret, a master key or a signature.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Mapping

from desktop.signing.names import ChannelKind, channel_kind, validate_channel_name

MASTER_KEY_BYTES = 32
MAX_PRESENCE_USER_ID_CHARS = 128
_SOCKET_ID_RE = re.compile(r"[0-9]+\.[0-9]+")  # explicit ASCII: \d would accept other scripts' digits
_SHOWN_CHARS = 40


def _shown(value: str) -> str:
    return repr(value[:_SHOWN_CHARS]) + ("…" if len(value) > _SHOWN_CHARS else "")


def validate_socket_id(socket_id: str) -> str:
    """Return ``socket_id`` if it looks like ``123.456``; the server would reject anything else anyway."""
    if not isinstance(socket_id, str):
        raise TypeError(f"socket_id must be a string, not {type(socket_id).__name__}")
    if _SOCKET_ID_RE.fullmatch(socket_id) is None:
        raise ValueError(f"socket_id {_shown(socket_id)} is not of the form <digits>.<digits>")
    return socket_id


def _check_credentials(key: str, secret: str) -> None:
    if not isinstance(key, str) or not key or ":" in key:
        raise ValueError("app key must be a non-empty string without ':'")
    if not isinstance(secret, str) or not secret:
        raise ValueError("app secret must be a non-empty string")


def encode_json_compact(obj: object) -> str:
    """JSON without spaces and without ASCII escaping: the exact text that is both signed and sent."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _hex_hmac(secret: str, string_to_sign: str) -> str:
    return hmac.new(secret.encode("utf-8"), string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def channel_string_to_sign(socket_id: str, channel_name: str, channel_data: str | None = None) -> str:
    """``socket_id:channel`` or, for presence, ``socket_id:channel:channel_data``."""
    if channel_data is None:
        return f"{socket_id}:{channel_name}"
    return f"{socket_id}:{channel_name}:{channel_data}"


def user_string_to_sign(socket_id: str, user_data: str) -> str:
    """``socket_id::user::user_data`` for user sign-in."""
    return f"{socket_id}::user::{user_data}"


def sign_channel(key: str, secret: str, socket_id: str, channel_name: str, channel_data: str | None = None) -> str:
    """``"key:hexsig"`` for a channel subscription; ``channel_data`` must be the exact string sent."""
    _check_credentials(key, secret)
    validate_socket_id(socket_id)
    validate_channel_name(channel_name)
    if channel_data is not None and not isinstance(channel_data, str):
        raise TypeError("channel_data must be the JSON string that will be sent (see encode_json_compact)")
    return f"{key}:{_hex_hmac(secret, channel_string_to_sign(socket_id, channel_name, channel_data))}"


def sign_user(key: str, secret: str, socket_id: str, user_data: str) -> str:
    """``"key:hexsig"`` for user sign-in; ``user_data`` must be the exact JSON string sent."""
    _check_credentials(key, secret)
    validate_socket_id(socket_id)
    if not isinstance(user_data, str):
        raise TypeError("user_data must be the JSON string that will be sent (see encode_json_compact)")
    return f"{key}:{_hex_hmac(secret, user_string_to_sign(socket_id, user_data))}"


def decode_master_key(b64: str) -> bytes:
    """Decode the base64 encryption master key, insisting on 32 bytes (the key never appears in errors)."""
    if not isinstance(b64, str):
        raise TypeError("encryption master key must be a base64 string")
    try:
        key = base64.b64decode(b64.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("encryption master key is not valid base64") from None
    if len(key) != MASTER_KEY_BYTES:
        raise ValueError(f"encryption master key must decode to {MASTER_KEY_BYTES} bytes, not {len(key)}")
    return key


def shared_secret(channel_name: str, master_key: bytes) -> bytes:
    """The per-channel NaCl key: sha256(channel name + master key), as pusher-http-python derives it."""
    if not isinstance(master_key, bytes | bytearray) or len(master_key) != MASTER_KEY_BYTES:
        raise ValueError(f"encryption master key must be {MASTER_KEY_BYTES} bytes")
    return hashlib.sha256(channel_name.encode("utf-8") + bytes(master_key)).digest()


def _presence_channel_data(channel_data: Mapping[str, object] | str | None) -> str:
    """Check presence member data and return the string to sign and send."""
    if channel_data is None:
        raise ValueError("presence channels need channel_data with a user_id")
    if isinstance(channel_data, str):
        try:
            decoded = json.loads(channel_data)
        except ValueError:
            raise ValueError("channel_data is not valid JSON") from None
        text = channel_data
    elif isinstance(channel_data, Mapping):
        decoded = channel_data
        text = encode_json_compact(dict(channel_data))
    else:
        raise TypeError("channel_data must be a mapping or a JSON string")
    if not isinstance(decoded, Mapping):
        raise ValueError("channel_data must be a JSON object")
    user_id = decoded.get("user_id")
    if isinstance(user_id, bool) or not isinstance(user_id, str | int):
        raise ValueError("channel_data.user_id must be a string or an integer")
    if isinstance(user_id, str) and not user_id:
        raise ValueError("channel_data.user_id is empty")
    if len(str(user_id)) > MAX_PRESENCE_USER_ID_CHARS:
        raise ValueError(f"channel_data.user_id is longer than {MAX_PRESENCE_USER_ID_CHARS} characters")
    return text


def channel_auth_response(
    key: str,
    secret: str,
    socket_id: str,
    channel_name: str,
    *,
    channel_data: Mapping[str, object] | str | None = None,
    master_key: bytes | None = None,
) -> dict[str, str]:
    """The JSON body an authorization endpoint answers: ``auth`` plus ``channel_data`` (presence) or
    ``shared_secret`` (private-encrypted). A mapping ``channel_data`` is encoded compactly; a string is
    signed and sent verbatim.
    """
    validate_channel_name(channel_name)
    kind = channel_kind(channel_name)
    if kind is ChannelKind.PUBLIC:
        raise ValueError("public channels need no authorization")
    if kind is ChannelKind.ENCRYPTED and master_key is None:
        raise ValueError("private-encrypted channels need an encryption master key")
    data_text: str | None = None
    if kind is ChannelKind.PRESENCE:
        data_text = _presence_channel_data(channel_data)
    elif channel_data is not None:
        raise ValueError("channel_data is only for presence channels")
    response = {"auth": sign_channel(key, secret, socket_id, channel_name, data_text)}
    if data_text is not None:
        response["channel_data"] = data_text
    if kind is ChannelKind.ENCRYPTED and master_key is not None:
        response["shared_secret"] = base64.b64encode(shared_secret(channel_name, master_key)).decode("ascii")
    return response


def user_auth_response(key: str, secret: str, socket_id: str, user_data: Mapping[str, object]) -> dict[str, str]:
    """The JSON body a user sign-in endpoint answers: ``auth`` and the exact ``user_data`` string."""
    if not isinstance(user_data, Mapping):
        raise TypeError("user_data must be a mapping")
    user_id = user_data.get("id")
    if not isinstance(user_id, str) or not user_id:
        raise ValueError("user_data.id must be a non-empty string")
    text = encode_json_compact(dict(user_data))
    return {"auth": sign_user(key, secret, socket_id, text), "user_data": text}


def verify(key: str, secret: str, string_to_sign: str, auth: str) -> bool:
    """Constant-time check of an ``"key:hexsig"`` auth string; False (never an exception) on garbage."""
    if not isinstance(auth, str) or not isinstance(string_to_sign, str):
        return False
    try:
        _check_credentials(key, secret)
        expected = f"{key}:{_hex_hmac(secret, string_to_sign)}".encode()
        given = auth.encode("utf-8")
    except (ValueError, UnicodeEncodeError):
        return False
    return hmac.compare_digest(expected, given)


def verify_channel_auth(
    key: str, secret: str, socket_id: str, channel_name: str, *, auth: str, channel_data: str | None = None
) -> bool:
    """Server side: is ``auth`` the signature for this socket, channel and channel_data string?"""
    if not all(isinstance(v, str) for v in (socket_id, channel_name)):
        return False
    if channel_data is not None and not isinstance(channel_data, str):
        return False
    return verify(key, secret, channel_string_to_sign(socket_id, channel_name, channel_data), auth)


def verify_user_auth(key: str, secret: str, socket_id: str, user_data: str, *, auth: str) -> bool:
    """Server side: is ``auth`` the signature for this socket and user_data string?"""
    if not isinstance(socket_id, str) or not isinstance(user_data, str):
        return False
    return verify(key, secret, user_string_to_sign(socket_id, user_data), auth)
