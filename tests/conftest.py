"""Shared test configuration: headless Qt, no real keyring, and real soketi servers."""

from __future__ import annotations

import atexit
import gc
import os
import shutil
import tempfile

# Set before anything imports Qt or keyring.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")

import uuid
from collections.abc import Iterator

import pytest
from support.cable import cable  # noqa: F401 - a fixture: a cable in front of the session soketi
from support.keys import other_rsa_key, rsa_key  # noqa: F401 - session fixtures: keys that sign test tokens
from support.logstream_server import start_log_stream_server  # noqa: F401 - a fixture: started servers
from support.oidc_fixtures import oidc_provider  # noqa: F401 - a session fixture for every test
from support.postgres import PostgresNotInstalledError, PostgresServer
from support.redis import RedisNotInstalledError, RedisServer
from support.server_process import all_started
from support.signin_helpers import memory_keyring  # noqa: F401 - a fixture: an in-memory keyring, installed
from support.soketi import SOKETI_SERVER_JS, Soketi, soketi_installed
from support.window_app import make_app  # noqa: F401 - a fixture: windows built by the test, closed after

# Nothing a test runs (the app, `login-feed server` without --data-dir, QSettings) writes into the developer's
# home: the platform folders point into one temporary folder for the whole run, inherited by child processes.
_PRIVATE_HOME = tempfile.mkdtemp(prefix="login-feed-tests-")
atexit.register(shutil.rmtree, _PRIVATE_HOME, ignore_errors=True)
for _name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
    os.environ[_name] = os.path.join(_PRIVATE_HOME, _name.split("_")[1].lower())


def _require_soketi() -> None:
    """Fail (never skip) when the npm test stack is missing: integration tests must run."""
    if not soketi_installed():
        pytest.fail(
            f"soketi is not installed ({SOKETI_SERVER_JS} is missing). Run `make test`, which installs the "
            "npm test stack (package.json / package-lock.json) before running pytest.",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def soketi() -> Iterator[Soketi]:
    """A soketi server shared by the whole session, with user authentication (``pusher:signin``) on.

    Do not stop or kill it in a test: use ``fresh_soketi`` for that. With user authentication on, a socket
    that neither signs in nor joins a private/presence channel is closed with 4009 after 30 s.
    """
    _require_soketi()
    server = Soketi(user_authentication=True)
    try:
        server.start()
        yield server
    finally:
        server.close()


@pytest.fixture
def fresh_soketi() -> Iterator[Soketi]:
    """A soketi server for this test alone (user authentication off): for stop, kill and restart tests."""
    _require_soketi()
    server = Soketi()
    try:
        server.start()
        yield server
    finally:
        server.close()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A PostgreSQL cluster shared by the session (Debian's package, a temporary directory, a free port); tests
    take a database of their own from ``postgres_url``. Fails (never skips) when PostgreSQL is not installed."""
    server = PostgresServer()
    try:
        try:
            server.start()
        except PostgresNotInstalledError as exc:
            pytest.fail(str(exc), pytrace=False)
        yield server
    finally:
        server.close()


@pytest.fixture
def postgres_url(postgres: PostgresServer) -> Iterator[str]:
    """The URL of a new, empty database for this test alone (dropped afterwards)."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    url = postgres.create_database(name)
    yield url
    postgres.drop_database(name)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A Redis shared by the session (Debian's package, a free port, no persistence). Fails when not installed."""
    server = RedisServer()
    try:
        try:
            server.start()
        except RedisNotInstalledError as exc:
            pytest.fail(str(exc), pytrace=False)
        yield server
    finally:
        server.close()


@pytest.fixture
def soketi_cluster(redis_server: RedisServer) -> Iterator[list[Soketi]]:
    """Two soketi nodes clustered through the Redis adapter (a key prefix of this test's own), for kill and
    restart tests too."""
    _require_soketi()
    prefix = f"t{uuid.uuid4().hex[:12]}"
    with all_started([Soketi(redis=(redis_server.host, redis_server.port), cluster=prefix) for _ in range(2)]) as nodes:
        yield list(nodes)


@pytest.fixture(autouse=True)
def _qt_garbage_freed_on_the_gui_thread(request: pytest.FixtureRequest) -> Iterator[None]:
    """For tests with Qt objects (``qtbot``/``qapp``): no automatic garbage collection while the test runs, and
    at its end every window it left open closed and everything it left behind freed, on the GUI thread.

    A widget whose Python wrapper sits in a reference cycle is destroyed by whoever runs the cyclic collector
    next: an engine or writer thread (Qt objects destroyed off their thread crash), or the GUI thread in the
    middle of a paint event of a later test (the likely cause of a segfault in ``QPainter::fillRect`` seen once).
    The app itself keeps its window out of the collector's sight (``desktop.ui.startup.tune_gc``); a test run
    must too. The collector's settings (which ``tune_gc`` changes for the whole process) are put back.
    """
    if not {"qtbot", "qapp"} & set(request.fixturenames):
        yield
        return
    from PySide6.QtCore import QCoreApplication, QEvent
    from PySide6.QtWidgets import QApplication

    enabled, threshold = gc.isenabled(), gc.get_threshold()
    gc.disable()
    try:
        yield
    finally:
        for widget in QApplication.topLevelWidgets():
            if widget.isVisible():  # left open, it would go on painting (its timers too) during later tests
                widget.close()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)  # qtbot's closed widgets
        gc.unfreeze()
        gc.collect()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        gc.set_threshold(*threshold)
        if enabled:
            gc.enable()
