"""What the two benchmarks share: the channel and event, the harness error, and the app's config file."""

from __future__ import annotations

from pathlib import Path

CHANNEL = "private-login-feed"
EVENT = "user-loggedIn"


class HarnessError(RuntimeError):
    """The benchmark itself failed (as opposed to a subscriber or the window losing events or stalling)."""


def write_config(workdir: Path, port: int, app_key: str) -> Path:
    """A login-feed config for the soketi on ``port``: local signing, the benchmark's feed channel."""
    config = workdir / "login-feed.toml"
    config.write_text(
        "[pusher]\n"
        f'key = "{app_key}"\n'
        'host = "127.0.0.1"\n'
        f"port = {port}\n"
        "tls = false\n"
        'app_id = "1"\n'
        "[authorization]\n"
        'mode = "local"\n'
        "[feed]\n"
        f'channel = "{CHANNEL}"\n',
        encoding="utf-8",
    )
    return config
