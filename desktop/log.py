"""Logging set-up for the command line: everything on stderr, so stdout stays machine-readable.

Qt-free on purpose; the window adds its own Qt message handler.
"""

from __future__ import annotations

import logging
import sys


def setup_logging(verbosity: int) -> None:
    """0: warnings and errors · 1 (-v): what the engine does · 2 (-vv): every detail."""
    level = logging.WARNING if verbosity <= 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # urllib3 logs whole URLs at DEBUG; ours never carry secrets, but keep third parties quieter anyway.
    logging.getLogger("urllib3").setLevel(max(level, logging.INFO))
    logging.getLogger("websocket").setLevel(max(level, logging.WARNING))


def status(message: str) -> None:
    """A line for the person at the terminal (not a log record), shown at every verbosity."""
    print(message, file=sys.stderr, flush=True)
