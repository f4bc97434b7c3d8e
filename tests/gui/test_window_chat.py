"""The window's team chat and a second client (Bob) through a real soketi, in both send modes; who is online;
the unread count while the chat dock is hidden.

The window is the whole ``LoginFeedApp`` (local signing, no Auth0 sign-in); Bob is a plain ``PusherClient``
signing as ``bob``. Messages are typed into the chat input and sent with Enter, as a person would.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from PySide6.QtCore import Qt
from support.chat_endpoint import ChatEndpoint
from support.engine import new_client
from support.recording import EventRecorder
from support.soketi import APP_KEY, APP_SECRET, Soketi
from support.window_app import WAIT_MS, AppFactory, soketi_config, subscribed, wait_connected

from desktop.app import LoginFeedApp
from desktop.chat.messages import ChatMessage
from desktop.pusher.auth import LocalAuthorizer
from desktop.pusher.client import PusherClient

pytestmark = pytest.mark.integration

CHAT = "private-chat"
PRESENCE = "presence-support"
BOB = {"id": "bob", "user_info": {"name": "Bob"}}



class Bob:
    """The second client: on the chat and presence channels, recording everything it receives."""

    def __init__(self, soketi: Soketi) -> None:
        self.client: PusherClient = new_client(soketi, authorizer=LocalAuthorizer(APP_KEY, APP_SECRET, user=BOB))
        self.events = EventRecorder()
        self.client.bind_global(self.events)
        self.chat = self.client.subscribe(CHAT)
        self.presence = self.client.subscribe(PRESENCE)
        self.client.connect()

    def received(self, event: str) -> list[Any]:
        return [e.data for e in self.events.named(event, CHAT)]

    def say(self, text: str) -> None:
        self.chat.trigger("client-message-added", {"message": text, "name": "Bob"}).result(5)


@pytest.fixture
def bob(qtbot, soketi: Soketi) -> Iterator[Bob]:
    other = Bob(soketi)
    try:
        qtbot.waitUntil(lambda: other.chat.subscribed and other.presence.subscribed, timeout=WAIT_MS)
        yield other
    finally:
        other.client.close()


def open_window(qtbot, make_app: AppFactory, soketi: Soketi, tmp_path: Path, **chat: Any) -> LoginFeedApp:
    app = make_app(soketi_config(soketi, tmp_path, **chat), tmp_path / "data")
    wait_connected(qtbot, app, [CHAT, PRESENCE])
    return app


def send(qtbot, app: LoginFeedApp, text: str) -> None:
    qtbot.keyClicks(app.chat.input, text)
    qtbot.keyClick(app.chat.input, Qt.Key.Key_Return)


def messages(app: LoginFeedApp) -> list[ChatMessage]:
    return app.chat.model.messages()


def online(app: LoginFeedApp) -> list[str]:
    model = app.chat.presence_model
    return [model.index(row, 0).data() for row in range(model.rowCount())]


def show_marker(qtbot, soketi: Soketi, app: LoginFeedApp) -> None:
    """A server message published after everything else: once it is shown, any late echo would be too."""
    soketi.trigger(CHAT, "message-added", {"message": "marker", "name": "Server"})
    qtbot.waitUntil(lambda: any(m.text == "marker" for m in messages(app)), timeout=WAIT_MS)


def test_client_events_both_ways_and_bob_is_online(qtbot, qtmodeltester, tmp_path: Path, soketi: Soketi, bob: Bob,
                                                  make_app) -> None:
    app = open_window(qtbot, make_app, soketi, tmp_path, send="client-events")
    me = app.chat.identity
    qtbot.waitUntil(lambda: "Bob" in online(app), timeout=WAIT_MS)
    assert online(app) == [f"{me} (you)", "Bob"]  # yourself first
    assert app.chat.online_header.text() == "Online (2)"

    text = "hello Bob <b>not bold</b>"
    send(qtbot, app, text)
    qtbot.waitUntil(lambda: bool(bob.received("client-message-added")), timeout=WAIT_MS)
    [received] = bob.received("client-message-added")
    assert (received["message"], received["name"]) == (text, me)  # {message, name} (plus our message id)
    qtbot.waitUntil(lambda: [m.pending for m in messages(app) if m.own] == [False], timeout=WAIT_MS)
    assert app.chat.input.toPlainText() == ""

    bob.say("hi from Bob <img src=x>")
    qtbot.waitUntil(lambda: any(m.name == "Bob" for m in messages(app)), timeout=WAIT_MS)
    show_marker(qtbot, soketi, app)

    assert [(m.name, m.text, m.own, m.pending, m.failed) for m in messages(app)] == [
        (me, text, True, False, None),
        ("Bob", "hi from Bob <img src=x>", False, False, None),
        ("Server", "marker", False, False, None),
    ]
    qtmodeltester.check(app.chat.model)
    qtmodeltester.check(app.chat.presence_model)

    bob.client.close()
    qtbot.waitUntil(lambda: online(app) == [f"{me} (you)"], timeout=WAIT_MS)


def test_endpoint_mode_both_ways_through_the_message_endpoint(qtbot, tmp_path: Path, soketi: Soketi, bob: Bob,
                                                              make_app) -> None:
    with ChatEndpoint(soketi, CHAT) as endpoint:
        app = open_window(qtbot, make_app, soketi, tmp_path, send="endpoint", message_endpoint=endpoint.url)
        me = app.chat.identity
        assert app.chat.current_sender is not None and app.chat.current_sender.echoes

        send(qtbot, app, "hello via the endpoint")
        qtbot.waitUntil(lambda: bool(bob.received("message-added")), timeout=WAIT_MS)
        assert bob.received("message-added") == [{"message": "hello via the endpoint", "name": me}]  # as forwarded
        assert endpoint.posts[0]["message"] == "hello via the endpoint" and endpoint.posts[0]["name"] == me
        qtbot.waitUntil(lambda: [m.pending for m in messages(app) if m.own] == [False], timeout=WAIT_MS)

        # Bob sends through the same endpoint, as the sample's web page does.
        answer = requests.post(endpoint.url, data={"message": "hi back", "name": "Bob"}, timeout=5)
        assert answer.status_code == 200
        qtbot.waitUntil(lambda: any(m.text == "hi back" for m in messages(app)), timeout=WAIT_MS)
        show_marker(qtbot, soketi, app)

        # Our own message came back from the server as message-added: shown once, as ours.
        assert [(m.name, m.text, m.own, m.pending, m.failed) for m in messages(app)] == [
            (me, "hello via the endpoint", True, False, None),
            ("Bob", "hi back", False, False, None),
            ("Server", "marker", False, False, None),
        ]


def test_unread_count_while_the_chat_dock_is_hidden(qtbot, tmp_path: Path, soketi: Soketi, bob: Bob,
                                                    make_app) -> None:
    app = open_window(qtbot, make_app, soketi, tmp_path, send="client-events")
    dock = app.window.chat_dock
    bob.say("seen at once")
    qtbot.waitUntil(lambda: len(messages(app)) == 1, timeout=WAIT_MS)
    assert app.chat.unread_count == 0 and dock.windowTitle() == "Team chat"

    dock.hide()
    qtbot.waitUntil(lambda: not dock.isVisible(), timeout=WAIT_MS)
    bob.say("one")
    qtbot.waitUntil(lambda: app.chat.unread_count == 1, timeout=WAIT_MS)
    assert dock.windowTitle() == "Team chat (1 unread)"
    bob.say("two")
    qtbot.waitUntil(lambda: app.chat.unread_count == 2, timeout=WAIT_MS)
    assert dock.windowTitle() == "Team chat (2 unread)"
    assert app.window.chat_action.text() == "Team &chat (2 unread)"
    send(qtbot, app, "my own words do not count")
    qtbot.waitUntil(lambda: bool(bob.received("client-message-added")), timeout=WAIT_MS)
    assert app.chat.unread_count == 2

    app.window.chat_action.trigger()  # View > Team chat shows the dock again
    qtbot.waitUntil(lambda: dock.isVisible(), timeout=WAIT_MS)
    assert app.chat.unread_count == 0
    assert dock.windowTitle() == "Team chat"
    assert app.window.chat_action.text() == "Team &chat"
    assert subscribed(app.client, CHAT)
