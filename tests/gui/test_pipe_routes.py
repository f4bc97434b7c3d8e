"""The feed pipe routes each batch once: feed rows, the feed channel's status, and the rest for the chat."""

from __future__ import annotations

import threading

from desktop.feed.pipe import FeedPipe
from desktop.pusher.types import ChannelEvent

FEED = "private-login-feed"
NOW = 1_700_000_000.0


def test_a_mixed_batch_goes_each_part_to_its_own_signal(qtbot) -> None:
    pipe = FeedPipe(FEED)
    rows: list[list] = []
    status: list[list[ChannelEvent]] = []
    others: list[list[ChannelEvent]] = []
    pipe.feed_events.connect(rows.append)
    pipe.feed_status.connect(status.append)
    pipe.other_events.connect(others.append)
    login = ChannelEvent(FEED, "user-loggedIn", {"v": 1, "type": "login", "user_id": "auth0|1"}, None, NOW)
    refused = ChannelEvent(FEED, "pusher:subscription_error", {"status": 403, "error": "forbidden"}, None, NOW)
    chat = ChannelEvent("private-chat", "message-added", {"message": "hi", "name": "Ada"}, None, NOW)
    joined = ChannelEvent("presence-support", "pusher:member_added", {"user_id": "2"}, None, NOW)
    connection = ChannelEvent(None, "pusher:error", {"message": "over quota"}, None, NOW)
    worker = threading.Thread(target=pipe.on_batch, args=([login, refused, chat, joined, connection],))
    worker.start()  # the engine's thread
    worker.join()
    qtbot.waitUntil(lambda: bool(rows) and bool(status) and bool(others))
    assert [row.user_id for batch in rows for row in batch] == ["auth0|1"]
    assert status == [[refused]]
    assert others == [[chat, joined, connection]]  # the chat's input: nothing of the feed channel
