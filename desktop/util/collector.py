"""The cyclic garbage collector tuned for a long-lived process that allocates a burst of short-lived objects.

Nearly everything a burst allocates (decoded frames, events, lines) is freed by reference counting the moment
it is written; Python's default thresholds (700, 10, 10) still stop every thread for a collection every 700
allocations and traverse the backlog each time. ``tail`` and the window use the same larger thresholds, and
freeze what start-up built, which lives as long as the process, out of the collector's sight.
"""

from __future__ import annotations

import gc

THRESHOLDS = (50_000, 20, 100)
"""Fewer, larger collections than Python's default (700, 10, 10): measured in ``bench/window_burst.py`` (45-100
ms pauses, several per burst, with the default) and ``bench/burst.py`` (``tail``'s CPU per event)."""


def freeze_startup() -> None:
    """What was built so far lives as long as the process: keep it out of every later collection."""
    gc.freeze()


def tune_for_bursts() -> None:
    """Automatic collection with :data:`THRESHOLDS`, after :func:`freeze_startup` (headless ``tail``)."""
    freeze_startup()
    gc.set_threshold(*THRESHOLDS)
