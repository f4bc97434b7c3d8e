"""What the screenshot scripts here share: the folder the images go to, and taking one of the whole screen."""

from __future__ import annotations

import subprocess
from pathlib import Path

HERE = Path(__file__).resolve().parent


def shoot(name: str) -> Path:
    """The X display's root window (run under Xvfb) as ``HERE/name``, with ImageMagick's ``import``."""
    path = HERE / name
    subprocess.run(["import", "-window", "root", str(path)], check=True)  # noqa: S603, S607 - ImageMagick
    return path
