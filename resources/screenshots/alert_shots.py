"""Screenshots of the Alerts panel and of the feed showing the events behind an alert (issue 15).

Run under a real X server, e.g. Xvfb (``Xvfb :98 -screen 0 1280x800x24 &``), from the repository root::

    DISPLAY=:98 .venv/bin/python resources/screenshots/alert_shots.py

It builds the main window with an hour of realistic tenant-log events (``login-feed simulate --source log-stream``'s
generator with its credential-stuffing scenario, normalised by the server's own code with the real GeoIP
database), one account guessed at twelve times, one person logging in from London and then Milton, WA, and a
breached password typed under the name ``<img src=x>``; the real alert detector (:mod:`desktop.alerts`) runs
over them as the server does, and its alerts, with their updates, go through the window's own path. One alert is
acknowledged (dimmed). ``import -window root`` (ImageMagick) takes ``alerts-panel.png``, then, after a click on the
credential-stuffing alert, ``alerts-feed-filtered.png``, in this directory.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEventLoop, QSettings, Qt, QTimer
from PySide6.QtWidgets import QApplication
from shots import shoot  # the sibling module: these scripts run from this folder

CHANNEL = "private-login-feed"


def _pause(ms: int) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def _payloads(now: float) -> list[dict[str, Any]]:
    """The tenant log's events (v2, oldest first) with the alerts the detector raises among them."""
    from desktop.alerts import AlertDetector  # noqa: PLC0415
    from desktop.simulate.logstream import LogStreamRecords  # noqa: PLC0415
    from desktop.tenantlog.body import Record  # noqa: PLC0415
    from desktop.tenantlog.enrich import GeoIpLocator  # noqa: PLC0415
    from desktop.tenantlog.normalize import normalize  # noqa: PLC0415

    locate = GeoIpLocator()
    detector = AlertDetector()
    moment = [now - 3600.0]
    normal = LogStreamRecords(seed=12, clock=lambda: moment[0])
    attack = LogStreamRecords(seed=13, clock=lambda: moment[0], scenario="credential-stuffing")
    out: list[dict[str, Any]] = []

    def add(record: dict) -> None:
        event = normalize(Record(record["log_id"], record["data"]), moment[0], locate=locate)
        out.append(event)
        out.extend(detector.observe(event))

    def person(code: str, user: str, name: str, ip: str, description: str = "") -> None:
        record = next(normal)
        record["data"].update(type=code, user_id=user, user_name=name, ip=ip, description=description)
        add(record)

    ada = ("auth0|6560a1b2c3d4e5f6a7b8c9d0", "ada.lovelace@example.com", "81.2.69.143", "Wrong email or password.")
    grace = ("auth0|65a0c0ffee00000000000042", "grace.hopper@example.com")
    specials = {now - 2400 + i * 7: ("fp", *ada) for i in range(14)}  # an account guessed at
    specials[now - 1900] = ("s", *grace, "81.2.69.142")  # London, then Milton (WA) seven minutes later
    specials[now - 1480] = ("s", *grace, "216.160.83.56")
    specials[now - 1100] = ("pwd_leak", "auth0|65a0c0ffee00000000000099", "<img src=x>", "89.160.20.112")
    quiet = {now - 3600 + i * 18: None for i in range(150)}  # 45 quiet minutes
    for at, what in sorted({**quiet, **specials}.items(), key=lambda item: item[0]):
        moment[0] = at
        if what is None:
            add(next(normal))
        else:
            person(*what)
    for i in range(260):  # then a surge of failed logins from a few addresses
        moment[0] = now - 900 + i * 3.4
        add(next(attack) if i % 4 else next(normal))
    for n, event in enumerate(out, start=1):
        event["cursor"] = str(n)
    return out


def main() -> int:
    app = QApplication(sys.argv[:1])
    from desktop.alerts.wiring import AlertsWiring  # noqa: PLC0415
    from desktop.chat.panel import ChatPanel  # noqa: PLC0415
    from desktop.config_schema import ChatConfig  # noqa: PLC0415
    from desktop.feed.events import normalise  # noqa: PLC0415
    from desktop.feed.panel import FeedPanel  # noqa: PLC0415
    from desktop.pusher.types import State, StateChanged  # noqa: PLC0415
    from desktop.ui.main_window import MainWindow  # noqa: PLC0415
    from desktop.ui.status import ConnectionStatus  # noqa: PLC0415

    now = time.time()
    rows = [normalise("log-event", CHANNEL, p, now) for p in _payloads(now)]
    with tempfile.TemporaryDirectory() as prefs_dir:
        prefs = QSettings(str(Path(prefs_dir) / "window.ini"), QSettings.Format.IniFormat)
        feed, chat, status = FeedPanel(), ChatPanel(ChatConfig()), ConnectionStatus()
        window = MainWindow(feed, chat, status, prefs)
        alerts = AlertsWiring(window, feed, status, prefs, tray=None, beside=window.chat_dock)
        alerts.set_person("auth0|sam")
        status.on_state_changed(StateChanged(State.CONNECTING, State.CONNECTED))
        status.set_channel(CHANNEL, encrypted=False, public=False)
        status.set_user("Sam Support")
        window.setGeometry(0, 0, 1280, 800)
        window.show()
        for start in range(0, len(rows), 40):  # as the pipe delivers them: alerts and their updates in between
            feed.add_events(alerts.take(rows[start:start + 40], notify=False))
        feed.chart.refresh()
        alerts.show_panel()
        window.resizeDocks([alerts.dock], [500], Qt.Orientation.Horizontal)
        window.resizeDocks([alerts.dock, window.chat_dock], [520, 240], Qt.Orientation.Vertical)
        panel = alerts.panel
        model = panel.model
        travel = next(r for r in range(model.rowCount()) if model.record_at(r).rule == "impossible_travel")
        panel.view.setCurrentIndex(model.index(travel))
        panel.acknowledge_current()
        panel.view.setCurrentIndex(model.index(0))
        _pause(1500)
        print(shoot("alerts-panel.png"))
        stuffing = next(r for r in range(model.rowCount()) if model.record_at(r).rule == "credential_stuffing")
        index = model.index(stuffing)
        panel.view.setCurrentIndex(index)
        panel.view.clicked.emit(index)
        _pause(1500)
        print(shoot("alerts-feed-filtered.png"))
        window.close()
    app.quit()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
