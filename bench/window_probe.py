"""Run the real Login Feed window with an event-loop probe, for ``bench/window_burst.py``.

    QT_QPA_PLATFORM=offscreen LOGIN_FEED_PUSHER_SECRET=app-secret \\
        .venv/bin/python bench/window_probe.py --config CFG --data-dir DIR [--stack-sampler] [--profile OUT.prof]

It builds the window exactly as ``login-feed`` does (``desktop.app.LoginFeedApp`` with the app's own SIGINT and
SIGTERM handlers: the window closes, the history is flushed, exit 0) and adds, on the GUI thread:

* a probe: a precise ``QTimer`` every ``--interval-ms`` (10 ms). Each gap between two ticks is recorded in a
  histogram (1 ms buckets up to 2 s); every gap longer than ``--stall-ms`` (50 ms) is listed with its time;
* a status line on stdout every ``--status-ms`` (200 ms): connection state, subscribed, model rows, history
  writer counters, the probe so far, thread names (the harness samples RSS and per-thread CPU itself);
* timing of ``FeedPanel.add_events`` (the one way rows get into the window: history restore and live batches)
  and of ``ChatPanel.handle_events`` (which receives every engine batch);
* the duration of every cyclic garbage collection (in any thread: a collection stops them all).

Experiments that leave ``desktop/`` untouched: ``--preload FILE`` (run before the app is built, e.g. to patch a
function with a candidate fix), ``--gc-threshold A,B,C``, ``--switch-interval S``.

With ``--stack-sampler`` a watchdog thread samples the GUI thread's Python stack every 5 ms while the probe is
late by more than ``--stall-ms``, so each stall comes with where the GUI thread was. ``--profile`` runs cProfile
on the GUI thread (only that thread) from ``app.start()`` to the end, and writes the stats to the file.

stdout: JSON lines, ``{"kind": "status", ...}`` while running, then one ``{"kind": "final", ...}`` after the
event loop has returned (after SIGTERM). Gaps after SIGTERM (the shutdown itself) are reported apart.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import gc
import json
import os
import runpy
import signal
import sys
import threading
import time
import traceback
from collections import Counter
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from PySide6.QtCore import Qt, QTimer  # noqa: E402

from desktop import app as desktop_app  # noqa: E402
from desktop import resources  # noqa: E402
from desktop.config import load_config  # noqa: E402
from desktop.log import setup_logging  # noqa: E402
from desktop.ui.startup import tune_gc, window_qapp  # noqa: E402
from desktop.util.signals import install_stop_handler, keep_python_awake  # noqa: E402

HISTOGRAM_MS = 2000  # 1 ms buckets 0..1999, then one overflow bucket


def emit(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj, separators=(",", ":")) + "\n")
    sys.stdout.flush()


class LoopProbe:
    """Measures how late a periodic timer fires on the GUI thread."""

    def __init__(self, interval_ms: int, stall_ms: float) -> None:
        self.interval_ms = interval_ms
        self.stall_ms = stall_ms
        self.t0 = time.perf_counter()
        self.wall0 = time.time()
        self.last = self.t0
        self.ticks = 0
        self.histogram = [0] * (HISTOGRAM_MS + 1)
        self.max_gap_ms = 0.0
        self.max_gap_at = 0.0
        self.stalls: list[dict[str, float]] = []  # gaps > stall_ms before the stop request
        self.per_second: dict[int, float] = {}  # whole second of the probe clock -> largest gap ending in it
        self.stop_at: float | None = None  # perf_counter of SIGTERM
        self.after_stop: list[float] = []  # gaps (ms) after SIGTERM: the shutdown itself
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)

    def start(self) -> None:
        self.last = time.perf_counter()
        self.timer.start()

    def _tick(self) -> None:
        now = time.perf_counter()
        gap_ms = (now - self.last) * 1000.0
        self.last = now
        if self.stop_at is not None:
            self.after_stop.append(round(gap_ms, 2))
            return
        self.ticks += 1
        self.histogram[min(int(gap_ms), HISTOGRAM_MS)] += 1
        second = int(now - self.t0)
        if gap_ms > self.per_second.get(second, 0.0):
            self.per_second[second] = gap_ms
        if gap_ms > self.max_gap_ms:
            self.max_gap_ms = gap_ms
            self.max_gap_at = now - self.t0
        if gap_ms > self.stall_ms:
            # the stall began when the previous tick was due: end - gap
            self.stalls.append({"end_s": round(now - self.t0, 4), "gap_ms": round(gap_ms, 2),
                                "end_wall": round(self.wall0 + (now - self.t0), 4)})

    def report(self) -> dict[str, Any]:
        return {
            "interval_ms": self.interval_ms,
            "ticks": self.ticks,
            "max_gap_ms": round(self.max_gap_ms, 2),
            "max_gap_at_s": round(self.max_gap_at, 3),
            "histogram_ms": {str(i): n for i, n in enumerate(self.histogram) if n},
            "stalls": self.stalls,
            "max_gap_per_second_ms": {str(k): round(v, 2) for k, v in sorted(self.per_second.items())},
            "shutdown_gaps_ms": self.after_stop[:50],
            "t0_wall": self.wall0,
        }


class StackSampler(threading.Thread):
    """While the probe is late, sample the GUI thread's Python stack every ``period`` seconds."""

    def __init__(self, probe: LoopProbe, main_ident: int, threshold_ms: float, period: float = 0.005) -> None:
        super().__init__(name="probe-stack-sampler", daemon=True)
        self.probe = probe
        self.main_ident = main_ident
        self.threshold = threshold_ms / 1000.0
        self.period = period
        self.samples: Counter[tuple[str, ...]] = Counter()
        self.per_stall: list[dict[str, Any]] = []
        self._stop = threading.Event()

    def run(self) -> None:
        current: dict[str, Any] | None = None
        while not self._stop.wait(self.period):
            late = time.perf_counter() - self.probe.last
            if late <= self.threshold or self.probe.stop_at is not None:
                current = None
                continue
            frame = sys._current_frames().get(self.main_ident)
            if frame is None:
                continue
            stack = tuple(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in traceback.extract_stack(frame))
            del frame
            key = stack[-14:]
            self.samples[key] += 1
            if current is None or current["since"] != self.probe.last:
                current = {"since": self.probe.last, "at_s": round(self.probe.last - self.probe.t0, 4),
                           "stacks": Counter()}
                self.per_stall.append(current)
            current["stacks"][key[-6:]] += 1

    def stop(self) -> None:
        self._stop.set()

    def report(self) -> dict[str, Any]:
        top = [{"samples": n, "stack": list(stack)} for stack, n in self.samples.most_common(12)]
        stalls = []
        for stall in self.per_stall[:60]:
            stacks = stall["stacks"].most_common(3)
            stalls.append({"at_s": stall["at_s"], "samples": sum(stall["stacks"].values()),
                           "top": [{"samples": n, "stack": list(s)} for s, n in stacks]})
        return {"period_ms": self.period * 1000, "top": top, "stalls": stalls}


class GcWatch:
    """Times every cyclic garbage collection (any thread: a collection holds the GIL, so it stops every
    Python thread, the GUI thread included, while it runs)."""

    def __init__(self) -> None:
        self.started = 0.0
        self.count = [0, 0, 0]
        self.total = [0.0, 0.0, 0.0]
        self.max = [0.0, 0.0, 0.0]
        self.long: list[dict[str, Any]] = []  # collections over 10 ms
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self.started = time.perf_counter()
            return
        spent = time.perf_counter() - self.started
        gen = info.get("generation", 0)
        self.count[gen] += 1
        self.total[gen] += spent
        self.max[gen] = max(self.max[gen], spent)
        if spent > 0.01 and len(self.long) < 500:
            self.long.append({"end": time.perf_counter(), "gen": gen, "ms": round(spent * 1000, 2),
                              "collected": info.get("collected", 0), "thread": threading.current_thread().name})

    def report(self, t0: float, wall0: float) -> dict[str, Any]:
        return {
            "collections": self.count, "total_ms": [round(t * 1000, 1) for t in self.total],
            "max_ms": [round(t * 1000, 2) for t in self.max],
            "long": [{**{k: v for k, v in c.items() if k != "end"}, "end_wall": round(wall0 + (c["end"] - t0), 4)}
                     for c in self.long],
            "tracked_objects_at_end": len(gc.get_objects()),
        }


class Timed:
    """Wraps a callable and accumulates its duration (for ``FeedPanel.add_events``)."""

    def __init__(self, fn: Any) -> None:
        self.fn = fn
        self.calls = 0
        self.rows = 0
        self.total = 0.0
        self.max = 0.0
        self.max_rows = 0
        self.first_end: float | None = None
        self.first_rows = 0
        self.first_ms = 0.0
        self.slow: list[dict[str, float]] = []  # calls over 20 ms: when they ended, how long, how many rows
        self.log: list[tuple[float, float, int]] = []  # every call (first 5000): end, seconds, rows

    def __call__(self, events: Any) -> Any:
        started = time.perf_counter()
        try:
            return self.fn(events)
        finally:
            ended = time.perf_counter()
            spent = ended - started
            count = len(events) if hasattr(events, "__len__") else 0
            self.calls += 1
            self.rows += count
            self.total += spent
            if spent > self.max:
                self.max, self.max_rows = spent, count
            if len(self.log) < 5000:
                self.log.append((ended, spent, count))
            if spent > 0.02 and len(self.slow) < 500:
                self.slow.append({"end": ended, "ms": round(spent * 1000, 2), "rows": count})
            if self.first_end is None:
                self.first_end, self.first_rows, self.first_ms = ended, count, spent * 1000

    def report(self, t0: float, wall0: float) -> dict[str, Any]:
        return {
            "calls": self.calls, "rows": self.rows, "total_ms": round(self.total * 1000, 1),
            "max_ms": round(self.max * 1000, 2), "max_call_rows": self.max_rows,
            "first_call_end_s": None if self.first_end is None else round(self.first_end - t0, 4),
            "first_call_end_wall": None if self.first_end is None else wall0 + (self.first_end - t0),
            "first_call_rows": self.first_rows, "first_call_ms": round(self.first_ms, 2),
            "slow_calls": [{"end_wall": round(wall0 + (c["end"] - t0), 4), "ms": c["ms"], "rows": c["rows"]}
                           for c in self.slow],
            "log": [[round(wall0 + (end - t0), 4), round(spent * 1000, 2), rows] for end, spent, rows in self.log],
        }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Run the Login Feed window with an event-loop probe.")
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--interval-ms", type=int, default=10)
    parser.add_argument("--stall-ms", type=float, default=50.0)
    parser.add_argument("--status-ms", type=int, default=200)
    parser.add_argument("--stack-sampler", action="store_true")
    parser.add_argument("--profile", type=Path, help="cProfile the GUI thread into this file")
    parser.add_argument("--preload", type=Path, action="append", default=[],
                        help="experiment: run this Python file before the app is built (e.g. to try a candidate fix "
                        "by patching a function); repeatable")
    parser.add_argument("--gc-threshold", help="experiment: gc.set_threshold(A,B,C) at start (default 700,10,10)")
    parser.add_argument("--switch-interval", type=float,
                        help="experiment: sys.setswitchinterval(S) (CPython's default is 0.005 s)")
    parser.add_argument("-v", "--verbose", action="count", default=0)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    process_t0 = time.perf_counter()
    gc_watch = GcWatch()
    if args.switch_interval:
        sys.setswitchinterval(args.switch_interval)
    if args.gc_threshold:
        gc.set_threshold(*(int(x) for x in args.gc_threshold.split(",")))
    setup_logging(args.verbose)
    for path in args.preload:
        runpy.run_path(str(path), run_name="__preload__")
    qapp = window_qapp()  # as run_window does
    data_dir = resources.data_dir(args.data_dir)
    config = load_config(args.config, os.environ)

    app = desktop_app.LoginFeedApp(qapp, config, data_dir)
    # as run_window does: SIGTERM closes the window (history flushed), Python wakes up for signals
    install_stop_handler(lambda _name: QTimer.singleShot(0, app.window.close))
    keep_python_awake(app.window)
    probe = LoopProbe(args.interval_ms, args.stall_ms)
    timed = Timed(app.feed.add_events)
    app.feed.add_events = timed  # type: ignore[method-assign]
    # the chat panel gets the chat and presence events of each batch (PusherBridge.chat_events): count, time them
    chat_timed = Timed(app.chat.handle_events)
    app.chat.handle_events = chat_timed  # type: ignore[method-assign]

    app_signal = signal.getsignal(signal.SIGTERM)

    def on_term(signum: int, frame: Any) -> None:
        if probe.stop_at is None:
            probe.stop_at = time.perf_counter()
        if callable(app_signal):
            app_signal(signum, frame)

    signal.signal(signal.SIGTERM, on_term)

    channel = config.feed.channel

    def status() -> None:
        client = app.client
        handle = client.channel(channel) if client is not None else None
        stats = app.history.stats
        emit({
            "kind": "status",
            "t": round(time.perf_counter() - probe.t0, 3),
            "state": client.state.value if client is not None else "none",
            "subscribed": bool(handle is not None and handle.subscribed),
            "rows": app.feed.model.rowCount(),
            "max_rows": app.feed.model.max_rows,
            "written": stats.written,
            "pending": stats.pending,
            "dropped": stats.dropped,
            "add_events_calls": timed.calls,
            "add_events_rows": timed.rows,
            "max_gap_ms": round(probe.max_gap_ms, 2),
            "stalls": len(probe.stalls),
            "restored": timed.first_end is not None,
            "restore_rows": timed.first_rows,
            "threads": {str(t.native_id): t.name for t in threading.enumerate() if t.native_id is not None},
        })

    status_timer = QTimer()
    status_timer.setInterval(args.status_ms)
    status_timer.timeout.connect(status)

    sampler: StackSampler | None = None
    if args.stack_sampler:
        sampler = StackSampler(probe, threading.main_thread().ident or 0, args.stall_ms)
    profiler = cProfile.Profile() if args.profile else None

    start_t = time.perf_counter()
    if profiler is not None:
        profiler.enable()
    app.start()
    if not args.gc_threshold:
        _collector = tune_gc(app.window)  # as run_window does for `login-feed` (kept alive by the window)
    started_t = time.perf_counter()
    probe.start()
    status_timer.start()
    if sampler is not None:
        sampler.start()
    emit({"kind": "started", "pid": os.getpid(), "startup_s": round(started_t - process_t0, 3),
          "app_start_ms": round((started_t - start_t) * 1000, 1), "probe_t0_wall": probe.wall0})
    code = qapp.exec()
    ended = time.perf_counter()
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(str(args.profile))
    if sampler is not None:
        sampler.stop()
    status_timer.stop()
    probe.timer.stop()
    stats = app.history.stats
    final: dict[str, Any] = {
        "kind": "final",
        "threads": {str(t.native_id): t.name for t in threading.enumerate() if t.native_id is not None},
        "exit_code": code,
        "probe": probe.report(),
        "shutdown_ms": None if probe.stop_at is None else round((ended - probe.stop_at) * 1000, 1),
        "rows": app.feed.model.rowCount(),
        "max_rows": app.feed.model.max_rows,
        "history": {"written": stats.written, "pending": stats.pending, "dropped": stats.dropped,
                    "peak_pending": stats.peak_pending, "transactions": stats.transactions,
                    "last_error": stats.last_error, "closed": app.history.closed},
        "add_events": timed.report(probe.t0, probe.wall0),
        "gc": gc_watch.report(probe.t0, probe.wall0),
        "gc_threshold": gc.get_threshold(),
        "chat_handle_events": {k: v for k, v in chat_timed.report(probe.t0, probe.wall0).items()
                               if k in ("calls", "rows", "total_ms", "max_ms")},
        "switch_interval": sys.getswitchinterval(),
        "preload": [str(p) for p in args.preload],
        "restore_from_app_start_ms": None if timed.first_end is None else round((timed.first_end - start_t) * 1000, 1),
        "app_start_to_exec_ms": round((started_t - start_t) * 1000, 1),
        "stack_sampler": sampler.report() if sampler is not None else None,
    }
    emit(final)
    with contextlib.suppress(Exception):
        sys.stdout.flush()
    return code


if __name__ == "__main__":
    sys.exit(main())
