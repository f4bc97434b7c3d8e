"""Where files live: bundled resources (source tree or PyInstaller bundle) and the user's data directory."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

from desktop import APP_NAME


def root() -> Path:
    """``resources/`` next to the package in a source tree, or inside the frozen bundle."""
    frozen = getattr(sys, "_MEIPASS", None)
    if getattr(sys, "frozen", False) and frozen:
        return Path(frozen) / "resources"
    return Path(__file__).resolve().parents[1] / "resources"


def path(*parts: str) -> Path:
    return root().joinpath(*parts)


def data_dir(override: Path | None = None) -> Path:
    """The data directory (history, window state), created private to the user."""
    directory = override or platformdirs.user_data_path(APP_NAME)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    if os.name == "posix":
        directory.chmod(0o700)
    return directory
