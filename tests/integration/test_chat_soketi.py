"""The chat panel and a second client talking through a real soketi, in both send modes, and who is online.

The panel side is the app's own stack (PusherClient + PusherBridge + ChatPanel, wired by ``attach_chat``);
the other side is a plain PusherClient. In endpoint mode a small HTTP endpoint in the test plays the chat
sample's server: it checks the bearer token and triggers ``message-added`` through soketi's HTTP API.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from PySide6.QtCore import Qt
from support.chat_endpoint import ChatEndpoint
from support.engine import local_authorizer
from support.recording import EventRecorder
from support.soketi import Soketi

from desktop.chat.messages import ChatMessage
from desktop.chat.panel import ChatPanel
from desktop.chat.wiring import attach_chat
from desktop.config_schema import ChatConfig
from desktop.pusher.bindings import ChannelHandle
from desktop.pusher.client import PusherClient
from desktop.pusher.qtbridge import PusherBridge

pytestmark = pytest.mark.integration

TOKEN = "test-access-token"
ADA = {"id": "chat-ada", "user_info": {"name": "Ada"}}
BOB = {"id": "chat-bob", "user_info": {"name": "Bob"}}
WAIT_MS = 10_000


class PanelSide:
    """The app's side: engine, bridge and panel, as the window wires them."""

    def __init__(self, qtbot: Any, client: PusherClient, config: ChatConfig, bearer: Any = None) -> None:
        self.client = client
        self.bridge = PusherBridge(client)
        self.panel = ChatPanel(config)
        qtbot.addWidget(self.panel)
        self.panel.set_identity("Ada")
        self.panel.resize(640, 480)
        self.panel.show()
        self.sender = attach_chat(self.panel, client, self.bridge, bearer)
        client.connect()
        for name in self.panel.channels():
            qtbot.waitUntil(lambda name=name: _subscribed(client, name), timeout=WAIT_MS)

    def type_and_enter(self, qtbot: Any, text: str) -> None:
        qtbot.keyClicks(self.panel.input, text)
        qtbot.keyClick(self.panel.input, Qt.Key.Key_Return)

    def rows(self) -> list[ChatMessage]:
        return self.panel.model.messages()

    def own(self, text: str) -> list[ChatMessage]:
        return [m for m in self.rows() if m.own and m.text == text]

    def close(self) -> None:
        if self.sender is not None:
            self.sender.close()


def _subscribed(client: PusherClient, name: str) -> bool:
    handle = client.channel(name)
    return handle is not None and handle.subscribed


@pytest.fixture
def sides(qtbot, soketi, make_client) -> Iterator[Any]:
    opened: list[PanelSide] = []

    def open_side(config: ChatConfig, bearer: Any = None) -> PanelSide:
        side = PanelSide(qtbot, make_client(soketi, authorizer=local_authorizer(user=ADA)), config, bearer)
        opened.append(side)
        return side

    yield open_side
    for side in opened:
        side.close()


def second_client(qtbot, soketi, make_client, *channels: str) -> tuple[PusherClient, EventRecorder,
                                                                         dict[str, ChannelHandle]]:
    bob = make_client(soketi, authorizer=local_authorizer(user=BOB))
    recorder = EventRecorder()
    bob.bind_global(recorder)
    handles = {name: bob.subscribe(name) for name in channels}
    bob.connect()
    for handle in handles.values():
        qtbot.waitUntil(lambda handle=handle: handle.subscribed, timeout=WAIT_MS)
    return bob, recorder, handles


def _messages(recorder: EventRecorder, event: str, channel: str) -> list[dict[str, Any]]:
    return [e.data for e in recorder.named(event, channel)]


def _show_marker(qtbot, soketi: Soketi, side: PanelSide, channel: str) -> None:
    """A server message sent after everything else: once the panel shows it, any echo would be there too."""
    soketi.trigger(channel, "message-added", {"message": "marker", "name": "Server"})
    qtbot.waitUntil(lambda: any(m.text == "marker" for m in side.rows()), timeout=WAIT_MS)


# -- (a) client events both ways ----------------------------------------------------------------------
def test_client_events_both_ways_on_private_chat(qtbot, soketi, make_client, sides) -> None:
    config = ChatConfig(send="client-events")
    side = sides(config)
    _bob, bob_events, bob_channels = second_client(qtbot, soketi, make_client, config.channel)

    side.type_and_enter(qtbot, "hello from Ada <b>not bold</b>")

    qtbot.waitUntil(lambda: bool(_messages(bob_events, "client-message-added", config.channel)), timeout=WAIT_MS)
    [received] = _messages(bob_events, "client-message-added", config.channel)
    assert received["message"] == "hello from Ada <b>not bold</b>" and received["name"] == "Ada"
    qtbot.waitUntil(lambda: not side.own("hello from Ada <b>not bold</b>")[0].pending, timeout=WAIT_MS)

    bob_channels[config.channel].trigger("client-message-added", {"message": "hi Ada", "name": "Bob"}).result(5)
    qtbot.waitUntil(lambda: any(m.text == "hi Ada" for m in side.rows()), timeout=WAIT_MS)
    _show_marker(qtbot, soketi, side, config.channel)

    assert [(m.name, m.text, m.own, m.pending, m.failed) for m in side.rows()] == [
        ("Ada", "hello from Ada <b>not bold</b>", True, False, None),
        ("Bob", "hi Ada", False, False, None),
        ("Server", "marker", False, False, None),
    ]


# -- (b) the message endpoint -------------------------------------------------------------------------
@pytest.mark.parametrize("style", ["sample", "with-id", "excludes-sender"])
def test_endpoint_mode_sender_sees_its_message_once_and_the_other_receives_it(qtbot, soketi, make_client, sides,
                                                                               style) -> None:
    endpoint = ChatEndpoint(soketi, "private-chat", token=TOKEN, style=style).__enter__()
    try:
        config = ChatConfig(send="endpoint", message_endpoint=endpoint.url)
        side = sides(config, lambda: TOKEN)
        _bob, bob_events, _ = second_client(qtbot, soketi, make_client, config.channel)

        side.type_and_enter(qtbot, "hello via the endpoint")

        qtbot.waitUntil(lambda: bool(_messages(bob_events, "message-added", config.channel)), timeout=WAIT_MS)
        assert _messages(bob_events, "message-added", config.channel)[0]["message"] == "hello via the endpoint"
        qtbot.waitUntil(lambda: not side.own("hello via the endpoint")[0].pending, timeout=WAIT_MS)
        assert endpoint.posts[0]["name"] == "Ada"
        assert endpoint.posts[0]["socket_id"] == side.client.socket_id

        # Bob sends through the same endpoint, as the sample's web page does.
        answer = requests.post(endpoint.url, data={"message": "hi Ada", "name": "Bob"},
                               headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5)
        assert answer.status_code == 200
        qtbot.waitUntil(lambda: any(m.text == "hi Ada" for m in side.rows()), timeout=WAIT_MS)
        _show_marker(qtbot, soketi, side, config.channel)

        assert [(m.name, m.text, m.own, m.pending) for m in side.rows()] == [
            ("Ada", "hello via the endpoint", True, False),
            ("Bob", "hi Ada", False, False),
            ("Server", "marker", False, False),
        ]
    finally:
        endpoint.close()


def test_endpoint_refusal_is_shown_on_the_message(qtbot, soketi, sides) -> None:
    endpoint = ChatEndpoint(soketi, "private-chat", token=TOKEN).__enter__()
    try:
        side = sides(ChatConfig(send="endpoint", message_endpoint=endpoint.url), lambda: "expired-token")
        side.type_and_enter(qtbot, "will be refused")
        qtbot.waitUntil(lambda: side.own("will be refused")[0].failed is not None, timeout=WAIT_MS)
        reason = side.own("will be refused")[0].failed
        assert reason == ("Not sent: the message endpoint refused it (401: invalid token). "
                          "Signing in again may help.")
        assert "expired-token" not in reason
    finally:
        endpoint.close()


def test_endpoint_mode_without_an_endpoint_says_why(qtbot, soketi, sides) -> None:
    side = sides(ChatConfig(send="endpoint", message_endpoint=None))
    assert side.sender is None
    assert "message_endpoint" in side.panel.status_label.text()
    assert not side.panel.send_button.isEnabled()


# -- (c) who is online --------------------------------------------------------------------------------
def test_presence_both_see_each_other_and_the_list_follows_a_leave(qtbot, soketi, make_client, sides) -> None:
    config = ChatConfig(send="client-events")
    side = sides(config)
    panel = side.panel
    bob, _bob_events, bob_channels = second_client(qtbot, soketi, make_client, config.presence_channel)

    def online() -> list[str]:
        model = panel.presence_model
        return [model.index(row, 0).data() for row in range(model.rowCount())]

    qtbot.waitUntil(lambda: online() == ["Ada (you)", "Bob"], timeout=WAIT_MS)
    assert panel.online_header.text() == "Online (2)"
    qtbot.waitUntil(lambda: set(bob_channels[config.presence_channel].members) == {ADA["id"], BOB["id"]},
                    timeout=WAIT_MS)
    assert bob_channels[config.presence_channel].members[ADA["id"]] == {"name": "Ada"}

    bob.close()

    qtbot.waitUntil(lambda: online() == ["Ada (you)"], timeout=WAIT_MS)
    assert panel.online_header.text() == "Online (1)"
