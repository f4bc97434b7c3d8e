"""Screenshots of the feed with the tenant log (issue 12): failures first, and one user's story.

Run under a real X server, e.g. Xvfb (``Xvfb :99 -screen 0 1280x800x24 &``), from the repository root::

    DISPLAY=:99 .venv/bin/python resources/screenshots/tenant_log_shots.py

It builds the main window with an hour of realistic tenant-log events (``login-feed simulate --source log-stream``'s
generator, normalised by the server's own code with the real GeoIP database; a credential-stuffing surge in the
last quarter of an hour), a few names in Devanagari, Japanese and Arabic, and one user who got the password wrong
seven times, was blocked and asked for a reset; then it opens that user's story. ``import -window root`` (ImageMagick)
takes each picture: ``feed-failures.png`` and ``user-story.png`` in this directory.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from PySide6.QtCore import QEventLoop, QSettings, QTimer
from PySide6.QtWidgets import QApplication
from shots import shoot  # the sibling module: these scripts run from this folder

CHANNEL = "private-login-feed"
STORY_USER = "auth0|6560a1b2c3d4e5f6a7b8c9d0"


def _pause(ms: int) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def _events(now: float) -> tuple[list, list[dict]]:
    from desktop.feed.events import normalise  # noqa: PLC0415
    from desktop.simulate.logstream import LogStreamRecords  # noqa: PLC0415
    from desktop.tenantlog.body import Record  # noqa: PLC0415
    from desktop.tenantlog.enrich import GeoIpLocator  # noqa: PLC0415
    from desktop.tenantlog.normalize import normalize  # noqa: PLC0415

    locate = GeoIpLocator()
    moment = [now - 3600.0]
    normal = LogStreamRecords(seed=12, clock=lambda: moment[0])
    attack = LogStreamRecords(seed=13, clock=lambda: moment[0], scenario="credential-stuffing")
    rows, cursor = [], 0

    def add(record: dict) -> dict:
        nonlocal cursor
        cursor += 1
        event = normalize(Record(record["log_id"], record["data"]), moment[0], locate=locate)
        event["cursor"] = str(cursor)
        rows.append(normalise("log-event", CHANNEL, event, moment[0] + 0.4))
        return event

    for i in range(150):  # 45 quiet minutes
        moment[0] = now - 3600 + i * 18
        add(next(normal))
    for i in range(220):  # then a surge of failed logins from a few addresses
        moment[0] = now - 900 + i * 3.6
        add(next(attack) if i % 4 else next(normal))
    for offset, (name, country, city) in enumerate((("अनन्या शर्मा", "IN", "Pune"), ("山田 太郎", "JP", "Tokyo"),
                                                    ("ليلى حداد", "JO", "Amman"))):
        moment[0] = now - 9 + offset * 3  # the newest rows: names in three more scripts
        rows.append(normalise("user-loggedIn", CHANNEL, {
            "v": 1, "type": "login", "user_id": f"auth0|intl{offset}", "name": name, "email": f"u{offset}@example.com",
            "country": country, "city": city, "connection": "Username-Password-Authentication",
            "client_name": "Support Portal", "at": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(moment[0]))},
            moment[0]))
    story = []
    for i, code in enumerate(["fp"] * 7 + ["limit_wc", "scpr"]):
        moment[0] = now - 60 + i * 6
        record = next(normal)
        record["data"].update(type=code, user_id=STORY_USER, user_name="ada.lovelace@example.com",
                              ip="81.2.69.143", description={"fp": "Wrong email or password.",
                                                             "limit_wc": "Too many failed login attempts."}
                              .get(code, ""))
        story.append(add(record))
    return rows, story


def main() -> int:
    app = QApplication(sys.argv[:1])
    from desktop.chat.panel import ChatPanel  # noqa: PLC0415
    from desktop.config_schema import ChatConfig  # noqa: PLC0415
    from desktop.feed.panel import FeedPanel  # noqa: PLC0415
    from desktop.feed.story import UserStoryDialog  # noqa: PLC0415
    from desktop.pusher.types import State, StateChanged  # noqa: PLC0415
    from desktop.ui.main_window import MainWindow  # noqa: PLC0415
    from desktop.ui.status import ConnectionStatus  # noqa: PLC0415

    now = time.time()
    rows, story = _events(now)
    with tempfile.TemporaryDirectory() as prefs_dir:
        prefs = QSettings(str(Path(prefs_dir) / "window.ini"), QSettings.Format.IniFormat)
        feed, chat, status = FeedPanel(), ChatPanel(ChatConfig()), ConnectionStatus()
        window = MainWindow(feed, chat, status, prefs)
        status.on_state_changed(StateChanged(State.CONNECTING, State.CONNECTED))
        status.set_channel(CHANNEL, encrypted=False, public=False)
        status.set_user("Sam Support")
        window.setGeometry(0, 0, 1280, 800)
        window.show()
        feed.add_events(rows)
        feed.detail.set_dashboard_domain("acme.eu.auth0.com")
        status.showMessage("Caught up 312 events missed while offline", 60_000)
        feed.view.setCurrentIndex(feed.proxy.index(3, 0))  # the password reset, below the three names
        feed.chart.refresh()
        _pause(1500)
        print(shoot("feed-failures.png"))
        selected = feed.selected_event()
        dialog = UserStoryDialog(selected, feed.model.events(), lambda: list(reversed(story)), channel=CHANNEL,
                                 domain="acme.eu.auth0.com", parent=window)
        dialog.move(300, 120)
        dialog.show()
        _pause(1500)
        print(shoot("user-story.png"))
        dialog.close()
        window.close()
    app.quit()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
