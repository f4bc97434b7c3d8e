"""Window burst benchmark: a burst of login events through soketi into the running Login Feed window.

    .venv/bin/python bench/window_burst.py [--rate 20000] [--seconds 5] [--triggers 1] [--concurrency 32]
                                           [--pin] [--history-events 100000] [--json PATH]

Phase 1 (burst): one soketi (user authentication off) and the real window (``bench/window_probe.py``: the app
built by ``desktop.app.LoginFeedApp`` on the offscreen platform, local authorization, a fresh data directory)
with a 10 ms timer probe on its GUI thread. Once it is subscribed, a warm-up of 3,000 events, then
``--rate`` x ``--seconds`` events fired by ``--triggers`` parallel ``bench/trigger.mjs`` processes (each a share
of the rate, its own ``bench_phase`` so every event is identified by (phase, seq)). Then wait until the app's
history writer has committed every event sent (or nothing progressed for ``--idle-timeout``), stop the app with
SIGTERM (its own handler: window closed, history flushed; it must exit 0) and count what the history file
holds, by SQL and by ``login-feed export``.

Phase 2 (restore): the same data directory topped up with ``desktop.history.HistoryWriter`` to at least
``--history-events`` (100,000) events, then a fresh window start: restore time, the model's (capped) row count
and the RSS with that history.

Measured: sent, in history, lost, offered rate (what the triggers achieved, not what was asked), the probe's
largest gap and the gaps over 100 ms, RSS sampled every 100 ms (peak), CPU of the app, soketi and triggers.
Diagnostics (see bench/README.md): ``--stack-sampler`` (the GUI thread's Python stack during each stall),
``--profile OUT`` (cProfile of the GUI thread), ``--py-spy OUT`` (every thread, ``--py-spy-native`` for C++ and
GIL waits), and experiments that leave ``desktop/`` untouched: ``--pin``, ``--gc-threshold``,
``--switch-interval``, ``--preload FILE`` (patch a function before the app is built, to try a fix).

Exit status 0 when the run completed (even with losses or stalls: those are measurements), 1 when the harness
failed (soketi did not start, the app did not subscribe or crashed, a trigger failed).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
sys.path.insert(0, str(REPO_ROOT / "tests"))
sys.path.insert(0, str(REPO_ROOT))

from common import CHANNEL, EVENT, HarnessError, write_config  # noqa: E402
from support.soketi import APP_KEY, APP_SECRET, Soketi, SoketiError  # noqa: E402

SUBSCRIBE_TIMEOUT = 30.0
MAX_DRAIN_SECONDS = 180.0
RSS_PERIOD = 0.1
STALL_LIMIT_MS = 100.0



# ---------------------------------------------------------------------------------------------- the window


@dataclass
class RssSample:
    wall: float
    rss: int


@dataclass
class Window:
    """``bench/window_probe.py`` as a subprocess: JSON status lines on stdout, RSS sampled every 100 ms."""

    config: Path
    data_dir: Path
    probe_args: list[str] = field(default_factory=list)
    process: subprocess.Popen[bytes] | None = None
    statuses: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=2000))
    started: dict[str, Any] | None = None
    final: dict[str, Any] | None = None
    rss: list[RssSample] = field(default_factory=list)
    stderr_tail: deque[str] = field(default_factory=lambda: deque(maxlen=200))
    spawned_wall: float = 0.0
    cpus: set[int] | None = None

    def start(self) -> None:
        env = dict(os.environ)
        env.update({"LOGIN_FEED_PUSHER_SECRET": APP_SECRET, "QT_QPA_PLATFORM": "offscreen"})
        command = [sys.executable, str(BENCH_DIR / "window_probe.py"), "--config", str(self.config),
                   "--data-dir", str(self.data_dir), *self.probe_args]
        if self.cpus is not None:  # taskset execs the command: same pid, every thread inherits the mask
            command = ["taskset", "-c", ",".join(map(str, sorted(self.cpus))), *command]
        self.spawned_wall = time.time()
        self.process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        self.ps = psutil.Process(self.process.pid)
        self._stop_sampling = threading.Event()
        self._threads = [
            threading.Thread(target=self._read_stdout, name="window-stdout", daemon=True),
            threading.Thread(target=self._read_stderr, name="window-stderr", daemon=True),
            threading.Thread(target=self._sample_rss, name="window-rss", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def _read_stdout(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for raw in self.process.stdout:
            try:
                obj = json.loads(raw)
            except ValueError:
                self.stderr_tail.append("stdout: " + raw.decode("utf-8", "replace").rstrip())
                continue
            kind = obj.get("kind")
            if kind == "status":
                obj["wall"] = time.time()
                self.statuses.append(obj)
            elif kind == "started":
                self.started = obj
            elif kind == "final":
                self.final = obj

    def _read_stderr(self) -> None:
        assert self.process is not None and self.process.stderr is not None
        for raw in self.process.stderr:
            self.stderr_tail.append(raw.decode("utf-8", "replace").rstrip("\n"))

    def _sample_rss(self) -> None:
        while not self._stop_sampling.is_set():
            try:
                self.rss.append(RssSample(time.time(), self.ps.memory_info().rss))
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                return
            self._stop_sampling.wait(RSS_PERIOD)

    @property
    def status(self) -> dict[str, Any]:
        return self.statuses[-1] if self.statuses else {}

    def check_alive(self) -> None:
        assert self.process is not None
        if self.process.poll() is not None:
            raise HarnessError(f"the window exited with code {self.process.returncode}\n{self.stderr_text()}")

    def wait_for(self, predicate: Any, timeout: float, what: str) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            self.check_alive()
            status = self.status
            if status and predicate(status):
                return status
            if time.monotonic() > deadline:
                raise HarnessError(f"the window did not get {what} within {timeout:g} s (last status {status})\n"
                                   + self.stderr_text())
            time.sleep(0.05)

    def cpu_seconds(self) -> float:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            times = self.ps.cpu_times()
            return times.user + times.system
        return float("nan")

    def thread_cpu(self) -> dict[int, float]:
        """user+sys CPU seconds of each thread of the window process, by native thread id."""
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            return {t.id: t.user_time + t.system_time for t in self.ps.threads()}
        return {}

    def vm_hwm(self) -> int | None:
        """The kernel's peak RSS of the process so far (VmHWM)."""
        with contextlib.suppress(OSError, ValueError, StopIteration):
            status = Path(f"/proc/{self.pid}/status").read_text()
            return int(next(line for line in status.splitlines() if line.startswith("VmHWM:")).split()[1]) * 1024
        return None

    def rss_between(self, start: float, end: float) -> list[int]:
        return [s.rss for s in self.rss if start <= s.wall <= end]

    def stop(self, timeout: float = 60.0) -> tuple[int | None, float]:
        """SIGTERM (the app's own handler), wait for the exit; returns (exit code, seconds it took)."""
        assert self.process is not None
        began = time.monotonic()
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.stderr_tail.append(f"harness: no exit {timeout:g} s after SIGTERM; killed")
                with contextlib.suppress(ProcessLookupError):
                    self.process.kill()
                self.process.wait()
        took = time.monotonic() - began
        self._stop_sampling.set()
        for thread in self._threads:
            thread.join(10)
        return self.process.returncode, took

    def stderr_text(self, lines: int = 30) -> str:
        return "--- window stderr (tail) ---\n" + "\n".join(list(self.stderr_tail)[-lines:])


# ---------------------------------------------------------------------------------------------- triggers


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        raise HarnessError("`node` is not on PATH")
    return node


@dataclass
class TriggerRun:
    phase: str
    count: int
    process: subprocess.Popen[bytes]
    out: Any
    err: Any
    summary: dict[str, Any] | None = None
    ended_wall: float = 0.0
    cpu_seconds: float = 0.0


def run_triggers(port: int, total: int, rate: float, processes: int, *, phase: str, concurrency: int,
                 batch: int) -> dict[str, Any]:
    """Run ``processes`` trigger.mjs in parallel, each ``total/processes`` events at ``rate/processes``.

    Each process gets its own ``bench_phase`` (``<phase>0``, ``<phase>1``...), so (phase, seq) names every event.
    The achieved (offered) rate is the total sent over the span from the earliest trigger's clock start
    (its end minus its own duration) to the last trigger's end, as seen here: conservative.
    """
    node = _node()
    share, extra = divmod(total, processes)
    runs: list[TriggerRun] = []
    for i in range(processes):
        count = share + (1 if i < extra else 0)
        if count <= 0:
            continue
        name = f"{phase}{i}"  # never plain "burst": trigger.mjs leaves bench_phase out for that one
        command = [node, str(BENCH_DIR / "trigger.mjs"), str(port), str(count), f"{rate / processes:g}", "0",
                   CHANNEL, EVENT, "--concurrency", str(concurrency), "--batch", str(batch), "--phase", name]
        out, err = tempfile.TemporaryFile(), tempfile.TemporaryFile()  # noqa: SIM115 - closed below
        process = subprocess.Popen(command, cwd=REPO_ROOT, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        runs.append(TriggerRun(name, count, process, out, err))

    def reap(run: TriggerRun) -> None:
        _pid, status, rusage = os.wait4(run.process.pid, 0)
        run.ended_wall = time.time()
        run.process.returncode = os.waitstatus_to_exitcode(status)
        run.cpu_seconds = rusage.ru_utime + rusage.ru_stime

    launched = time.time()
    reapers = [threading.Thread(target=reap, args=(run,), daemon=True) for run in runs]
    for thread in reapers:
        thread.start()
    for thread in reapers:
        thread.join()
    failures = []
    for run in runs:
        run.out.seek(0)
        run.err.seek(0)
        stdout = run.out.read().decode("utf-8", "replace")
        stderr = run.err.read().decode("utf-8", "replace")
        run.out.close()
        run.err.close()
        try:
            run.summary = json.loads(stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            failures.append(f"{run.phase}: exit {run.process.returncode}, no summary: {stdout} {stderr}")
            continue
        if run.summary.get("failed"):
            failures.append(f"{run.phase}: {run.summary['failed']} events failed: {run.summary.get('errors')}")
    if failures:
        raise HarnessError("trigger.mjs failed:\n" + "\n".join(failures))
    sent = sum(run.summary["sent"] for run in runs if run.summary)
    clock_start = min(run.ended_wall - run.summary["seconds"] for run in runs if run.summary)
    ended = max(run.ended_wall for run in runs)
    span = max(ended - clock_start, 1e-9)
    return {
        "sent": sent,
        "processes": len(runs),
        "phases": {run.phase: run.count for run in runs},
        "launched_wall": launched,
        "clock_start_wall": clock_start,
        "ended_wall": ended,
        "seconds": span,
        "offered_rate": sent / span,
        "requested_rate": rate,
        "per_process": [{"phase": run.phase, **(run.summary or {}), "cpu_seconds": run.cpu_seconds}
                        for run in runs],
        "cpu_seconds": sum(run.cpu_seconds for run in runs),
        "late_requests": sum((run.summary or {}).get("late_requests", 0) for run in runs),
    }


def start_py_spy(args: argparse.Namespace, pid: int) -> subprocess.Popen[bytes] | None:
    """``py-spy record`` of the window during the burst and the drain (raw collapsed stacks, every thread, idle
    ones too), if ``--py-spy OUT`` was given. Without pausing the process, unless ``--py-spy-native`` (C/C++
    frames too, which py-spy can only read from a paused process)."""
    if not args.py_spy:
        return None
    binary = args.py_spy_bin or shutil.which("py-spy")
    if binary is None:
        raise HarnessError("py-spy not found: pip install --target /tmp/pyspy py-spy and pass --py-spy-bin")
    command = [binary, "record", "--pid", str(pid), "--rate", str(args.py_spy_rate), "--format", "raw", "--output",
               str(args.py_spy), "--threads", "--idle", *(["--native"] if args.py_spy_native else ["--nonblocking"])]
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(0.5)  # attach before the burst starts
    return process


def stop_py_spy(process: subprocess.Popen[bytes], args: argparse.Namespace) -> dict[str, Any]:
    process.send_signal(signal.SIGINT)
    try:
        _, err = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        _, err = process.communicate()
    return {"output": str(args.py_spy), "exit_code": process.returncode,
            "stderr": err.decode("utf-8", "replace")[-2000:]}


# ---------------------------------------------------------------------------------------------- history


def history_counts(data_dir: Path, burst_phase_prefix: str = "burst") -> dict[str, int]:
    """Rows in the history file, and distinct (bench_phase, bench_seq) per phase kind; read-only."""
    path = data_dir / "history.sqlite3"
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        total = db.execute("SELECT count(*) FROM events").fetchone()[0]
        rows = db.execute(
            "SELECT json_extract(data, '$.bench_phase') AS phase, count(*), "
            "count(DISTINCT json_extract(data, '$.bench_seq')) FROM events GROUP BY phase").fetchall()
    finally:
        db.close()
    counts = {"total": total, "burst_rows": 0, "burst_distinct": 0, "warmup": 0, "other": 0}
    for phase, n, distinct in rows:
        if isinstance(phase, str) and phase.startswith(burst_phase_prefix):
            counts["burst_rows"] += n
            counts["burst_distinct"] += distinct
        elif isinstance(phase, str) and phase.startswith("warmup"):
            counts["warmup"] += n
        else:
            counts["other"] += n
    return counts


def export_line_count(data_dir: Path) -> int:
    """``login-feed --data-dir D export | wc -l``."""
    login_feed = Path(sys.executable).parent / "login-feed"
    command = [str(login_feed) if login_feed.exists() else "login-feed", "--data-dir", str(data_dir), "export"]
    lines = 0
    with subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL) as process:
        assert process.stdout is not None
        for chunk in iter(lambda: process.stdout.read(1 << 20), b""):  # type: ignore[union-attr]
            lines += chunk.count(b"\n")
    return lines


_FIRST = ["Ada", "Grace", "Linus", "Margaret", "Ken", "Barbara", "Dennis", "Frances", "Alan", "Radia"]
_LAST = ["Lovelace", "Hopper", "Torvalds", "Hamilton", "Thompson", "Liskov", "Ritchie", "Allen", "Kay", "Perlman"]
_PLACES = [("DE", "Berlin"), ("FR", "Lyon"), ("US", "Austin"), ("JP", "Osaka"), ("BR", "Recife"),
           ("KE", "Nairobi"), ("CA", "Montreal"), ("IN", "Pune")]
_CONNECTIONS = ["google-oauth2", "github", "email"]


def fill_history(data_dir: Path, target: int) -> dict[str, Any]:
    """Top the history up to ``target`` events with ``HistoryWriter`` (the app's own writer), the same v1
    payloads as trigger.mjs (``bench_phase: "fill"``). Returns what was added and how long it took."""
    from desktop.feed.events import normalise  # the harness needs the app's modules only here
    from desktop.history import HistoryWriter, history_path

    before = history_counts(data_dir)["total"]
    missing = max(0, target - before)
    began = time.monotonic()
    if missing:
        writer = HistoryWriter.for_path(history_path(data_dir), keep_days=None)
        at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        now = time.time()
        chunk: list[Any] = []
        for seq in range(missing):
            first = _FIRST[seq % len(_FIRST)]
            country, city = _PLACES[seq % len(_PLACES)]
            payload = {
                "v": 1, "type": "signup" if seq % 10 == 0 else "login", "user_id": f"auth0|{0x64f100000000 + seq:x}",
                "email": f"{first.lower()}{seq % 1000}@example.com",
                "name": f"{first} {_LAST[(seq >> 3) % len(_LAST)]}", "nickname": first.lower(),
                "picture": f"https://s.gravatar.com/avatar/{(seq * 2654435761) & 0xFFFFFFFF:08x}",
                "connection": _CONNECTIONS[seq % len(_CONNECTIONS)], "client_name": "Help Desk",
                "country": country, "city": city, "ip": f"203.0.113.{seq % 250}", "logins_count": 2 + seq % 500,
                "at": at, "updated_at": at, "app_metadata": {"signedUp": seq % 10 == 0},
                "bench_seq": seq, "bench_phase": "fill",
            }
            chunk.append(normalise(EVENT, CHANNEL, payload, now))
            if len(chunk) >= 5000:
                writer.submit(chunk)
                chunk = []
        writer.submit(chunk)
        if not writer.flush(120) or not writer.close(30):
            raise HarnessError("HistoryWriter could not write the fill events")
    return {"before": before, "added": missing, "after": history_counts(data_dir)["total"],
            "seconds": time.monotonic() - began}


# ---------------------------------------------------------------------------------------------- figures


def stall_figures(final: dict[str, Any] | None, start_wall: float, end_wall: float) -> dict[str, Any]:
    """The probe's gaps that ended within [start_wall, end_wall] (the window includes a stall's own length)."""
    if not final:
        return {}
    stalls = final["probe"]["stalls"]
    inside = [s for s in stalls if start_wall <= s["end_wall"] <= end_wall + 0.05]
    over = [s for s in inside if s["gap_ms"] > STALL_LIMIT_MS]
    buckets = {"50-100": 0, "100-200": 0, "200-500": 0, "500+": 0}
    for s in inside:
        gap = s["gap_ms"]
        key = "50-100" if gap <= 100 else "100-200" if gap <= 200 else "200-500" if gap <= 500 else "500+"
        buckets[key] += 1
    probe = final["probe"]
    first = int(start_wall - probe["t0_wall"])
    last = int(end_wall - probe["t0_wall"])
    per_second = [v for k, v in probe["max_gap_per_second_ms"].items() if first <= int(k) <= last]
    return {
        "max_gap_ms": max(per_second, default=None),
        "over_50ms": len(inside),
        "over_100ms": len(over),
        "buckets": buckets,
        "stalls": [{"t_s": round(s["end_wall"] - start_wall, 3), "gap_ms": s["gap_ms"]} for s in inside],
    }


def percentile_gap(final: dict[str, Any] | None, fraction: float) -> float | None:
    """Nearest-rank percentile of every probe gap (1 ms buckets) over the whole session before SIGTERM."""
    if not final:
        return None
    hist = sorted((int(k), v) for k, v in final["probe"]["histogram_ms"].items())
    total = sum(v for _, v in hist)
    if not total:
        return None
    rank = max(1, round(fraction * total + 0.5))
    seen = 0
    for ms, n in hist:
        seen += n
        if seen >= rank:
            return float(ms)
    return float(hist[-1][0])


def mb(value: float | None) -> str:
    return "-" if value is None else f"{value / 1e6:,.0f} MB"


def _comm(pid: int, tid: int) -> str:
    try:
        return Path(f"/proc/{pid}/task/{tid}/comm").read_text().strip()
    except OSError:
        return "?"


def cpu_of(pid: int) -> float:
    with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
        times = psutil.Process(pid).cpu_times()
        return times.user + times.system
    return float("nan")


# ---------------------------------------------------------------------------------------------- phases


def phase_burst(server: Soketi, config: Path, data_dir: Path, args: argparse.Namespace) -> dict[str, Any]:
    window = Window(config, data_dir, probe_args=args.probe_args, cpus=args.window_cpus)
    window.start()
    result: dict[str, Any] = {}
    try:
        status = window.wait_for(lambda s: s["subscribed"], SUBSCRIBE_TIMEOUT, "subscribed")
        print(f"window pid {window.pid} subscribed after {status['t']:.2f} s (probe clock)", flush=True)
        time.sleep(1.0)
        idle_from = time.time()
        time.sleep(1.0)
        result["rss_idle_empty_history"] = max(window.rss_between(idle_from, time.time()), default=None)

        warm = run_triggers(server.port, args.warmup, args.warmup_rate, 1, phase="warmup",
                            concurrency=args.concurrency, batch=args.batch) if args.warmup else {"sent": 0}
        result["warmup"] = warm
        window.wait_for(lambda s: s["written"] >= warm["sent"], 60, f"the {warm['sent']} warm-up events written")
        time.sleep(1.0)

        total = round(args.rate * args.seconds)
        cpu_app0, cpu_soketi0 = window.cpu_seconds(), cpu_of(server.pid)
        threads0 = window.thread_cpu()
        spy = start_py_spy(args, window.pid)
        burst_start = time.time()
        print(f"burst: {total:,} events requested at {args.rate:,.0f}/s by {args.triggers} trigger process(es)",
              flush=True)
        trig = run_triggers(server.port, total, args.rate, args.triggers, phase="burst",
                            concurrency=args.concurrency, batch=args.batch)
        result["trigger"] = trig
        target = warm["sent"] + trig["sent"]
        print(f"   sent {trig['sent']:,} in {trig['seconds']:.2f} s = {trig['offered_rate']:,.0f}/s offered; "
              "waiting for the history to hold them", flush=True)
        # drain: until every sent event is committed, or nothing moved for --idle-timeout seconds
        deadline = time.monotonic() + MAX_DRAIN_SECONDS
        last_written, last_change = -1, time.monotonic()
        outcome = "timeout"
        while time.monotonic() < deadline:
            window.check_alive()
            written = window.status.get("written", 0)
            if written >= target:
                outcome = "complete"
                break
            if written != last_written:
                last_written, last_change = written, time.monotonic()
            elif time.monotonic() - last_change > args.idle_timeout:
                outcome = "idle"
                break
            time.sleep(0.05)
        drained = time.time()
        cpu_app1, cpu_soketi1 = window.cpu_seconds(), cpu_of(server.pid)
        threads1 = window.thread_cpu()
        if spy is not None:
            result["py_spy"] = stop_py_spy(spy, args)
        result["drain"] = {"outcome": outcome, "seconds_after_burst_start": drained - burst_start,
                           "seconds_after_trigger_end": drained - trig["ended_wall"]}
        result["cpu"] = {"app_seconds": cpu_app1 - cpu_app0, "soketi_seconds": cpu_soketi1 - cpu_soketi0,
                         "trigger_seconds": trig["cpu_seconds"], "window_seconds": drained - burst_start}
        time.sleep(1.0)
        quiet_end = time.time()
        result["rss_after_burst"] = max(window.rss_between(quiet_end - 0.5, quiet_end), default=None)
        result["rss_peak_burst_sampled"] = max(window.rss_between(burst_start, quiet_end), default=None)
        result["vm_hwm"] = window.vm_hwm()
        result["status_before_stop"] = dict(window.status)
        result["window_times"] = {"burst_start": burst_start, "drained": drained, "quiet_end": quiet_end}
    finally:
        code, took = window.stop()
    result["exit_code"] = code
    result["stop_seconds"] = took
    result["final"] = window.final
    result["stderr_tail"] = list(window.stderr_tail)[-40:]
    if window.final is None:
        raise HarnessError(f"the window printed no final report (exit {code})\n{window.stderr_text()}")
    times = result["window_times"]
    result["stalls_burst"] = stall_figures(window.final, times["burst_start"], times["quiet_end"])
    result["stalls_session"] = stall_figures(window.final, window.final["probe"]["t0_wall"], times["quiet_end"])
    result["gap_p99_ms"] = percentile_gap(window.final, 0.99)
    names: dict[str, str] = {}
    for status in window.statuses:  # threads come and go: every name seen while it ran
        names.update(status.get("threads", {}))
    names.update(window.final.get("threads", {}))
    names[str(window.pid)] = "GUI (main)"
    per_thread = {}
    for tid, cpu in threads1.items():
        spent = cpu - threads0.get(tid, 0.0)
        if spent >= 0.01:
            name = names.get(str(tid)) or _comm(window.pid, tid)
            per_thread[f"{name} [{tid}]"] = round(spent, 2)
    result["cpu"]["per_thread_seconds"] = dict(sorted(per_thread.items(), key=lambda kv: -kv[1]))
    result["history"] = history_counts(data_dir)
    result["export_lines"] = export_line_count(data_dir) if not args.no_export else None
    return result


def phase_restore(server: Soketi, config: Path, data_dir: Path, args: argparse.Namespace) -> dict[str, Any]:
    fill = fill_history(data_dir, args.history_events)
    print(f"history: {fill['before']:,} events + {fill['added']:,} written with HistoryWriter "
          f"({fill['seconds']:.1f} s) = {fill['after']:,}; starting a fresh window", flush=True)
    window = Window(config, data_dir, probe_args=args.probe_args, cpus=args.window_cpus)
    window.start()
    result: dict[str, Any] = {"fill": fill}
    try:
        status = window.wait_for(lambda s: s["restored"] and s["subscribed"], SUBSCRIBE_TIMEOUT,
                                 "restored and subscribed")
        result["status_restored"] = dict(status)
        time.sleep(2.0)
        steady_from = time.time()
        time.sleep(2.0)
        steady = window.rss_between(steady_from, time.time())
        result["rss_steady"] = max(steady, default=None)
        result["rss_peak_sampled"] = max((s.rss for s in window.rss), default=None)
        result["vm_hwm"] = window.vm_hwm()
        result["status_before_stop"] = dict(window.status)
        result["started"] = window.started
        end = time.time()
    finally:
        code, took = window.stop()
    result["exit_code"] = code
    result["stop_seconds"] = took
    result["final"] = window.final
    result["stderr_tail"] = list(window.stderr_tail)[-40:]
    if window.final is None:
        raise HarnessError(f"the window printed no final report (exit {code})\n{window.stderr_text()}")
    result["stalls_session"] = stall_figures(window.final, window.final["probe"]["t0_wall"], end)
    result["history_after"] = history_counts(data_dir)["total"]
    shown = window.final["add_events"].get("first_call_end_wall")
    result["restore_from_spawn_ms"] = None if shown is None else (shown - window.spawned_wall) * 1000
    return result


# ---------------------------------------------------------------------------------------------- report


def print_report(report: dict[str, Any]) -> None:
    burst, restore = report.get("burst"), report.get("restore")
    print()
    if burst:
        trig = burst["trigger"]
        hist = burst["history"]
        final = burst["final"]
        sent = trig["sent"]
        lost = sent - hist["burst_distinct"]
        st = burst["stalls_burst"]
        ss = burst["stalls_session"]
        print(f"Phase 1: burst of {sent:,} events (~{trig['per_process'][0].get('mean_payload_bytes', 0):.0f} bytes) "
              f"into the window, {trig['processes']} trigger process(es) x {args_c(report)} requests in flight")
        rows = [
            ("events sent (burst)", f"{sent:,}"),
            ("in history (distinct burst events)", f"{hist['burst_distinct']:,}  (rows {hist['burst_rows']:,}; "
                                                   f"file total {hist['total']:,} incl. {hist['warmup']:,} warm-up)"),
            ("lost", f"{lost:,}"),
            ("login-feed export | wc -l", "-" if burst["export_lines"] is None else f"{burst['export_lines']:,}"),
            ("offered rate (achieved by triggers)", f"{trig['offered_rate']:,.0f}/s over {trig['seconds']:.2f} s "
                                                    f"(requested {trig['requested_rate']:,.0f}/s)"),
            ("all committed after trigger end", f"{burst['drain']['seconds_after_trigger_end']:.2f} s "
                                                f"({burst['drain']['outcome']})"),
            ("max event-loop gap (burst+drain)", f"{_ms(st.get('max_gap_ms'))}  (10 ms timer; "
                                                 f"session max {_ms(final['probe']['max_gap_ms'])}, "
                                                 f"p99 {_ms(burst['gap_p99_ms'])})"),
            ("gaps > 100 ms (burst+drain)", f"{st.get('over_100ms', 0)}  (> 50 ms: {st.get('over_50ms', 0)}; "
                                            f"session > 100 ms: {ss.get('over_100ms', 0)})"),
            ("model rows (cap)", f"{final['rows']:,} ({final['max_rows']:,})"),
            ("RSS idle, empty history", mb(burst["rss_idle_empty_history"])),
            ("peak RSS during burst (100 ms samples)", mb(burst["rss_peak_burst_sampled"])
             + f"  (VmHWM {mb(burst['vm_hwm'])})"),
            ("RSS 1 s after the drain", mb(burst["rss_after_burst"])),
            ("history writer", f"written {final['history']['written']:,}, dropped {final['history']['dropped']}, "
                               f"peak pending {final['history']['peak_pending']:,}, "
                               f"{final['history']['transactions']} transactions"),
            ("add_events on the GUI thread", f"{final['add_events']['calls']} calls, "
                                             f"{final['add_events']['total_ms']:,.0f} ms total, max "
                                             f"{final['add_events']['max_ms']:.1f} ms "
                                             f"({final['add_events']['max_call_rows']} rows)"),
            ("CPU during burst+drain", f"app {burst['cpu']['app_seconds']:.2f} s, soketi "
                                       f"{burst['cpu']['soketi_seconds']:.2f} s, triggers "
                                       f"{burst['cpu']['trigger_seconds']:.2f} s in "
                                       f"{burst['cpu']['window_seconds']:.2f} s wall (2 CPUs = "
                                       f"{2 * burst['cpu']['window_seconds']:.1f} CPU s)"),
            ("cyclic GC in the app (gen0/1/2)", "collections {}, total {} ms, max {} ms".format(
                "/".join(map(str, final["gc"]["collections"])), "/".join(f"{t:.0f}" for t in final["gc"]["total_ms"]),
                "/".join(f"{t:.1f}" for t in final["gc"]["max_ms"]))),
            ("chat panel: engine batches on GUI thread",
             "{calls:,} queued calls, {rows:,} events, {total_ms:,.0f} ms".format(**final["chat_handle_events"])),
            ("app CPU by thread", ", ".join(f"{k} {v:.2f} s" for k, v in burst["cpu"]["per_thread_seconds"].items())),
            ("SIGTERM -> exit", f"code {burst['exit_code']}, {burst['stop_seconds']:.2f} s "
                                f"(in-app shutdown {_ms(final['shutdown_ms'])})"),
        ]
        _table(rows)
        over = st.get("over_100ms", 0)
        print(f"  goals: nothing lost {'yes' if lost == 0 else 'NO'} | no event-loop gap > 100 ms "
              f"{'yes' if not over else f'NO ({over})'} | model capped "
              f"{'yes' if final['rows'] <= final['max_rows'] else 'NO'} | {trig['requested_rate']:,.0f}/s offered "
              + ("yes" if trig["offered_rate"] >= 0.975 * trig["requested_rate"]
                 else f"NO (the load generator reached {trig['offered_rate']:,.0f}/s)"))
        if st.get("stalls"):
            shown = ", ".join(f"{s['gap_ms']:.0f} ms @{s['t_s']:.2f}s" for s in st["stalls"][:20])
            print(f"  gaps > 50 ms during burst+drain (time after burst start): {shown}")
    if restore:
        final = restore["final"]
        fr = final["add_events"]
        print(f"\nPhase 2: fresh start with {restore['fill']['after']:,} events in history")
        rows = [
            ("events in history", f"{restore['fill']['after']:,} ({restore['fill']['added']:,} added by "
                                  "HistoryWriter)"),
            ("model rows after restore (cap)", f"{restore['status_restored']['rows']:,} ({final['max_rows']:,})"),
            ("restore: app.start() -> rows shown", _ms(final.get("restore_from_app_start_ms"))),
            ("restore: process spawn -> rows shown", _ms(restore.get("restore_from_spawn_ms"))),
            ("restore add_events on GUI thread", f"{fr['first_call_ms']:.1f} ms for {fr['first_call_rows']:,} rows"),
            ("RSS, restored and idle", mb(restore["rss_steady"]) + f"  (VmHWM {mb(restore['vm_hwm'])})"),
            ("max event-loop gap (whole session)", f"{_ms(final['probe']['max_gap_ms'])}; gaps > 100 ms: "
                                                   f"{restore['stalls_session'].get('over_100ms', 0)}"),
            ("SIGTERM -> exit", f"code {restore['exit_code']}, {restore['stop_seconds']:.2f} s; history after "
                                f"{restore['history_after']:,}"),
        ]
        _table(rows)


def args_c(report: dict[str, Any]) -> int:
    return int(report["args"]["concurrency"])


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f} ms"


def _table(rows: list[tuple[str, str]]) -> None:
    width = max(len(k) for k, _ in rows)
    print("-" * (width + 60))
    for key, value in rows:
        print(f"  {key:<{width}}  {value}")


def versions() -> dict[str, str]:
    import importlib.metadata

    found = {"python": platform.python_version(), "platform": platform.platform(), "cpus": str(os.cpu_count())}
    found["node"] = subprocess.run([_node(), "--version"], capture_output=True, text=True, check=False).stdout.strip()
    for package in ("pusher", "@soketi/soketi"):
        with contextlib.suppress(OSError, ValueError, KeyError):
            meta = json.loads((REPO_ROOT / "node_modules" / package / "package.json").read_text())
            found[f"npm:{package}"] = meta["version"]
    for dist in ("PySide6-Essentials", "login-feed", "psutil", "websocket-client", "orjson"):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            found[f"py:{dist}"] = importlib.metadata.version(dist)
    return found


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=20_000, help="requested events/s (default 20000)")
    parser.add_argument("--seconds", type=float, default=5.0, help="burst length in seconds (default 5)")
    parser.add_argument("--triggers", type=int, default=1,
                        help="parallel trigger.mjs processes (default 1: on 2 CPUs more processes offer less)")
    parser.add_argument("--concurrency", type=int, default=32, help="requests in flight per trigger (default 32)")
    parser.add_argument("--batch", type=int, default=10, help="events per triggerBatch request (default 10)")
    parser.add_argument("--warmup", type=int, default=3000, help="warm-up events before the burst (default 3000)")
    parser.add_argument("--warmup-rate", type=float, default=5000, help="warm-up rate (default 5000/s)")
    parser.add_argument("--soketi-warmup", type=int, default=20_000,
                        help="events sent to nobody before the window starts (default 20000)")
    parser.add_argument("--idle-timeout", type=float, default=10.0,
                        help="stop waiting when the history did not grow for this long (default 10 s)")
    parser.add_argument("--history-events", type=int, default=100_000,
                        help="phase 2: at least this many events in history (default 100000; 0 skips phase 2)")
    parser.add_argument("--no-export", action="store_true", help="skip the `login-feed export | wc -l` check")
    parser.add_argument("--stack-sampler", action="store_true",
                        help="sample the GUI thread's Python stack during stalls (window_probe.py)")
    parser.add_argument("--profile", type=Path, help="cProfile the GUI thread of the phase-1 window into this file")
    parser.add_argument("--py-spy", type=Path, metavar="OUT",
                        help="record the window with py-spy during the burst (collapsed stacks into OUT)")
    parser.add_argument("--py-spy-bin", help="the py-spy executable (default: on PATH)")
    parser.add_argument("--py-spy-rate", type=int, default=200, help="with --py-spy: samples per second (200)")
    parser.add_argument("--py-spy-native", action="store_true",
                        help="with --py-spy: native frames too (py-spy then pauses the process for each sample)")
    parser.add_argument("--pin", action="store_true",
                        help="give the window the last CPU to itself; soketi, the triggers and this harness share "
                        "the others")
    parser.add_argument("--switch-interval", type=float,
                        help="experiment: run the window with sys.setswitchinterval(S) (default: CPython's 0.005)")
    parser.add_argument("--gc-threshold", metavar="A,B,C",
                        help="experiment: run the window with gc.set_threshold(A, B, C) (default: 700,10,10)")
    parser.add_argument("--preload", type=Path, action="append", default=[], metavar="FILE",
                        help="experiment: window_probe.py runs FILE before building the app (try a candidate fix "
                        "by patching a function, without touching desktop/); repeatable")
    parser.add_argument("--keep", type=Path, help="keep the data directory here (default: a temporary one)")
    parser.add_argument("--json", type=Path, help="write every figure to this JSON file")
    args = parser.parse_args(argv)
    if args.rate <= 0 or args.seconds <= 0 or args.triggers <= 0 or not 1 <= args.batch <= 10:
        parser.error("--rate, --seconds, --triggers must be positive and --batch within 1..10")
    args.probe_args = ["--stack-sampler"] if args.stack_sampler else []
    if args.switch_interval:
        args.probe_args += ["--switch-interval", str(args.switch_interval)]
    if args.gc_threshold:
        args.probe_args += ["--gc-threshold", args.gc_threshold]
    for path in args.preload:
        args.probe_args += ["--preload", str(path.resolve())]
    args.window_cpus = None
    if args.pin:
        cpus = sorted(os.sched_getaffinity(0))
        if len(cpus) < 2 or shutil.which("taskset") is None:
            parser.error("--pin needs at least 2 CPUs and `taskset` (util-linux)")
        args.window_cpus = {cpus[-1]}
        os.sched_setaffinity(0, set(cpus[:-1]))  # soketi and the triggers inherit this mask
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    report: dict[str, Any] = {"args": {k: sorted(v) if isinstance(v, set) else str(v) if isinstance(v, Path) else v
                                       for k, v in vars(args).items()},
                              "versions": versions(), "command": " ".join(["bench/window_burst.py", *sys.argv[1:]])}
    failure: str | None = None
    began = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="window-burst-") as tmp, Soketi(user_authentication=False) as server:
            workdir = args.keep or Path(tmp)
            workdir.mkdir(parents=True, exist_ok=True)
            data_dir = workdir / "data"
            config = write_config(workdir, server.port, APP_KEY)
            print(f"soketi on {server.http_url} (pid {server.pid}); data in {data_dir}", flush=True)
            if args.soketi_warmup:
                warm = run_triggers(server.port, args.soketi_warmup, args.rate, args.triggers, phase="soketiwarm",
                                    concurrency=args.concurrency, batch=args.batch)
                print(f"soketi warm-up: {warm['sent']:,} events to nobody at {warm['offered_rate']:,.0f}/s", flush=True)
            if args.profile:
                args.probe_args = [*args.probe_args, "--profile", str(args.profile.resolve())]
            report["burst"] = phase_burst(server, config, data_dir, args)
            if args.profile:
                args.probe_args = [a for a in args.probe_args if a not in ("--profile", str(args.profile.resolve()))]
            if args.history_events:
                report["restore"] = phase_restore(server, config, data_dir, args)
    except (HarnessError, SoketiError, OSError, sqlite3.Error) as exc:
        failure = f"{type(exc).__name__}: {exc}"
    except KeyboardInterrupt:
        failure = "interrupted"
    report["wall_seconds"] = time.monotonic() - began
    report["error"] = failure
    print_report(report)
    print(f"\nwall time {report['wall_seconds']:.1f} s; {os.cpu_count()} CPUs shared by soketi, the triggers, "
          "the window and this harness")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
        print(f"figures written to {args.json}")
    if failure:
        print(f"\nbenchmark failed: {failure}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
