"""A buffered reader of server-to-client websocket frames (RFC 6455), pure and incremental.

websocket-client reads each frame with two or three small ``recv`` calls and parses headers in Python,
which caps a reader near 15k frames/s. We let websocket-client do the handshake, TLS and sending, and
read the stream ourselves: one large ``recv`` yields many frames, parsed from one buffer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from desktop.pusher.errors import PusherError

OP_CONTINUATION = 0x0
OP_TEXT = 0x1
OP_BINARY = 0x2
OP_CLOSE = 0x8
OP_PING = 0x9
OP_PONG = 0xA

_CONTROL = (OP_CLOSE, OP_PING, OP_PONG)


class FrameError(PusherError, ValueError):
    """The byte stream broke the websocket framing rules; the connection must be dropped."""


@dataclass(slots=True)
class FrameReader:
    """Feed it bytes, get back complete messages as ``(opcode, payload)``.

    Text and binary messages are reassembled from fragments; control frames are returned as they come.
    ``max_message`` caps a message's size: larger ones are skipped (reported as ``OP_BINARY`` with
    ``None`` payload) without buffering them whole.
    """

    max_message: int
    _buffer: bytearray = field(default_factory=bytearray)
    _fragments: list[bytes] = field(default_factory=list)
    _fragment_opcode: int = 0
    _fragment_size: int = 0
    _skip_remaining: int = 0
    _skipping_message: bool = False

    def feed(self, data: bytes) -> list[tuple[int, bytes | None]]:
        """Consume ``data`` and return every message it completes, in order."""
        buffer = self._buffer
        if self._skip_remaining:
            skipped = min(self._skip_remaining, len(data))
            self._skip_remaining -= skipped
            data = data[skipped:]
        if buffer:
            buffer += data
            view = bytes(buffer)
        else:
            view = data
        messages: list[tuple[int, bytes | None]] = []
        pos = self._parse(view, messages)
        if pos < len(view):
            self._buffer = bytearray(view[pos:])
        else:
            self._buffer = bytearray()
        return messages

    def _parse(self, view: bytes, out: list[tuple[int, bytes | None]]) -> int:
        pos = 0
        end = len(view)
        while end - pos >= 2:
            b0 = view[pos]
            b1 = view[pos + 1]
            if b1 & 0x80:
                raise FrameError("server frames must not be masked")
            if b0 & 0x70:
                raise FrameError("reserved bits set without a negotiated extension")
            opcode = b0 & 0x0F
            length = b1 & 0x7F
            header = 2
            if length == 126:
                if end - pos < 4:
                    break
                length = int.from_bytes(view[pos + 2:pos + 4], "big")
                header = 4
            elif length == 127:
                if end - pos < 10:
                    break
                length = int.from_bytes(view[pos + 2:pos + 10], "big")
                header = 10
            fin = b0 & 0x80
            if opcode in _CONTROL:
                if length > 125 or not fin:
                    raise FrameError("control frames must be short and unfragmented")
            elif opcode not in (OP_CONTINUATION, OP_TEXT, OP_BINARY):
                raise FrameError(f"unknown opcode {opcode}")
            start = pos + header
            if self._too_big(opcode, length):
                # Skip the payload without holding it: drop what we have, remember what is still to come.
                available = end - start
                if available < length:
                    self._skip_remaining = length - available
                    self._begin_skip(opcode, fin, out)
                    return end
                self._begin_skip(opcode, fin, out)
                pos = start + length
                continue
            if end - start < length:
                break
            payload = view[start:start + length]
            pos = start + length
            self._complete(opcode, bool(fin), payload, out)
        return pos

    def _too_big(self, opcode: int, length: int) -> bool:
        if opcode in _CONTROL:
            return False
        if opcode == OP_CONTINUATION:
            return self._skipping_message or self._fragment_size + length > self.max_message
        return length > self.max_message

    def _begin_skip(self, opcode: int, fin: int, out: list[tuple[int, bytes | None]]) -> None:
        if not self._skipping_message:
            out.append((OP_BINARY, None))
        self._fragments.clear()
        self._fragment_size = 0
        self._fragment_opcode = 0
        self._skipping_message = not fin

    def _complete(self, opcode: int, fin: bool, payload: bytes, out: list[tuple[int, bytes | None]]) -> None:
        if opcode in _CONTROL:
            out.append((opcode, payload))
            return
        if opcode == OP_CONTINUATION:
            if self._skipping_message:
                self._skipping_message = not fin
                return
            if not self._fragments and not self._fragment_opcode:
                raise FrameError("continuation frame without a message to continue")
            self._fragments.append(payload)
            self._fragment_size += len(payload)
            if fin:
                out.append((self._fragment_opcode, b"".join(self._fragments)))
                self._fragments.clear()
                self._fragment_size = 0
                self._fragment_opcode = 0
            return
        if self._fragment_opcode or self._skipping_message:
            raise FrameError("new message started before the previous one finished")
        if fin:
            out.append((opcode, payload))
        else:
            self._fragment_opcode = opcode
            self._fragments.append(payload)
            self._fragment_size = len(payload)


def close_code(payload: bytes) -> tuple[int | None, str]:
    """Split a close frame's payload into its status code and reason text."""
    if len(payload) < 2:
        return None, ""
    return int.from_bytes(payload[:2], "big"), payload[2:].decode("utf-8", "replace")
