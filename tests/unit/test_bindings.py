"""Bindings per event, per channel and global, and unbinding, as pusher-js offers them."""

from desktop.pusher.bindings import Bindings
from desktop.pusher.core import ChannelEvent


def ev(channel, name):
    return ChannelEvent(channel, name, {}, None, 0.0)


def test_event_channel_and_global_bindings_each_hear_their_share():
    bindings = Bindings()
    heard = []
    bindings.bind("feed", "user-loggedIn", lambda e: heard.append(("event", e.channel, e.event)))
    bindings.bind_channel("feed", lambda e: heard.append(("channel", e.channel, e.event)))
    bindings.bind_global(lambda e: heard.append(("global", e.channel, e.event)))
    bindings.dispatch([ev("feed", "user-loggedIn"), ev("feed", "other"), ev("chat", "user-loggedIn")])
    assert heard == [
        ("global", "feed", "user-loggedIn"), ("channel", "feed", "user-loggedIn"), ("event", "feed", "user-loggedIn"),
        ("global", "feed", "other"), ("channel", "feed", "other"),
        ("global", "chat", "user-loggedIn"),
    ]


def test_unbind_one_callback_all_callbacks_of_an_event_or_everything():
    bindings = Bindings()
    heard = []
    a = lambda e: heard.append("a")  # noqa: E731
    b = lambda e: heard.append("b")  # noqa: E731
    bindings.bind("feed", "x", a)
    bindings.bind("feed", "x", b)
    bindings.bind("feed", "y", a)
    bindings.unbind("feed", "x", a)
    bindings.dispatch([ev("feed", "x"), ev("feed", "y")])
    assert heard == ["b", "a"]
    bindings.unbind("feed", "x")
    heard.clear()
    bindings.dispatch([ev("feed", "x"), ev("feed", "y")])
    assert heard == ["a"]
    bindings.unbind("feed")
    heard.clear()
    bindings.dispatch([ev("feed", "x"), ev("feed", "y")])
    assert heard == []


def test_a_callback_that_raises_does_not_stop_the_others(caplog):
    bindings = Bindings()
    heard = []
    bindings.bind_global(lambda e: 1 / 0)
    bindings.bind_global(lambda e: heard.append(e.event))
    bindings.dispatch([ev("feed", "x")])
    assert heard == ["x"]
    assert "raised" in caplog.text


def test_a_callback_may_unbind_itself_while_dispatching():
    bindings = Bindings()
    heard = []

    def once(e):
        heard.append(e.event)
        bindings.unbind_global(once)

    bindings.bind_global(once)
    bindings.dispatch([ev("feed", "x"), ev("feed", "y")])
    bindings.dispatch([ev("feed", "z")])
    assert heard == ["x", "y"]  # the batch in progress finishes with the callbacks it started with


def test_user_events_are_bound_whatever_the_user_id():
    bindings = Bindings()
    heard = []
    bindings.bind("#user", "notice", lambda e: heard.append(e.channel))
    bindings.dispatch([ev("#server-to-user-auth0-123", "notice")])
    assert heard == ["#server-to-user-auth0-123"]
