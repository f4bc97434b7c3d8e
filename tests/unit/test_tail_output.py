"""What `tail` prints for odd payloads: always one valid JSON object per line, nothing lost."""

import io
import json
import queue
import threading

import pytest

from desktop.pusher.core import ChannelEvent
from desktop.tail import _json_encoder, _text_encoder


class Stdout(io.TextIOWrapper):
    """A text stream with a byte buffer underneath, like sys.stdout."""

    def __init__(self):
        super().__init__(io.BytesIO(), encoding="utf-8")

    def lines(self):
        self.flush()
        return self.buffer.getvalue().decode("utf-8").splitlines()


def event(data, name="user-loggedIn"):
    return ChannelEvent("private-login-feed", name, data, None, 1795237652.25)


def test_every_line_is_valid_json_even_for_nan_surrogates_and_huge_numbers():
    encode = _json_encoder()
    output = b"".join([
        encode(event({"v": 1, "type": "login", "user_id": "u1", "email": "a@b.c", "name": "Zoë",
                      "score": float("nan")})),
        encode(event({"v": 1, "type": "login", "user_id": "u2", "name": "bad \ud800 surrogate"})),
        encode(event({"v": 1, "type": "signup", "user_id": "u3", "big": 10**30})),
        encode(event("just text", name="something-else")),
    ])
    lines = [json.loads(line) for line in output.decode("utf-8").splitlines()]
    assert [line["user_id"] for line in lines] == ["u1", "u2", "u3", None]
    assert lines[0]["name"] == "Zoë"
    assert lines[0]["data"]["score"] is None
    assert "surrogate" in lines[1]["data"]["name"]
    assert lines[2]["data"]["big"] == 10**30
    assert lines[3]["type"] == "unrecognised"
    assert lines[3]["data"] == "just text"
    assert lines[0]["received_at"] == "2026-11-21T05:07:32.250Z"


def test_markup_is_kept_literally_and_text_lines_stay_one_line():
    payload = {"v": 1, "type": "signup", "user_id": "u1", "email": "x@y.z", "name": "<img src=x>\nsecond line"}
    output = _json_encoder()(event(payload)) + _text_encoder()(event(payload))
    json_line, text_line = output.decode("utf-8").splitlines()
    assert json.loads(json_line)["data"]["name"] == "<img src=x>\nsecond line"
    assert "<img src=x>" in text_line
    assert "second line" in text_line


def test_a_refused_subscription_is_told_as_the_engine_describes_it_never_as_http_4009(capsys):
    import queue

    from desktop.pusher.channels import AuthFailure
    from desktop.signing.names import ChannelKind
    from desktop.tail import _pump, render

    refusal = AuthFailure("The connection is unauthorized.", code=4009, kind="ServerRefused").as_event()
    inbox = queue.SimpleQueue()
    inbox.put(render([ChannelEvent("private-login-feed", "pusher:subscription_error", refusal, None, 0.0)],
                     _text_encoder()))
    assert _pump(inbox, "private-login-feed", ChannelKind.PRIVATE, Stdout()) == 1
    err = capsys.readouterr().err
    assert "code 4009" in err
    assert "HTTP" not in err


class RecordingFile(io.RawIOBase):
    """A file descriptor's stand-in that keeps the bytes of each ``write`` call (one system call each)."""

    def __init__(self):
        super().__init__()
        self.writes: list[bytes] = []
        self.wrote = threading.Condition()

    def writable(self):
        return True

    def write(self, data):
        with self.wrote:
            self.writes.append(bytes(data))
            self.wrote.notify_all()
        return len(data)

    def wait_for_writes(self, count):
        with self.wrote:
            assert self.wrote.wait_for(lambda: len(self.writes) >= count, timeout=30), self.writes
        return list(self.writes)


def unbuffered_stdout(raw):
    return io.TextIOWrapper(raw, encoding="utf-8", write_through=True)  # sys.stdout under PYTHONUNBUFFERED=1


def buffered_stdout(raw):
    return io.TextIOWrapper(io.BufferedWriter(raw, buffer_size=1 << 20), encoding="utf-8")  # a pipe's default


@pytest.mark.parametrize("make_stdout", [unbuffered_stdout, buffered_stdout])
def test_each_batch_is_one_write_flushed_before_the_next_batch_arrives(make_stdout):
    from desktop.signing.names import ChannelKind
    from desktop.tail import _pump, _Stop, render

    raw = RecordingFile()
    inbox = queue.SimpleQueue()
    code = []
    pump = threading.Thread(
        target=lambda: code.append(_pump(inbox, "private-login-feed", ChannelKind.PRIVATE, make_stdout(raw))))
    pump.start()
    try:
        login = {"v": 1, "type": "login", "email": "a@b.c"}
        inbox.put(render([event({**login, "user_id": f"u{i}"}) for i in range(50)], _json_encoder()))
        first = raw.wait_for_writes(1)  # nothing else is coming: the batch must be out without waiting for more
        assert len(first) == 1
        assert [json.loads(line)["user_id"] for line in first[0].splitlines()] == [f"u{i}" for i in range(50)]

        inbox.put(render([event({**login, "user_id": "u50"}), event({**login, "user_id": "u51"})], _json_encoder()))
        second = raw.wait_for_writes(2)
        assert len(second) == 2
        assert [json.loads(line)["user_id"] for line in second[1].splitlines()] == ["u50", "u51"]
    finally:
        inbox.put(_Stop(0))
        pump.join(30)
    assert code == [0]
    assert len(raw.writes) == 2
