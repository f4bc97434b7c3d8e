"""The cyclic garbage collector runs on the GUI thread only (``desktop.ui.startup.GuiThreadCollector``).

A Qt object whose wrapper sits in a reference cycle must never be destroyed by an engine or writer thread that
happened to allocate when a threshold was crossed: with the collector tuned as the app tunes it, a cycle dropped
on another thread is freed by the GUI thread's timer, not by that thread.
"""

from __future__ import annotations

import gc
import threading

from PySide6.QtCore import QObject

from desktop.ui.startup import GuiThreadCollector


class Cyclic:
    """An object in a reference cycle that records which thread freed it."""

    freed_on: list[str] = []

    def __init__(self) -> None:
        self.me = self

    def __del__(self) -> None:
        Cyclic.freed_on.append(threading.current_thread().name)


def test_a_cycle_dropped_on_another_thread_is_freed_on_the_gui_thread(qtbot) -> None:
    Cyclic.freed_on = []
    owner = QObject()
    collector = GuiThreadCollector(owner, interval_ms=20)
    collector.start()
    assert not gc.isenabled()

    kept: list[object] = []

    def engine_thread() -> None:
        Cyclic()  # dropped at once: only the cyclic collector can free it
        # Containers kept alive count towards the threshold (freed ones do not): far past the first one.
        kept.append([[] for _ in range(3 * GuiThreadCollector.THRESHOLDS[0])])

    worker = threading.Thread(target=engine_thread, name="engine")
    worker.start()
    worker.join()
    assert Cyclic.freed_on == []  # the allocating thread did not collect
    qtbot.waitUntil(lambda: Cyclic.freed_on != [], timeout=30_000)
    assert Cyclic.freed_on == [threading.main_thread().name]
    assert collector.collections[0] >= 1
    kept.clear()
    del owner
