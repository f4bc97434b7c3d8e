"""``python -m desktop`` and the frozen bundle's entry point (absolute imports, for PyInstaller)."""

import sys

from desktop.cli import main

if __name__ == "__main__":
    sys.exit(main())
