"""The buffered frame reader: any split of the byte stream yields the same messages."""

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from desktop.pusher.wsframes import (
    OP_BINARY,
    OP_CLOSE,
    OP_CONTINUATION,
    OP_PING,
    OP_TEXT,
    FrameError,
    FrameReader,
    close_code,
)


def frame(opcode: int, payload: bytes, fin: bool = True) -> bytes:
    head = bytes([(0x80 if fin else 0) | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([n])
    elif n < 65536:
        head += bytes([126]) + n.to_bytes(2, "big")
    else:
        head += bytes([127]) + n.to_bytes(8, "big")
    return head + payload


def test_many_frames_in_one_chunk():
    data = b"".join(frame(OP_TEXT, f"m{i}".encode()) for i in range(100))
    assert [p for _, p in FrameReader(1 << 20).feed(data)] == [f"m{i}".encode() for i in range(100)]


def test_lengths_of_every_header_size():
    sizes = [0, 125, 126, 65535, 65536, 200000]
    data = b"".join(frame(OP_TEXT, b"x" * n) for n in sizes)
    assert [len(p) for _, p in FrameReader(1 << 20).feed(data)] == sizes


def test_fragmented_message_is_reassembled_around_a_ping():
    data = frame(OP_TEXT, b"hel", fin=False) + frame(OP_PING, b"p") + frame(OP_CONTINUATION, b"lo")
    assert FrameReader(1 << 20).feed(data) == [(OP_PING, b"p"), (OP_TEXT, b"hello")]


def test_oversized_message_is_skipped_and_the_stream_goes_on():
    reader = FrameReader(1000)
    data = frame(OP_TEXT, b"a") + frame(OP_TEXT, b"x" * 5000) + frame(OP_TEXT, b"b")
    out = []
    for i in range(0, len(data), 700):  # arrives in pieces, the big one spanning several
        out += reader.feed(data[i:i + 700])
    assert out == [(OP_TEXT, b"a"), (OP_BINARY, None), (OP_TEXT, b"b")]


def test_oversized_fragmented_message_is_skipped_whole():
    reader = FrameReader(1000)
    data = (frame(OP_TEXT, b"x" * 600, fin=False) + frame(OP_CONTINUATION, b"y" * 600, fin=False)
            + frame(OP_CONTINUATION, b"z" * 10) + frame(OP_TEXT, b"ok"))
    assert reader.feed(data) == [(OP_BINARY, None), (OP_TEXT, b"ok")]


@pytest.mark.parametrize("bad", [
    bytes([0x81, 0x81, 0, 0, 0, 0, 0x41]),      # masked server frame
    bytes([0xC1, 0x01, 0x41]),                  # RSV1 without an extension
    bytes([0x83, 0x00]),                        # unknown opcode
    bytes([0x09, 0x00]),                        # fragmented ping
    bytes([0x80, 0x01, 0x41]),                  # continuation of nothing
])
def test_broken_framing_is_an_error(bad):
    with pytest.raises(FrameError):
        FrameReader(1 << 20).feed(bad)


def test_close_code_and_reason():
    assert close_code((4001).to_bytes(2, "big") + b"App key missing") == (4001, "App key missing")
    assert close_code(b"") == (None, "")


messages = st.lists(st.tuples(st.sampled_from([OP_TEXT, OP_PING, OP_CLOSE]), st.binary(max_size=300)),
                    max_size=30)


@given(messages, st.lists(st.integers(min_value=1, max_value=400), max_size=50))
def test_any_split_of_the_stream_gives_the_same_messages(msgs, cuts):
    msgs = [(op, p[:125] if op != OP_TEXT else p) for op, p in msgs]
    data = b"".join(frame(op, p) for op, p in msgs)
    reader = FrameReader(1 << 20)
    out, pos = [], 0
    for cut in cuts:
        out += reader.feed(data[pos:pos + cut])
        pos += cut
    out += reader.feed(data[pos:])
    assert out == msgs


@given(st.binary(max_size=500))
def test_garbage_only_ever_raises_frame_error(data):
    with contextlib.suppress(FrameError):
        FrameReader(1000).feed(data)
