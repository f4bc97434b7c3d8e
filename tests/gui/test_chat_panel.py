"""The chat panel: Enter and Shift+Enter, the 10 KB limit before sending, unread counting, own messages
shown once, Retry, who is online, plain text everywhere, and how it looks (light and dark)."""

from __future__ import annotations

import getpass
import logging
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QGuiApplication, QImage, QPainter, QPalette
from PySide6.QtWidgets import QListView, QStyleOptionViewItem

from desktop.chat.delegate import ChatDelegate
from desktop.chat.messages import ChatMessage, outgoing_size
from desktop.chat.model import ChatModel, ChatRole
from desktop.chat.panel import ChatPanel
from desktop.chat.sender import ChatSender
from desktop.config_schema import ChatConfig
from desktop.engine import local_identity
from desktop.pusher.protocol import MAX_EVENT_DATA_BYTES
from desktop.pusher.types import ChannelEvent, State, StateChanged

SCREENSHOT = Path("/tmp/chat_panel.png")
SCREENSHOT_DARK = Path("/tmp/chat_panel_dark.png")
MARKUP_NAME = "<img src=x onerror=alert(1)>"


class RecordingSender(ChatSender):
    """Records what the panel sends; the test reports outcomes through ``sent``/``failed``."""

    def __init__(self, echoes: bool = False) -> None:
        super().__init__()
        self.echoes = echoes
        self.description = "for the test"
        self.sends: list[tuple[str, str, str]] = []

    def send(self, message_id: str, text: str, name: str) -> None:
        self.sends.append((message_id, text, name))


@pytest.fixture
def panel(qtbot) -> ChatPanel:
    widget = ChatPanel(ChatConfig())
    qtbot.addWidget(widget)
    widget.set_identity("Ada")
    widget.resize(640, 480)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


@pytest.fixture
def sender(panel: ChatPanel) -> RecordingSender:
    recording = RecordingSender()
    panel.set_sender(recording)
    return recording


def chat(message: str, name: str = "Bob", event: str = "message-added", channel: str = "private-chat",
         **extra: object) -> ChannelEvent:
    return ChannelEvent(channel, event, {"message": message, "name": name, **extra}, None, time.time())


def rows(panel: ChatPanel) -> list[ChatMessage]:
    return panel.model.messages()


# -- Enter and Shift+Enter ----------------------------------------------------------------------------
def test_enter_sends_and_shift_enter_adds_a_line(qtbot, panel, sender) -> None:
    qtbot.keyClicks(panel.input, "hello")
    qtbot.keyClick(panel.input, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClicks(panel.input, "team")
    assert panel.input.toPlainText() == "hello\nteam"
    assert sender.sends == []

    qtbot.keyClick(panel.input, Qt.Key.Key_Return)

    assert [(text, name) for _id, text, name in sender.sends] == [("hello\nteam", "Ada")]
    assert panel.input.toPlainText() == ""
    [message] = rows(panel)
    assert (message.id, message.text, message.own, message.pending) == (sender.sends[0][0], "hello\nteam",
                                                                        True, True)
    sender.sent.emit(message.id)
    qtbot.waitUntil(lambda: not rows(panel)[0].pending)
    assert rows(panel)[0].failed is None


def test_the_keypad_enter_and_the_send_button_send_too(qtbot, panel, sender) -> None:
    qtbot.keyClicks(panel.input, "one")
    qtbot.keyClick(panel.input, Qt.Key.Key_Enter, Qt.KeyboardModifier.KeypadModifier)
    qtbot.keyClicks(panel.input, "two")
    qtbot.mouseClick(panel.send_button, Qt.MouseButton.LeftButton)
    assert [text for _id, text, _name in sender.sends] == ["one", "two"]


def test_blank_input_sends_nothing(qtbot, panel, sender) -> None:
    qtbot.keyClicks(panel.input, "   ")
    assert not panel.send_button.isEnabled()
    qtbot.keyClick(panel.input, Qt.Key.Key_Return)
    assert sender.sends == [] and rows(panel) == []


# -- the 10 KB limit, before sending ------------------------------------------------------------------
def test_the_limit_is_explained_and_send_disabled_before_sending(qtbot, panel, sender) -> None:
    text = "x" * (MAX_EVENT_DATA_BYTES - outgoing_size("", "Ada"))
    panel.input.setPlainText(text)
    assert panel.send_button.isEnabled()
    assert panel.counter.isVisible()
    assert panel.counter.text() == "10,240 of 10,240 bytes: close to the 10 KB limit of a chat message."

    panel.input.moveCursor(panel.input.textCursor().MoveOperation.End)
    qtbot.keyClicks(panel.input, "x")

    assert not panel.send_button.isEnabled()
    assert panel.counter.text().startswith("Too long to send: 10,241 bytes, and a chat message can carry at most "
                                           "10,240 bytes")
    assert "Shorten it by about 1 character." in panel.counter.text()
    assert panel.send_button.toolTip() == panel.counter.text()
    qtbot.keyClick(panel.input, Qt.Key.Key_Return)
    assert sender.sends == [] and rows(panel) == []
    assert panel.input.toPlainText() == text + "x"  # nothing lost

    qtbot.keyClick(panel.input, Qt.Key.Key_Backspace)
    assert panel.send_button.isEnabled()
    qtbot.keyClick(panel.input, Qt.Key.Key_Return)
    assert len(sender.sends) == 1


def test_the_counter_is_quiet_for_short_messages(qtbot, panel, sender) -> None:
    qtbot.keyClicks(panel.input, "hi")
    assert panel.counter.text() == f"{outgoing_size('hi', 'Ada'):,} of 10,240 bytes"


def test_without_a_sender_the_reason_is_shown_and_nothing_is_sent(qtbot, panel) -> None:
    panel.set_sender(None, 'Sending is off: [chat] send = "endpoint" needs [chat] message_endpoint')
    qtbot.keyClicks(panel.input, "hello")
    assert not panel.send_button.isEnabled()
    assert panel.status_label.isVisible()
    assert "message_endpoint" in panel.status_label.text()
    qtbot.keyClick(panel.input, Qt.Key.Key_Return)
    assert rows(panel) == []
    assert panel.input.toPlainText() == "hello"


# -- unread -------------------------------------------------------------------------------------------
def test_unread_counts_while_hidden_and_resets_when_shown(qtbot, panel, sender) -> None:
    counts: list[int] = []
    panel.unread_changed.connect(counts.append)
    panel.handle_events([chat("seen at once")])
    assert counts == [] and panel.unread_count == 0

    panel.set_visible_in_window(False)
    panel.handle_events([chat("one"), chat("two", event="client-message-added"),
                         chat("elsewhere", channel="private-login-feed"), chat("odd", event="other")])
    qtbot.keyClicks(panel.input, "my own")
    qtbot.keyClick(panel.input, Qt.Key.Key_Return)
    panel.handle_events([chat("three")])
    assert counts == [2, 3]
    assert panel.unread_count == 3

    panel.set_visible_in_window(True)
    assert counts == [2, 3, 0]
    panel.set_visible_in_window(True)
    assert counts == [2, 3, 0]


# -- own messages once --------------------------------------------------------------------------------
def test_endpoint_mode_shows_own_messages_once(qtbot, panel) -> None:
    sender = RecordingSender(echoes=True)
    panel.set_sender(sender)
    panel.set_visible_in_window(False)
    qtbot.keyClicks(panel.input, "first")
    qtbot.keyClick(panel.input, Qt.Key.Key_Return)
    qtbot.keyClicks(panel.input, "second")
    qtbot.keyClick(panel.input, Qt.Key.Key_Return)
    first_id, second_id = (message_id for message_id, _text, _name in sender.sends)

    # The sample server drops our id: matched by name and text. Another server keeps it: matched by id.
    panel.handle_events([chat("first", name="Ada"), chat("second", name="Ada", id=second_id),
                         chat("first", name="Bob")])

    assert [(m.name, m.text, m.own, m.pending) for m in rows(panel)] == [
        ("Ada", "first", True, False), ("Ada", "second", True, False), ("Bob", "first", False, False)]
    assert panel.unread_count == 1
    sender.sent.emit(first_id)
    qtbot.wait(10)
    assert len(rows(panel)) == 3


def test_a_late_echo_of_a_failed_message_marks_it_sent(qtbot, panel) -> None:
    sender = RecordingSender(echoes=True)
    panel.set_sender(sender)
    qtbot.keyClicks(panel.input, "maybe")
    qtbot.keyClick(panel.input, Qt.Key.Key_Return)
    sender.failed.emit(sender.sends[0][0], "Not sent: the message endpoint did not answer within 10 s.")
    qtbot.waitUntil(lambda: rows(panel)[0].failed is not None)
    panel.handle_events([chat("maybe", name="Ada")])
    assert [(m.text, m.own, m.failed) for m in rows(panel)] == [("maybe", True, None)]


def test_client_events_mode_shows_others_and_keeps_own_once(qtbot, panel, sender) -> None:
    qtbot.keyClicks(panel.input, "hello")
    qtbot.keyClick(panel.input, Qt.Key.Key_Return)
    sender.sent.emit(sender.sends[0][0])
    panel.handle_events([chat("hello", name="Ada", event="client-message-added")])  # Ada on another device
    qtbot.waitUntil(lambda: not rows(panel)[0].pending)
    assert [(m.text, m.own) for m in rows(panel)] == [("hello", True), ("hello", False)]


def test_a_failed_message_shows_the_reason_and_retry_sends_it_again(qtbot, panel, sender) -> None:
    qtbot.keyClicks(panel.input, "please work")
    qtbot.keyClick(panel.input, Qt.Key.Key_Return)
    message_id = sender.sends[0][0]
    sender.failed.emit(message_id, "Not sent: the message endpoint answered 503.")
    qtbot.waitUntil(lambda: rows(panel)[0].failed is not None)
    index = panel.model.index(0, 0)
    assert "Not sent: the message endpoint answered 503." in index.data(Qt.ItemDataRole.ToolTipRole)

    option = QStyleOptionViewItem()
    option.rect = panel.view.visualRect(index)
    option.font = panel.view.font()
    retry = panel.delegate.retry_rect(option, index)
    assert retry is not None and option.rect.contains(retry.toRect())
    qtbot.mouseClick(panel.view.viewport(), Qt.MouseButton.LeftButton, pos=retry.center().toPoint())

    assert sender.sends == [(message_id, "please work", "Ada")] * 2
    assert rows(panel)[0].pending and rows(panel)[0].failed is None
    sender.sent.emit(message_id)
    qtbot.waitUntil(lambda: not rows(panel)[0].pending)


def test_copy_gives_the_whole_text(qtbot, panel) -> None:
    long_text = "start " + "y" * 5000 + " end"
    panel.handle_events([chat(long_text)])
    panel.view.setCurrentIndex(panel.model.index(0, 0))
    assert panel.model.index(0, 0).data(ChatRole.MESSAGE).display != long_text
    qtbot.keyClick(panel.view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert QGuiApplication.clipboard().text() == long_text


def test_bad_payloads_are_logged_and_the_rest_of_the_batch_is_shown(qtbot, panel, caplog) -> None:
    bad = ChannelEvent("private-chat", "message-added", {"message": 42, "name": "Eve"}, None, time.time())
    with caplog.at_level(logging.WARNING, logger="desktop.chat"):
        panel.handle_events([chat("before"), bad, chat("after")])
    assert [m.text for m in rows(panel)] == ["before", "after"]
    assert "'message' is a int" in caplog.text


def test_the_list_follows_new_messages_unless_scrolled_up(qtbot, panel) -> None:
    panel.handle_events([chat(f"message {n}") for n in range(60)])
    bar = panel.view.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0 and bar.value() == bar.maximum())
    bar.setValue(0)
    panel.handle_events([chat("while reading older ones")])
    qtbot.wait(20)
    assert bar.value() == 0


# -- who is online ------------------------------------------------------------------------------------
def presence(event: str, data: object) -> ChannelEvent:
    return ChannelEvent("presence-support", event, data, None, time.time())


def test_the_online_list_follows_the_presence_channel(qtbot, panel) -> None:
    assert panel.channels() == ["private-chat", "presence-support"]
    panel.handle_events([presence("pusher:subscription_succeeded", {
        "count": 2, "me": {"id": "u1", "info": {"name": "Ada"}},
        "members": [{"id": "u1", "info": {"name": "Ada"}}, {"id": "u2", "info": {"name": MARKUP_NAME}}]})])
    assert panel.online_header.text() == "Online (2)"
    assert [panel.presence_model.index(r, 0).data() for r in range(2)] == ["Ada (you)", MARKUP_NAME]

    panel.handle_events([presence("pusher:member_added", {"id": "u3", "info": {"name": "Carol"}})])
    assert panel.online_header.text() == "Online (3)"
    panel.handle_events([presence("pusher:member_removed", {"id": "u2", "info": None})])
    assert panel.online_header.text() == "Online (2)"

    panel.handle_state(StateChanged(State.CONNECTED, State.CONNECTING, "closed", 1.0))
    assert panel.online_header.text() == "Online: not connected"
    assert panel.presence_model.rowCount() == 0

    panel.handle_events([presence("pusher:subscription_error", {"type": "AuthError", "error": "no user id",
                                                                 "status": 403})])
    assert panel.online_header.text() == "Online: unavailable"
    assert "no user id (HTTP 403)" in panel.online_header.toolTip()


@pytest.mark.parametrize("os_user", ["ada", None])
def test_before_a_sign_in_the_chat_and_presence_use_the_same_os_user_name(qtbot, monkeypatch, os_user) -> None:
    """One look-up of the OS user: the name the chat sends as (before a sign-in, or for a profile without a
    name) is the one the local signer puts on presence channels, also when the system knows no user name."""
    def getuser() -> str:
        if os_user is None:
            raise OSError("no user name")
        return os_user

    monkeypatch.setattr(getpass, "getuser", getuser)
    panel = ChatPanel(ChatConfig())
    qtbot.addWidget(panel)
    name = local_identity()["user_info"]["name"]
    assert panel.identity == name
    panel.set_identity("Ada Lovelace")
    panel.set_identity("")  # a signed-in profile with neither name nor email
    assert panel.identity == name


def test_without_a_presence_channel_there_is_no_online_list(qtbot) -> None:
    panel = ChatPanel(ChatConfig(presence_channel=""))
    qtbot.addWidget(panel)
    panel.show()
    assert panel.channels() == ["private-chat"]
    assert not panel.online_view.isVisible()


@pytest.mark.parametrize("width", [640, 380])  # the list beside the messages, and the strip on top of them
def test_settings_that_add_or_drop_the_presence_channel_show_or_hide_the_online_list(qtbot, width: int) -> None:
    panel = ChatPanel(ChatConfig(presence_channel=""))
    qtbot.addWidget(panel)
    panel.resize(width, 480)
    panel.show()
    qtbot.waitExposed(panel)
    assert not panel.online_box.isVisible()

    panel.reconfigure(ChatConfig(presence_channel="presence-team"))
    qtbot.waitUntil(panel.online_box.isVisible)
    assert panel.online_view.isVisible()
    assert panel.channels() == ["private-chat", "presence-team"]
    assert panel.online_header.text() == "Online (0)"
    panel.handle_events([ChannelEvent("presence-team", "pusher:member_added", {"id": "u2", "info": {"name": "Bob"}},
                                      None, time.time())])
    assert panel.online_header.text() == "Online (1)"

    panel.reconfigure(ChatConfig(presence_channel=""))
    qtbot.waitUntil(lambda: not panel.online_box.isVisible())
    assert panel.channels() == ["private-chat"]
    assert panel.presence_model.rowCount() == 0


def test_a_refused_chat_channel_is_explained(qtbot, panel, sender) -> None:
    panel.handle_events([ChannelEvent("private-chat", "pusher:subscription_error",
                                      {"type": "AuthError", "error": "forbidden", "status": 403}, None, 0.0)])
    assert panel.status_label.isVisible()
    assert panel.status_label.text() == "The chat is unavailable: forbidden (HTTP 403)"
    panel.handle_events([ChannelEvent("private-chat", "pusher:subscription_succeeded", {}, None, 0.0)])
    assert not panel.status_label.isVisible()


# -- plain text everywhere ----------------------------------------------------------------------------
def _ink_lines(image: QImage) -> list[tuple[int, int, int, int]]:
    """Bands of rows holding near-black pixels: (top, bottom, left, right) of the ink in each band."""
    bands: list[tuple[int, int, int, int]] = []
    current: list[int] | None = None
    for y in range(image.height()):
        xs = [x for x in range(image.width()) if QColor(image.pixel(x, y)).lightnessF() < 0.3]
        if xs:
            if current is None:
                current = [y, y, min(xs), max(xs)]
            else:
                current[1], current[2], current[3] = y, min(current[2], min(xs)), max(current[3], max(xs))
        elif current is not None:
            bands.append((current[0], current[1], current[2], current[3]))
            current = None
    return bands


def test_markup_is_painted_literally(qtbot) -> None:
    view = QListView()
    qtbot.addWidget(view)
    view.resize(700, 200)
    model = ChatModel(view)
    view.setModel(model)
    delegate = ChatDelegate(view)
    view.setItemDelegate(delegate)
    model.add_incoming([ChatMessage("m", MARKUP_NAME, "<b>bold</b>", time.time())])
    index = model.index(0, 0)
    assert index.data() == f"{MARKUP_NAME}: <b>bold</b>"

    option = QStyleOptionViewItem()
    option.font = QFont(view.font())
    option.palette = QPalette(QColor("#f0f0f0"))
    option.palette.setColor(QPalette.ColorRole.Base, QColor("white"))
    option.palette.setColor(QPalette.ColorRole.Text, QColor("black"))
    height = delegate.sizeHint(option, index).height()
    option.rect = QRect(0, 0, view.viewport().width(), height)
    image = QImage(option.rect.size(), QImage.Format.Format_ARGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    delegate.paint(painter, option, index)
    painter.end()

    name_band, body_band = _ink_lines(image)[:2]
    bold = QFont(option.font)
    bold.setBold(True)
    name_width = name_band[3] - name_band[2] + 1
    body_width = body_band[3] - body_band[2] + 1
    assert abs(name_width - QFontMetrics(bold).horizontalAdvance(MARKUP_NAME)) <= 4
    assert abs(body_width - QFontMetrics(option.font).horizontalAdvance("<b>bold</b>")) <= 4
    # Rendered as markup, the body would be just "bold": much narrower.
    assert body_width > QFontMetrics(bold).horizontalAdvance("bold") + 20


def test_labels_that_show_network_text_are_plain_text(panel) -> None:
    for label in (panel.status_label, panel.online_header, panel.counter):
        assert label.textFormat() == Qt.TextFormat.PlainText


# -- how it looks -------------------------------------------------------------------------------------
def _dark_palette() -> QPalette:
    palette = QPalette()
    colors = {
        QPalette.ColorRole.Window: "#202124", QPalette.ColorRole.WindowText: "#e8eaed",
        QPalette.ColorRole.Base: "#17181a", QPalette.ColorRole.AlternateBase: "#24262a",
        QPalette.ColorRole.Text: "#e8eaed", QPalette.ColorRole.Button: "#303134",
        QPalette.ColorRole.ButtonText: "#e8eaed", QPalette.ColorRole.Highlight: "#3d7bfd",
        QPalette.ColorRole.HighlightedText: "#ffffff", QPalette.ColorRole.Link: "#8ab4f8",
        QPalette.ColorRole.PlaceholderText: "#9aa0a6", QPalette.ColorRole.ToolTipBase: "#303134",
        QPalette.ColorRole.ToolTipText: "#e8eaed",
    }
    for role, color in colors.items():
        palette.setColor(role, QColor(color))
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#6b6f75"))
    return palette


def _fill_for_screenshot(panel: ChatPanel, sender: RecordingSender) -> None:
    now = time.time()
    panel.handle_events([
        presence("pusher:subscription_succeeded", {
            "count": 4, "me": {"id": "u1", "info": {"name": "Ada"}},
            "members": [{"id": "u1", "info": {"name": "Ada"}}, {"id": "u2", "info": {"name": "Grace Hopper"}},
                        {"id": "u3", "info": {"name": MARKUP_NAME}}, {"id": "u4", "info": None}]}),
        ChannelEvent("private-chat", "message-added",
                     {"message": "Morning! Anyone else seeing the signup spike from Brazil?",
                      "name": "Grace Hopper"}, None, now - 600),
        ChannelEvent("private-chat", "message-added", {"message": "hi <b>there</b>", "name": MARKUP_NAME},
                     None, now - 400),
        ChannelEvent("private-chat", "client-message-added",
                     {"message": "Yes: " + "most of them come through the Google connection, " * 4
                                 + "\nhttps://manage.example.com/" + "x" * 90, "name": "Linus"}, None, now - 300),
    ])
    for text in ("Looking at it now.", "This one is on its way", "And this one failed"):
        qtbot_keys(panel, text)
    first, _second, third = (message_id for message_id, _text, _name in sender.sends)
    panel.model.mark_sent(first)
    panel.model.mark_failed(third, "Not sent: the message endpoint answered 503.")
    panel.input.setPlainText("x" * (MAX_EVENT_DATA_BYTES - outgoing_size("", "Ada") - 500))


def qtbot_keys(panel: ChatPanel, text: str) -> None:
    panel.input.setPlainText(text)
    panel.send_current()


def test_screenshot_light_and_dark(qtbot, panel, sender) -> None:
    _fill_for_screenshot(panel, sender)
    panel.resize(720, 600)
    qtbot.waitUntil(lambda: panel.view.verticalScrollBar().value() == panel.view.verticalScrollBar().maximum())
    image = panel.grab()
    assert not image.isNull()
    assert image.save(str(SCREENSHOT))

    panel.setPalette(_dark_palette())
    panel.input.setPlainText("x" * MAX_EVENT_DATA_BYTES)
    qtbot.wait(10)
    assert not panel.send_button.isEnabled()
    assert panel.grab().save(str(SCREENSHOT_DARK))
    assert SCREENSHOT.stat().st_size > 0 and SCREENSHOT_DARK.stat().st_size > 0


def test_tooltips_name_the_sender_and_the_state(panel, sender) -> None:
    qtbot_keys(panel, "pending")
    tooltip = panel.model.index(0, 0).data(Qt.ItemDataRole.ToolTipRole)
    assert tooltip.startswith("Ada · ") and tooltip.endswith("Sending…")
    assert panel.send_button.toolTip() == "Send for the test (Enter)"


def test_a_narrow_panel_shows_the_online_list_as_a_strip_on_top(qtbot, panel) -> None:
    assert panel.splitter.orientation() == Qt.Orientation.Horizontal
    assert panel.splitter.widget(0) is panel.view
    panel.resize(380, 560)
    qtbot.waitUntil(lambda: panel.splitter.orientation() == Qt.Orientation.Vertical)
    assert panel.splitter.widget(0) is panel.online_box
    assert panel.online_view.isWrapping()
    panel.resize(720, 560)
    qtbot.waitUntil(lambda: panel.splitter.orientation() == Qt.Orientation.Horizontal)
    assert panel.splitter.widget(0) is panel.view
