"""The one way to replace a small file whole: readers see the old text or the new, never half of either.

The text goes to a temporary file beside the target (same directory, so the rename stays on one file system), is
flushed to the disk, and then renamed over the target; a failure on the way removes the temporary file and leaves
the target as it was. Used for the configuration (Settings) and the server's Auth0 catch-up checkpoint.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

__all__ = ["write_atomically"]


def write_atomically(target: Path, text: str) -> None:
    """Replace ``target`` with ``text`` (UTF-8, ``\\n`` line ends); ``OSError`` when it cannot be written."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
