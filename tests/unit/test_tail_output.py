"""What `tail` prints for odd payloads: always one valid JSON object per line, nothing lost."""

import io
import json

from desktop.pusher.core import ChannelEvent
from desktop.tail import _json_writer, _text_writer


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
    out = Stdout()
    write = _json_writer(out)
    write(event({"v": 1, "type": "login", "user_id": "u1", "email": "a@b.c", "name": "Zoë", "score": float("nan")}))
    write(event({"v": 1, "type": "login", "user_id": "u2", "name": "bad \ud800 surrogate"}))
    write(event({"v": 1, "type": "signup", "user_id": "u3", "big": 10**30}))
    write(event("just text", name="something-else"))
    lines = [json.loads(line) for line in out.lines()]
    assert [line["user_id"] for line in lines] == ["u1", "u2", "u3", None]
    assert lines[0]["name"] == "Zoë"
    assert lines[0]["data"]["score"] is None
    assert "surrogate" in lines[1]["data"]["name"]
    assert lines[2]["data"]["big"] == 10**30
    assert lines[3]["type"] == "unrecognised"
    assert lines[3]["data"] == "just text"
    assert lines[0]["received_at"] == "2026-11-21T05:07:32.250Z"


def test_markup_is_kept_literally_and_text_lines_stay_one_line():
    out = Stdout()
    payload = {"v": 1, "type": "signup", "user_id": "u1", "email": "x@y.z", "name": "<img src=x>\nsecond line"}
    _json_writer(out)(event(payload))
    _text_writer(out)(event(payload))
    json_line, text_line = out.lines()
    assert json.loads(json_line)["data"]["name"] == "<img src=x>\nsecond line"
    assert "<img src=x>" in text_line
    assert "second line" in text_line


def test_a_refused_subscription_is_told_as_the_engine_describes_it_never_as_http_4009(capsys):
    import queue

    from desktop.pusher.channels import AuthFailure
    from desktop.signing.names import ChannelKind
    from desktop.tail import _pump

    refusal = AuthFailure("The connection is unauthorized.", code=4009, kind="ServerRefused").as_event()
    inbox = queue.SimpleQueue()
    inbox.put([ChannelEvent("private-login-feed", "pusher:subscription_error", refusal, None, 0.0)])
    assert _pump(inbox, "private-login-feed", ChannelKind.PRIVATE, _text_writer(Stdout()), Stdout()) == 1
    err = capsys.readouterr().err
    assert "code 4009" in err
    assert "HTTP" not in err
