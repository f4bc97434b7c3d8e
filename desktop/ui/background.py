"""Moved: the window's one task helper is :mod:`desktop.util.tasks` (``run_task``, ``to_main``, ``follow``).

Only ``desktop/feed/catchup_qt.py`` (being written as this moved) still imports this name; once it imports
``run_task`` from ``desktop.util.tasks``, delete this module.
"""

from desktop.util.tasks import run_task as run_in_background

__all__ = ["run_in_background"]
