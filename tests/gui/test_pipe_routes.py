"""The engine's Qt adapter routes each batch once, by the app's table: feed rows to the feed pipe, the feed
channel's status, the chat's, presence and the rest each to its own signal."""

from __future__ import annotations

import threading

from desktop.feed.pipe import FeedPipe
from desktop.pusher.client import PusherClient
from desktop.pusher.qtbridge import PusherBridge, Routes
from desktop.pusher.types import ChannelEvent

FEED = "private-login-feed"
NOW = 1_700_000_000.0


def test_a_mixed_batch_goes_each_part_to_its_own_signal(qtbot) -> None:
    pipe = FeedPipe(FEED)
    client = PusherClient("app-key", host="127.0.0.1", port=1, use_tls=False)  # never connected
    bridge = PusherBridge(client, routes=Routes(feed=FEED).adding(chat=["private-chat"], presence=["presence-support"]),
                          feed=pipe.on_batch)
    rows: list[list] = []
    status: list[list[ChannelEvent]] = []
    chats: list[list[ChannelEvent]] = []
    presence: list[list[ChannelEvent]] = []
    others: list[list[ChannelEvent]] = []
    pipe.feed_events.connect(rows.append)
    bridge.feed_status.connect(status.append)
    bridge.chat_events.connect(chats.append)
    bridge.presence_events.connect(presence.append)
    bridge.other_events.connect(others.append)
    login = ChannelEvent(FEED, "user-loggedIn", {"v": 1, "type": "login", "user_id": "auth0|1"}, None, NOW)
    refused = ChannelEvent(FEED, "pusher:subscription_error", {"status": 403, "error": "forbidden"}, None, NOW)
    chat = ChannelEvent("private-chat", "message-added", {"message": "hi", "name": "Ada"}, None, NOW)
    joined = ChannelEvent("presence-support", "pusher:member_added", {"user_id": "2"}, None, NOW)
    connection = ChannelEvent(None, "pusher:error", {"message": "over quota"}, None, NOW)
    worker = threading.Thread(target=bridge.route_batch, args=([login, refused, chat, joined, connection],))
    worker.start()  # the engine's thread
    worker.join()
    qtbot.waitUntil(lambda: bool(rows) and bool(status) and bool(chats) and bool(presence) and bool(others))
    assert [row.user_id for batch in rows for row in batch] == ["auth0|1"]
    assert status == [[refused]]
    assert chats == [[chat]]  # the chat's input: nothing of the feed channel
    assert presence == [[joined]]
    assert others == [[connection]]
    client.close(timeout=0)
