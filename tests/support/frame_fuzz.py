"""A seeded mutator of server-to-client Pusher traffic: valid messages bent at the JSON, byte and frame level.

Used by the fault suite to push many frames through the frame reader, the codec and the core. Seeded, so a
failure is reproducible; no time limit, only a count.
"""

from __future__ import annotations

import base64
import json
import random
from typing import Any

from desktop.pusher.wsframes import OP_CLOSE, OP_CONTINUATION, OP_PING, OP_TEXT

CHANNELS = ("feed", "presence-team", "private-encrypted-x", "#server-to-user-u1", "unknown")


def _b64(rng: random.Random, size: int) -> str:
    return base64.b64encode(rng.randbytes(size)).decode()


def valid_message(rng: random.Random) -> dict[str, Any]:
    """One message a Pusher server could send, of a random kind."""
    channel = rng.choice(CHANNELS)
    kind = rng.randrange(12)
    if kind == 0:
        return {"event": "pusher:connection_established",
                "data": json.dumps({"socket_id": f"{rng.randrange(10**6)}.{rng.randrange(10**6)}",
                                    "activity_timeout": rng.choice([30, 120, 0, -1])})}
    if kind == 1:
        return {"event": "pusher:error", "data": {"code": rng.choice([None, 4009, 4200, 4301]), "message": "x"}}
    if kind == 2:
        ids = [str(i) for i in range(rng.randrange(4))]
        return {"event": "pusher_internal:subscription_succeeded", "channel": channel,
                "data": json.dumps({"presence": {"ids": ids, "hash": {i: {"name": i} for i in ids},
                                                 "count": len(ids)}})}
    if kind == 3:
        return {"event": rng.choice(["pusher_internal:member_added", "pusher_internal:member_removed"]),
                "channel": channel, "data": json.dumps({"user_id": str(rng.randrange(5)), "user_info": {}})}
    if kind == 4:
        return {"event": "user-loggedIn", "channel": channel,
                "data": json.dumps({"nonce": _b64(rng, 24), "ciphertext": _b64(rng, rng.randrange(16, 64))})}
    if kind == 5:
        return {"event": "pusher:signin_success", "data": {"user_data": json.dumps({"id": "u1"})}}
    if kind == 6:
        return {"event": "pusher_internal:watchlist_events",
                "data": {"events": [{"name": "online", "user_ids": ["a"]}]}}
    if kind == 7:
        return {"event": "pusher:subscription_error", "channel": channel,
                "data": {"type": "AuthError", "error": "no", "status": rng.choice([401, 4009, None])}}
    if kind == 8:
        return {"event": "pusher_internal:subscription_count", "channel": channel,
                "data": json.dumps({"subscription_count": rng.randrange(100)})}
    if kind == 9:
        return {"event": rng.choice(["pusher:ping", "pusher:pong", "pusher:cache_miss"]), "channel": channel}
    if kind == 10:
        return {"event": "client-typing", "channel": channel, "data": "{}", "user_id": rng.randrange(9)}
    return {"event": "user-loggedIn", "channel": channel,
            "data": rng.choice(['{"v":1,"type":"login","user_id":"u1"}', " [1,2]", "plain", "", "\ud800"])}


def _odd_value(rng: random.Random) -> Any:
    return rng.choice([None, True, 0, -1, 10**30, 1.5, "", "x" * rng.randrange(300), "\ud800", [], {},
                       [[[[[]]]]], {"a": {"b": None}}, "{\"nested\": \"json\"}", " {\"ws\": 1}"])


def mutate_message(rng: random.Random, message: dict[str, Any]) -> dict[str, Any]:
    """Swap a value for one of another type, drop or add a key: still JSON, no longer what was meant."""
    message = dict(message)
    choice = rng.randrange(4)
    keys = list(message)
    if choice == 0 and keys:
        message[rng.choice(keys)] = _odd_value(rng)
    elif choice == 1 and keys:
        del message[rng.choice(keys)]
    elif choice == 2:
        message[rng.choice(["data", "channel", "user_id", "extra"])] = _odd_value(rng)
    elif isinstance(message.get("data"), str):
        try:
            inner = json.loads(message["data"])
        except ValueError:
            inner = None
        if isinstance(inner, dict) and inner:
            inner[rng.choice(list(inner))] = _odd_value(rng)
            message["data"] = json.dumps(inner)
    return message


def mutate_bytes(rng: random.Random, raw: bytes) -> bytes:
    """Flip, cut, insert or repeat bytes."""
    data = bytearray(raw)
    for _ in range(rng.randrange(1, 4)):
        choice = rng.randrange(4)
        if not data:
            data += rng.randbytes(rng.randrange(1, 8))
        position = rng.randrange(len(data))
        if choice == 0:
            data[position] ^= 1 << rng.randrange(8)
        elif choice == 1:
            del data[position:position + rng.randrange(1, 8)]
        elif choice == 2:
            data[position:position] = rng.randbytes(rng.randrange(1, 8))
        else:
            data[position:position] = data[position:position + rng.randrange(1, 16)]
    return bytes(data)


def frame(opcode: int, payload: bytes, *, fin: bool = True) -> bytes:
    """One unmasked server frame with the shortest length encoding."""
    head = bytes([(0x80 if fin else 0) | opcode])
    size = len(payload)
    if size < 126:
        return head + bytes([size]) + payload
    if size < 1 << 16:
        return head + bytes([126]) + size.to_bytes(2, "big") + payload
    return head + bytes([127]) + size.to_bytes(8, "big") + payload


def text_frames(rng: random.Random, payload: bytes) -> bytes:
    """A text message as one frame, or fragmented with a ping in between (both valid)."""
    if len(payload) < 4 or rng.random() < 0.7:
        return frame(OP_TEXT, payload)
    cut = rng.randrange(1, len(payload))
    return (frame(OP_TEXT, payload[:cut], fin=False) + frame(OP_PING, b"hi")
            + frame(OP_CONTINUATION, payload[cut:]))


def fuzzed_stream(rng: random.Random, count: int) -> tuple[bytes, list[bytes] | None]:
    """``count`` messages as one byte stream; the payloads a correct reader returns, or None if framing broke."""
    chunks: list[bytes] = []
    payloads: list[bytes] | None = []
    for _ in range(count):
        message = valid_message(rng)
        if rng.random() < 0.5:
            message = mutate_message(rng, message)
        payload = json.dumps(message).encode("utf-8", "surrogatepass")
        if rng.random() < 0.2:
            payload = mutate_bytes(rng, payload)
        wire = text_frames(rng, payload)
        if payloads is not None:
            payloads.append(payload)
        if rng.random() < 0.02:
            wire = mutate_bytes(rng, wire)  # the framing itself is broken: anything may come out, or an error
            payloads = None
        chunks.append(wire)
    if rng.random() < 0.1:
        chunks.append(frame(OP_CLOSE, (4200).to_bytes(2, "big") + b"bye"))
    return b"".join(chunks), payloads


def split(rng: random.Random, data: bytes) -> list[bytes]:
    """Cut ``data`` where a socket read might: anywhere, often mid-header."""
    pieces = []
    position = 0
    while position < len(data):
        size = rng.choice([1, 2, 3, 7, 64, 1000, 65536])
        pieces.append(data[position:position + size])
        position += size
    return pieces
