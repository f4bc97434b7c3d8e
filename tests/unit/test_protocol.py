"""The protocol codec: tolerant decoding, the URL, and what each close code asks of us."""

import contextlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from desktop.pusher import protocol
from desktop.pusher.protocol import CloseAction, ProtocolError, close_action, decode_frame


def test_double_encoded_data_is_decoded():
    frame = decode_frame(b'{"event":"pusher:connection_established","data":"{\\"socket_id\\":\\"1.2\\",'
                         b'\\"activity_timeout\\":120}"}')
    assert frame.event == "pusher:connection_established"
    assert frame.data == {"socket_id": "1.2", "activity_timeout": 120}


def test_object_data_and_absent_data_are_accepted_as_soketi_sends_them():
    assert decode_frame('{"event":"pusher:error","data":{"code":4001,"message":"x"}}').data["code"] == 4001
    frame = decode_frame('{"event":"pusher_internal:subscription_succeeded","channel":"c"}')
    assert frame.data is None
    assert frame.channel == "c"


def test_plain_string_data_stays_a_string():
    assert decode_frame('{"event":"e","channel":"c","data":"hello there"}').data == "hello there"
    assert decode_frame('{"event":"e","channel":"c","data":"{not json"}').data == "{not json"


@pytest.mark.parametrize(("data", "expected"), [
    (' {"a": 1}', {"a": 1}), ('\n\t[1, 2]', [1, 2]), ("\r\n 42", 42), ("  true", True),
    ("  plain words", "  plain words"), ("   ", "   "), (" {broken", " {broken"),
])
def test_json_text_with_leading_whitespace_is_decoded_as_json_parse_does(data, expected):
    assert decode_frame(json.dumps({"event": "e", "channel": "c", "data": data})).data == expected


def test_presence_client_event_keeps_the_senders_user_id():
    assert decode_frame('{"event":"client-x","channel":"presence-a","data":"{}","user_id":"u7"}').user_id == "u7"
    assert decode_frame('{"event":"client-x","channel":"presence-a","data":"{}","user_id":42}').user_id == "42"


@pytest.mark.parametrize("raw", [b"", b"not json", b"[]", b'"x"', b"{}", b'{"event":""}', b'{"event":5}',
                                 b'{"event":"e","channel":7}', b"\xff\xfe", b"[" * 100000])
def test_malformed_frames_raise_protocol_error(raw):
    with pytest.raises(ProtocolError):
        decode_frame(raw)


def test_oversized_frames_are_refused_before_parsing():
    raw = json.dumps({"event": "e", "data": "x" * protocol.MAX_FRAME_BYTES})
    with pytest.raises(ProtocolError, match="cap"):
        decode_frame(raw)


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
                           lambda children: st.lists(children, max_size=4)
                           | st.dictionaries(st.text(max_size=8), children, max_size=4), max_leaves=20)


@given(st.binary(max_size=300))
def test_decoder_never_raises_anything_but_protocol_error_on_bytes(raw):
    with contextlib.suppress(ProtocolError):
        decode_frame(raw)


@given(st.dictionaries(st.sampled_from(["event", "channel", "data", "user_id", "x"]), json_values, max_size=5))
def test_decoder_never_raises_anything_but_protocol_error_on_json(message):
    try:
        frame = decode_frame(json.dumps(message))
    except ProtocolError:
        return
    assert isinstance(frame.event, str)
    assert frame.event


def test_encode_is_compact_json_with_objects_for_pusher_events():
    text = protocol.encode("pusher:subscribe", {"channel": "private-a", "auth": "k:s"})
    assert text == '{"event":"pusher:subscribe","data":{"channel":"private-a","auth":"k:s"}}'
    assert json.loads(protocol.encode("client-x", "hi", "private-a")) == {
        "event": "client-x", "data": "hi", "channel": "private-a"}


def test_url_is_built_as_pusher_js_builds_it():
    url = protocol.build_url("wss://ws-eu.pusher.com:443", "KEY", "1.2.3")
    assert url == "wss://ws-eu.pusher.com:443/app/KEY?protocol=7&client=python-login-feed&version=1.2.3&flash=false"


@pytest.mark.parametrize(("code", "action"), [
    (4000, CloseAction.TLS_ONLY), (4001, CloseAction.REFUSED), (4009, CloseAction.REFUSED),
    (4099, CloseAction.REFUSED), (4100, CloseAction.BACKOFF), (4199, CloseAction.BACKOFF),
    (4200, CloseAction.RETRY), (4201, CloseAction.RETRY), (4299, CloseAction.RETRY),
    (4301, CloseAction.REFUSED), (1006, CloseAction.BACKOFF), (1002, CloseAction.BACKOFF),
    (None, CloseAction.BACKOFF),
])
def test_close_codes_map_to_protocol_7_actions(code, action):
    assert close_action(code) is action


def test_close_descriptions_say_what_happened():
    assert protocol.describe_close(4001, "App key x not in this cluster") == (
        "code 4001: the app does not exist (unknown app key): App key x not in this cluster")
    assert "over capacity" in protocol.describe_close(4100)
    assert protocol.describe_close(1006, "connection lost: [Errno 104] reset") == "connection lost: [Errno 104] reset"


def test_big_integers_lone_surrogates_and_nan_arrive_exactly():
    frame = decode_frame(b'{"event":"e","channel":"c","data":"{\\"big\\":123456789012345678901234567890,'
                         b'\\"odd\\":\\"\\\\ud800\\",\\"n\\":NaN}"}')
    assert frame.data["big"] == 123456789012345678901234567890
    assert frame.data["odd"] == "\ud800"
    assert frame.data["n"] != frame.data["n"]  # NaN, as sent


def test_integers_at_the_edges_of_64_bits_stay_exact():
    for value in (18446744073709551615, 18446744073709551616, -9223372036854775808, -9223372036854775809,
                  1795237652249004600):
        assert decode_frame(f'{{"event":"e","data":{{"v":{value}}}}}'.encode()).data["v"] == value
