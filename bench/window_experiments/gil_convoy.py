"""The feed model's ranged insert with and without one busy Python thread (the GIL convoy), offscreen.

    .venv/bin/python bench/window_experiments/gil_convoy.py

Inserts 5,000 rows at a time into a full FeedModel (5,000 rows) seen through: nothing, FeedFilterProxy (a
Python ``filterAcceptsRow``), a plain QSortFilterProxyModel (C++ only), and FeedFilterProxy + FeedView; each
alone and while another Python thread runs pure-Python code (as the engine thread does during a burst).
"""

import os
import sys
import threading
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from PySide6.QtCore import QSortFilterProxyModel
from PySide6.QtWidgets import QApplication

from desktop.feed.events import normalise
from desktop.feed.filters import FeedFilterProxy
from desktop.feed.model import FeedModel
from desktop.feed.view import FeedView


def main() -> None:
    app = QApplication.instance() or QApplication([])
    base = time.time()
    events = [normalise("user-loggedIn", "private-login-feed",
                        {"v": 1, "type": "login", "user_id": f"auth0|{i}", "email": f"a{i}@example.com",
                         "name": "Ada", "country": "DE"}, base + i / 17_000) for i in range(30_000)]
    for variant in ("model only", "FeedFilterProxy", "plain QSortFilterProxyModel", "FeedFilterProxy + FeedView"):
        for busy in (False, True):
            model = FeedModel()
            keep: list[object] = []
            if variant != "model only":
                proxy = FeedFilterProxy() if variant.startswith("FeedFilterProxy") else QSortFilterProxyModel()
                proxy.setSourceModel(model)
                keep.append(proxy)
                if variant.endswith("FeedView"):
                    view = FeedView()
                    view.setModel(proxy)
                    view.resize(800, 600)
                    view.show()
                    keep.append(view)
            model.add_events(events[:5000])
            app.processEvents()
            stop = threading.Event()

            def burn(stop: threading.Event = stop) -> None:
                scratch: dict[int, str] = {}
                while not stop.is_set():
                    for i in range(100):
                        scratch[i] = str(i)

            if busy:
                threading.Thread(target=burn, daemon=True).start()
                time.sleep(0.1)
            spent = []
            for k in range(1, 5):
                started = time.perf_counter()
                model.add_events(events[k * 5000:(k + 1) * 5000])
                spent.append((time.perf_counter() - started) * 1000)
            stop.set()
            time.sleep(0.05)
            label = "with a busy thread" if busy else "alone"
            print(f"{variant:28s} {label:18s} add_events(5,000 rows, full model): "
                  + " ".join(f"{ms:6.1f}" for ms in spent) + " ms")
            del keep


if __name__ == "__main__":
    main()
