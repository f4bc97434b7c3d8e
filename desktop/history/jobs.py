"""What the history writer's queue holds besides events: jobs to run with the store (reads such as the restore,
in queue order after what was submitted before them) and the stop marker; and what becomes of what is still
queued when the writer thread ends (events counted as lost, jobs failed: nobody waits for ever).
"""

from __future__ import annotations

import queue
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from desktop.history.store import HistoryStore

__all__ = ["STOP", "Job", "Stop", "drain"]


class Stop:
    """The marker that ends the writer thread, after everything queued before it."""


STOP = Stop()


@dataclass(slots=True)
class Job:
    """Something to run on the writer thread (with the store), in queue order: e.g. reading the history."""

    call: Callable[[HistoryStore], object]
    future: Future[object]

    def run(self, runner: Callable[[Callable[[HistoryStore], object]], object]) -> None:
        """``runner(call)`` (the keeper's, which lends the store), its result or exception into the future."""
        if not self.future.set_running_or_notify_cancel():
            return
        try:
            self.future.set_result(runner(self.call))
        except Exception as exc:
            self.future.set_exception(exc)


def drain(items: queue.SimpleQueue[Any]) -> int:
    """Empty ``items`` after the writer thread ended: fail each job; returns how many events can never be written."""
    lost = 0
    while True:
        try:
            item = items.get_nowait()
        except queue.Empty:
            break
        if isinstance(item, Job):
            if item.future.set_running_or_notify_cancel():
                item.future.set_exception(RuntimeError("the history is closed"))
        elif isinstance(item, list):
            lost += len(item)
    return lost
