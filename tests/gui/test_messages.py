"""Telling the user: the message bridge from any thread, the status bar, Qt's warnings, uncaught exceptions."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

import pytest
from PySide6.QtCore import QObject, QThread, QTimer, Slot, qWarning

from desktop.log import install_window_hooks
from desktop.ui.status import ConnectionStatus
from desktop.util import message
from desktop.util.message import Message


class Receiver(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.got: list[tuple[Message, bool]] = []

    @Slot(object)
    def take(self, shown: Message) -> None:
        self.got.append((shown, QThread.currentThread() is self.thread()))


@pytest.fixture
def receiver(qtbot) -> Iterator[Receiver]:
    receiver = Receiver()
    message.global_bridge().shown.connect(receiver.take)
    yield receiver
    message.global_bridge().shown.disconnect(receiver.take)


@pytest.fixture
def hooks(qtbot) -> Iterator[None]:
    uninstall = install_window_hooks()
    yield
    uninstall()


def test_a_message_from_another_thread_arrives_on_the_gui_thread(qtbot, receiver: Receiver) -> None:
    worker = threading.Thread(target=lambda: message.error("The disk is full", lasting=True))
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: len(receiver.got) == 1)
    shown, on_gui_thread = receiver.got[0]
    assert shown == Message("error", "The disk is full", 0)
    assert on_gui_thread


def test_levels_have_their_default_times_and_are_logged(qtbot, receiver: Receiver, caplog) -> None:
    with caplog.at_level(logging.INFO, logger="desktop.message"):
        message.info("Signed out")
        message.warning("The keyring is locked", timeout_ms=5)
    qtbot.waitUntil(lambda: len(receiver.got) == 2)
    assert [shown for shown, _ in receiver.got] == [Message("info", "Signed out", message.TIMEOUT_MS["info"]),
                                                    Message("warning", "The keyring is locked", 5)]
    assert [record.levelno for record in caplog.records] == [logging.INFO, logging.WARNING]


def test_the_status_bar_shows_a_message_and_keeps_its_state(qtbot) -> None:
    status = ConnectionStatus()
    qtbot.addWidget(status)
    message.global_bridge().shown.connect(status.show_message)
    try:
        message.warning("Your sign-in lasts this session only")
        qtbot.waitUntil(lambda: status.currentMessage() == "Your sign-in lasts this session only")
        assert status.state_label.text() == "Not connected"
    finally:
        message.global_bridge().shown.disconnect(status.show_message)


def test_qt_warnings_go_to_the_log(qtbot, hooks: None, caplog) -> None:
    with caplog.at_level(logging.DEBUG, logger="qt"):
        qWarning("a Qt warning for the log")
    assert [(r.name, r.levelno, r.getMessage()) for r in caplog.records if r.name == "qt"] == [
        ("qt", logging.WARNING, "a Qt warning for the log")]


def test_an_exception_in_a_slot_is_logged_and_told_and_the_app_goes_on(qtbot, hooks: None, receiver: Receiver,
                                                                       caplog) -> None:
    def boom() -> None:
        raise ValueError("a bug in a slot")

    with caplog.at_level(logging.ERROR):
        QTimer.singleShot(0, boom)
        qtbot.waitUntil(lambda: len(receiver.got) == 1)
    shown, _ = receiver.got[0]
    assert shown.level == "error"
    assert "ValueError: a bug in a slot" in shown.text and "details in the log" in shown.text
    logged = [r for r in caplog.records if r.getMessage() == "uncaught exception"]
    assert logged and logged[0].exc_info is not None and logged[0].exc_info[0] is ValueError
    ticks: list[int] = []
    QTimer.singleShot(0, lambda: ticks.append(1))  # the event loop still runs
    qtbot.waitUntil(lambda: ticks == [1])


def test_an_exception_in_a_thread_is_told(qtbot, hooks: None, receiver: Receiver) -> None:
    def crash() -> None:
        raise OSError("the writer thread died")

    worker = threading.Thread(target=crash)
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: len(receiver.got) == 1)
    assert "OSError: the writer thread died" in receiver.got[0][0].text
