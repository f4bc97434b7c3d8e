"""Shared test configuration: headless Qt, no real keyring, and real soketi servers."""

from __future__ import annotations

import os

# Set before anything imports Qt or keyring.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")

from collections.abc import Iterator

import pytest
from support.oidc_fixtures import oidc_provider  # noqa: F401 - a session fixture for every test
from support.soketi import SOKETI_SERVER_JS, Soketi, soketi_installed


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
