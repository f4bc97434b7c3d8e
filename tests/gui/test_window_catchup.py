"""Nothing missed (issue 12): the window against a real ``login-feed server``, a real soketi and a real OpenID
provider. Events posted to the server's log stream while the window was closed are caught up at start; while the
window's network to soketi is unplugged (a loopback cable in front of soketi; the server still publishes), events
keep flowing through the server, and after the reconnect the window catches them up: the history holds every
event exactly once, the feed lists each once, in time order, and the status bar says how many were caught up.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
from support.auth0_log_samples import as_array, record
from support.cable import Cable
from support.logstream_server import LogStreamServer, StartServer
from support.oidc_provider import OidcProvider
from support.signin_helpers import MemoryKeyring, sign_in_once
from support.soketi import APP_ID, APP_KEY
from support.window_app import WAIT_MS, AppFactory

from desktop.config import load_config, save_config
from desktop.config_schema import (
    Auth0Config,
    AuthorizationConfig,
    ChatConfig,
    Config,
    FeedConfig,
    PusherConfig,
)
from desktop.history import history_path

pytestmark = pytest.mark.integration
CHANNEL = "private-login-feed"




@pytest.fixture
def server(start_log_stream_server: StartServer) -> LogStreamServer:
    return start_log_stream_server(channel=CHANNEL)


def remote_config(directory: Path, idp: OidcProvider, server: LogStreamServer, cable: Cable) -> Config:
    config = Config(
        auth0=Auth0Config(issuer=idp.issuer, client_id=idp.client_id, audience=idp.audience),
        pusher=PusherConfig(key=APP_KEY, cluster=None, host="127.0.0.1", port=cable.port, tls=False, app_id=APP_ID),
        authorization=AuthorizationConfig(mode="remote", endpoint=f"{server.base}/pusher/auth",
                                          user_endpoint=f"{server.base}/pusher/user-auth"),
        feed=FeedConfig(channel=CHANNEL),
        chat=ChatConfig(send="endpoint", message_endpoint=f"{server.base}/message"),
    )
    return load_config(save_config(config, directory / "config.toml"), {})


def post(server: LogStreamServer, numbers: range, *, twice: bool = False) -> None:
    """One failed login per number, ``log-<n>``, a minute apart in Auth0's time (in a shuffled delivery)."""
    records = [record("fp", log_id=f"log-{n:03d}", date=f"2026-11-21T{5 + n // 60:02d}:{n % 60:02d}:00.000Z",
                      user_name=f"user{n}@example.com") for n in numbers]
    body = records[::-1] + (records[:1] if twice else [])  # out of order, and one sent twice, as Auth0 does
    answer = server.post(as_array(body))
    assert answer.status_code == 200, answer.text


def listed(app, *, alerts: bool = False) -> list[str]:
    """The tenant-log rows listed, newest first (without the server's own alerts about runs of failures)."""
    return [ev.log_id for ev in app.feed.model.events() if ev.log_id and (alerts or ev.type != "alert")]


def caught_up(app) -> int:
    """N of the status bar's "Caught up N events missed while offline" (-1 while it says something else). N may
    include alerts the server raised meanwhile."""
    found = re.fullmatch(r"Caught up ([\d,]+) events? missed while offline", app.status.currentMessage())
    return int(found.group(1).replace(",", "")) if found else -1


def stored_log_ids(data_dir: Path) -> list[str]:
    with sqlite3.connect(f"file:{history_path(data_dir)}?mode=ro", uri=True) as db:
        rows = db.execute("SELECT log_id FROM events WHERE log_id IS NOT NULL AND type != 'alert' "
                          "ORDER BY log_id").fetchall()
    db.close()
    return [row[0] for row in rows]


def test_events_missed_while_closed_and_while_unplugged_are_caught_up_once_in_time_order(
        qtbot, tmp_path: Path, oidc_provider: OidcProvider, server: LogStreamServer, cable: Cable,
        memory_keyring: MemoryKeyring, make_app) -> None:
    sign_in_once(oidc_provider, memory_keyring)
    post(server, range(1, 4))  # while the window is closed
    data_dir = tmp_path / "data"
    app = make_app(remote_config(tmp_path, oidc_provider, server, cable), data_dir)  # keeps the test's dates

    qtbot.waitUntil(lambda: caught_up(app) >= 3, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: listed(app) == ["log-003", "log-002", "log-001"], timeout=WAIT_MS)
    assert app.feed.model.events()[0].label == "Failed login (wrong password)"

    post(server, range(4, 6))  # live
    qtbot.waitUntil(lambda: len(listed(app)) == 5, timeout=WAIT_MS)

    cable.unplug()  # the window's network is cut; the server keeps receiving and publishing
    qtbot.waitUntil(lambda: app.status.state_label.text() != "Connected", timeout=WAIT_MS)
    post(server, range(6, 12), twice=True)
    post(server, range(12, 14))
    cable.plug()
    qtbot.waitUntil(lambda: caught_up(app) >= 8, timeout=3 * WAIT_MS)
    post(server, range(14, 16))  # live again
    expected = [f"log-{n:03d}" for n in range(15, 0, -1)]
    qtbot.waitUntil(lambda: len(listed(app)) >= 15, timeout=WAIT_MS)
    assert listed(app) == expected  # each once, newest first: the caught-up ones where their time puts them
    assert app.history.flush(timeout=10)
    assert stored_log_ids(data_dir) == sorted(expected)

    AppFactory.close(app)  # and a restart lists each once again, catching up from the newest stored cursor
    post(server, range(16, 17))
    again = make_app(remote_config(tmp_path, oidc_provider, server, cable), data_dir)
    qtbot.waitUntil(lambda: caught_up(again) >= 1, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: listed(again) == [f"log-{n:03d}" for n in range(16, 0, -1)], timeout=WAIT_MS)


def test_enter_on_a_row_tells_that_users_story_from_the_server(qtbot, tmp_path: Path, oidc_provider: OidcProvider,
                                                              server: LogStreamServer, cable: Cable,
                                                              memory_keyring: MemoryKeyring, make_app) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    from desktop.feed.story import UserStoryDialog

    sign_in_once(oidc_provider, memory_keyring)
    user = "auth0|61823277a44a21007221a59a"  # the sample's user
    story = [record("fp", log_id=f"story-{n}", date=f"2026-11-21T06:00:{n:02d}.000Z") for n in range(7)]
    story.append(record("fp", log_id="story-block", type="limit_wc", date="2026-11-21T06:00:30.000Z",
                        description="Too many failed logins"))
    story.append(record("fp", log_id="story-reset", type="scpr", date="2026-11-21T06:05:00.000Z", description=""))
    story.append(record("s", log_id="someone-else", date="2026-11-21T06:06:00.000Z"))
    assert server.post(as_array(story)).status_code == 200
    app = make_app(remote_config(tmp_path, oidc_provider, server, cable), tmp_path / "data")
    # (the server may add an alert of its own about the run of failures: kind "alert", not counted here)
    qtbot.waitUntil(lambda: len(listed(app)) == 10, timeout=WAIT_MS)

    view = app.feed.view
    row = next(r for r in range(app.feed.proxy.rowCount())
               if app.feed.proxy.index(r, 0).data(app.feed.model.EventRole).log_id == "story-reset")
    view.setFocus()
    view.setCurrentIndex(app.feed.proxy.index(row, 0))
    assert app.feed.detail.event_link() == "https://manage.auth0.com/#/logs/story-reset"
    assert app.feed.detail.user_link() == "https://manage.auth0.com/#/users/auth0%7C61823277a44a21007221a59a"
    qtbot.keyClick(view, Qt.Key.Key_Return)

    def dialog() -> UserStoryDialog | None:
        found = [w for w in QApplication.topLevelWidgets() if isinstance(w, UserStoryDialog) and w.isVisible()]
        return found[0] if found else None

    qtbot.waitUntil(lambda: dialog() is not None and "from the tenant log" in dialog().status.text(),
                    timeout=WAIT_MS)
    shown = dialog()
    assert shown.user_id == user
    story_rows = [ev for ev in shown.events() if ev.type != "alert"]
    assert [ev.log_id for ev in story_rows] == ["story-reset", "story-block", *[f"story-{n}" for n in range(6, -1, -1)]]
    assert [ev.label for ev in story_rows][:2] == ["Password reset requested",
                                                   "Blocked account (too many failed logins)"]
    assert shown.view.accessibleName().startswith("Recent events of")
    qtbot.keyClick(shown, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: dialog() is None, timeout=WAIT_MS)
