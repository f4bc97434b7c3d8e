"""Every field of the selected event, as plain text a person can select and copy, then the raw payload.

Values are single lines: a line break or a bidi override inside a hostile value cannot fake another field.
"""

from __future__ import annotations

import json

from PySide6.QtCore import Qt, QTimer, QUrl, Slot
from PySide6.QtGui import QDesktopServices, QFontDatabase, QGuiApplication
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

from desktop.feed.events import FeedEvent
from desktop.feed.links import event_link, user_link
from desktop.feed.model import TYPE_LABELS, exact_local_time, plain_line
from desktop.util.text import escaped

EMPTY_TEXT = "Select an event to see every field it carries."
MAX_DETAIL_CHARS = 1000  # what events.py keeps of any field

_FIELDS = (
    ("type", "Type"), ("label", "What"), ("reason", "Reason"), ("outcome", "Outcome"), ("name", "Name"),
    ("nickname", "Nickname"), ("email", "Email"), ("user_id", "User ID"),
    ("connection", "Connection"), ("client_name", "Application"), ("country", "Country"), ("city", "City"),
    ("ip", "IP address"), ("logins_count", "Logins"), ("at", "Time (UTC)"), ("local", "Time (local)"),
    ("device", "Device"), ("received_at", "Received (UTC)"), ("picture", "Picture"), ("event", "Event"),
    ("channel", "Channel"), ("code", "Auth0 code"), ("kind", "Kind"), ("log_id", "Log ID"), ("cursor", "Cursor"),
)
_V2_ONLY = frozenset({"label", "outcome", "device", "code", "kind", "log_id", "cursor"})
_LABEL_WIDTH = max(len(label) for _, label in _FIELDS) + 1


def raw_json(data: object) -> str:
    """The payload pretty-printed; anything JSON cannot express is shown by its ``repr``."""
    try:
        text = json.dumps(data, indent=2, ensure_ascii=False, default=repr)
    except (TypeError, ValueError, RecursionError):
        text = repr(data)
    return escaped(text)  # what JSON leaves raw that would still reorder or break the lines around it


def detail_text(ev: FeedEvent) -> str:
    """What the pane shows (and Copy copies): ``Label: value`` per field, then the raw payload."""
    lines = []
    for name, label in _FIELDS:
        if name == "type":
            value: object = TYPE_LABELS.get(ev.type, ev.type)
        elif name == "local":
            value = exact_local_time(ev)
        else:
            value = getattr(ev, name)
        if value is None or value == "":
            if name == "reason" or (name in _V2_ONLY and ev.log_id is None):
                continue
            value = "—"
        lines.append(f"{label + ':':<{_LABEL_WIDTH}} {plain_line(str(value), MAX_DETAIL_CHARS + 1)}")
    lines += ["", "Payload:", raw_json(ev.data)]
    return "\n".join(lines)


class EventDetail(QWidget):
    """A read-only plain-text pane with a Copy button; empty until an event is selected."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("eventDetail")
        self._event: FeedEvent | None = None
        self.title = QLabel("Details")
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.copy_button = QPushButton("Copy")
        self.copy_button.setToolTip("Copy every field and the payload")
        self.copy_button.setEnabled(False)
        self.copy_button.clicked.connect(self.copy)
        self._domain: str | None = None
        self.open_event_button = QPushButton("Open in Auth0")
        self.open_event_button.setObjectName("openEventInAuth0")
        self.open_event_button.setToolTip("This event in the Auth0 dashboard's logs")
        self.open_user_button = QPushButton("User in Auth0")
        self.open_user_button.setObjectName("openUserInAuth0")
        self.open_user_button.setToolTip("This user in the Auth0 dashboard")
        self.story_button = QPushButton("User's events…")
        self.story_button.setObjectName("openUserStory")
        self.story_button.setToolTip("This user's recent events, failures first to the eye (Enter on the row)")
        for button in (self.open_event_button, self.open_user_button, self.story_button):
            button.setEnabled(False)
        self.open_event_button.clicked.connect(lambda: self._open(self.event_link()))
        self.open_user_button.clicked.connect(lambda: self._open(self.user_link()))
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setUndoRedoEnabled(False)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.text.setPlaceholderText(EMPTY_TEXT)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                          | Qt.TextInteractionFlag.TextSelectableByKeyboard)
        self.text.setAccessibleName("Event details")

        header = QHBoxLayout()
        header.addWidget(self.title)
        header.addStretch(1)
        header.addWidget(self.copy_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(header)
        layout.addWidget(self.text, 1)
        links = QHBoxLayout()
        for button in (self.story_button, self.open_user_button, self.open_event_button):
            links.addWidget(button)
        links.addStretch(1)
        layout.addLayout(links)

    def set_dashboard_domain(self, domain: str | None) -> None:
        """The ``[auth0] domain`` the dashboard links name (None: links without a tenant)."""
        self._domain = domain

    def event_link(self) -> str | None:
        ev = self._event
        return None if ev is None or ev.log_id is None else event_link(self._domain, ev.log_id)

    def user_link(self) -> str | None:
        ev = self._event
        return None if ev is None or ev.user_id is None else user_link(self._domain, ev.user_id)

    @staticmethod
    def _open(url: str | None) -> None:
        if url is not None:  # https://manage.auth0.com only (links.py): nothing else is ever opened from here
            QDesktopServices.openUrl(QUrl(url))

    @property
    def current_event(self) -> FeedEvent | None:
        return self._event

    @Slot(object)
    def set_event(self, ev: FeedEvent | None) -> None:
        self._event = ev
        self.text.setPlainText(detail_text(ev) if ev is not None else "")
        self.copy_button.setEnabled(ev is not None)
        self.open_event_button.setEnabled(self.event_link() is not None)
        self.open_user_button.setEnabled(self.user_link() is not None)
        self.story_button.setEnabled(ev is not None and ev.user_id is not None)

    @Slot()
    def copy(self) -> None:
        if self._event is None:
            return
        QGuiApplication.clipboard().setText(self.text.toPlainText())
        self.copy_button.setText("Copied")
        QTimer.singleShot(1500, self, self._reset_copy_label)  # dropped if the pane is gone

    def _reset_copy_label(self) -> None:
        self.copy_button.setText("Copy")
