"""Burst benchmark: pusher-js 8.6, Pysher 1.0.8 and ``login-feed tail`` against one soketi, one after another.

    .venv/bin/python bench/burst.py [--events N] [--rate R] [--size BYTES] [--workload v1|legacy|both]
                                    [--subscribers pusherjs,pysher,ours[,baseline] --baseline DIR] [--json PATH]

One soketi (user authentication off, so idle sockets stay open) serves the whole run. Before the first
subscriber, an unmeasured burst with nobody subscribed warms soketi up (a cold soketi is much slower, which
would penalise whichever subscriber goes first). Then, for each subscriber in turn:

1. start it as a subprocess on the workload's channel (``private-login-feed`` for v1, ``auth0`` for the legacy
   profile; both workloads by default, one after the other) and wait for its "subscribed" line on stderr;
2. send a short warm-up burst at the burst rate (``bench_phase: "warmup"``, left out of every figure) and wait
   until it is printed (or the subscriber goes quiet);
3. measure the subscriber's idle CPU for a second (the idle baseline);
4. take a CPU snapshot of the subscriber's process tree, then run ``bench/trigger.mjs`` (Node, npm ``pusher``
   SDK, ``triggerBatch`` of 10 events, 16 requests in flight), which offers N events at R events/s;
5. wait until every sent event has been printed, or until the subscriber has printed nothing for
   ``--idle-timeout`` seconds after the trigger finished; take the CPU snapshot and peak RSS; stop it (SIGTERM)
   and keep reading its stdout to EOF (late lines still count, with their late latency).

Receive times are stamped by this harness: a dedicated thread reads the subscriber's stdout line by line and
stamps ``time.time()`` on each line; the same for all three subscribers, so pipe costs are shared. Every event
carries ``bench_sent_ns`` (wall clock in ns when the trigger built the request carrying it) and ``bench_seq``.
See bench/README.md for the columns and the caveats.

Exit status: 0 when the run completed (even if a subscriber lost events: that is a measurement), 1 when the
harness itself failed (soketi did not start, a subscriber did not subscribe or crashed, a trigger failed).
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import importlib.metadata
import itertools
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
sys.path.insert(0, str(REPO_ROOT / "tests"))

from common import CHANNEL, EVENT, HarnessError, write_config  # noqa: E402
from support.soketi import APP_KEY, APP_SECRET, Soketi, SoketiError  # noqa: E402

SUBSCRIBE_TIMEOUT = 30.0
MAX_DRAIN_SECONDS = 120.0
POLL = 0.01
PIPE_SIZE = 1 << 20

#: The workloads (``--workload``): the feed channel and ``trigger.mjs --workload`` of each.
#: v1: our Action's payload on the private channel; legacy: the original rule's ~330-byte user profile on the
#: original tutorial's public ``auth0`` channel (no signature, a different normalisation path).
WORKLOADS = {"v1": CHANNEL, "legacy": "auth0"}



# ---------------------------------------------------------------------------------------------- subscribers


def _payload_plain(obj: Any) -> Any:
    """pusher-js and Pysher print the event payload itself."""
    return obj


def _payload_ours(obj: Any) -> Any:
    """``login-feed tail --format jsonl`` prints ``{"event", "channel", "type", "data": <payload>, ...}``."""
    if not isinstance(obj, dict):
        return None
    data = obj.get("data")
    if isinstance(data, str):  # tolerate a data string, should tail ever print one
        with contextlib.suppress(ValueError):
            data = json.loads(data)
    return data


@dataclass
class SubscriberSpec:
    name: str
    label: str
    command: list[str]
    subscribed_marker: str
    payload_of: Callable[[Any], Any]
    env: dict[str, str] = field(default_factory=dict)
    note: str = ""


def _venv_script(name: str) -> str:
    candidate = Path(sys.executable).parent / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if found is None:
        raise HarnessError(f"`{name}` not found next to {sys.executable} nor on PATH")
    return found


def build_specs(port: int, workdir: Path, channel: str = CHANNEL,
                baseline: Path | None = None) -> dict[str, SubscriberSpec]:
    node = shutil.which("node")
    if node is None:
        raise HarnessError("`node` is not on PATH")
    config = write_config(workdir, port, APP_KEY)
    data_dir = workdir / "login-feed-data"
    data_dir.mkdir(exist_ok=True)
    specs = {
        "pusherjs": SubscriberSpec(
            name="pusherjs",
            label="pusher-js 8.6 (Node)",
            command=[node, str(BENCH_DIR / "pusherjs_subscriber.mjs"), str(port), channel, EVENT],
            subscribed_marker="SUBSCRIBED",
            payload_of=_payload_plain,
        ),
        "pysher": SubscriberSpec(
            name="pysher",
            label="pysher 1.0.8",
            command=[sys.executable, str(BENCH_DIR / "pysher_subscriber.py"), str(port), channel, EVENT],
            subscribed_marker="SUBSCRIBED",
            payload_of=_payload_plain,
        ),
        "ours": SubscriberSpec(
            name="ours",
            label="login-feed tail",
            command=[
                _venv_script("login-feed"),
                "--config", str(config),
                "--data-dir", str(data_dir),
                "tail", "--format", "jsonl", "--channel", channel,
            ],
            subscribed_marker=f"subscribed to {channel}",
            payload_of=_payload_ours,
            env={"LOGIN_FEED_PUSHER_SECRET": APP_SECRET, "QT_QPA_PLATFORM": "offscreen"},
        ),
    }
    if baseline is not None:  # the same command on another revision's desktop/ (ahead on PYTHONPATH)
        ours = specs["ours"]
        specs["baseline"] = SubscriberSpec(
            name="baseline", label="login-feed tail, baseline", command=ours.command,
            subscribed_marker=ours.subscribed_marker, payload_of=_payload_ours,
            env={**ours.env, "PYTHONPATH": str(baseline)}, note=str(baseline),
        )
    return specs


class RunningSubscriber:
    """A subscriber subprocess whose stdout lines are stamped on arrival by a dedicated thread."""

    def __init__(self, spec: SubscriberSpec, cpus: set[int] | None = None) -> None:
        self.spec = spec
        env = dict(os.environ)
        env.update(spec.env)
        command = spec.command
        if cpus is not None:
            # taskset execs the command (same pid), and every thread the subscriber starts inherits the mask.
            command = ["taskset", "-c", ",".join(map(str, sorted(cpus))), *command]
        self.process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        # A 1 MB pipe (Linux's default ceiling, fs.pipe-max-size) instead of 64 KB: a moment in which this harness
        # is not scheduled then never blocks the subscriber's writes (which would stall its socket reading).
        with contextlib.suppress(OSError, AttributeError):
            fcntl.fcntl(self.process.stdout.fileno(), fcntl.F_SETPIPE_SZ, PIPE_SIZE)  # type: ignore[union-attr]
        self.ps = psutil.Process(self.process.pid)
        self.stamps: list[float] = []
        self.lines: list[bytes] = []
        self.stderr_tail: deque[str] = deque(maxlen=200)
        self.subscribed = threading.Event()
        self._stdout_thread = threading.Thread(target=self._read_stdout, name=f"{spec.name}-stdout", daemon=True)
        self._stderr_thread = threading.Thread(target=self._read_stderr, name=f"{spec.name}-stderr", daemon=True)
        self._stdout_thread.start()
        self._stderr_thread.start()

    def _read_stdout(self) -> None:
        stdout = self.process.stdout
        assert stdout is not None
        stamps = self.stamps
        lines = self.lines
        clock = time.time
        for line in stdout:  # binary, buffered: one readline per line, stamped as soon as it is read
            stamps.append(clock())
            lines.append(line)

    def _read_stderr(self) -> None:
        stderr = self.process.stderr
        assert stderr is not None
        marker = self.spec.subscribed_marker
        for raw in stderr:
            text = raw.decode("utf-8", "replace").rstrip("\n")
            self.stderr_tail.append(text)
            if marker in text:
                self.subscribed.set()

    @property
    def count(self) -> int:
        return len(self.lines)

    @property
    def last_stamp(self) -> float | None:
        return self.stamps[-1] if self.stamps else None

    def tree(self) -> list[psutil.Process]:
        try:
            return [self.ps, *self.ps.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def cpu_seconds(self) -> float:
        """user+sys CPU of the process tree (children that already exited and were reaped included)."""
        total = 0.0
        for proc in self.tree():
            with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
                times = proc.cpu_times()
                total += times.user + times.system + times.children_user + times.children_system
        return total

    def peak_rss(self) -> int:
        """Sum over the tree of each process's peak RSS (VmHWM); the current RSS where VmHWM is unavailable."""
        total = 0
        for proc in self.tree():
            try:
                status = Path(f"/proc/{proc.pid}/status").read_text()
                hwm = next((line for line in status.splitlines() if line.startswith("VmHWM:")), None)
                total += int(hwm.split()[1]) * 1024 if hwm else proc.memory_info().rss
            except (OSError, psutil.NoSuchProcess, ValueError):
                with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
                    total += proc.memory_info().rss
        return total

    def wait_subscribed(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not self.subscribed.wait(0.05):
            if self.process.poll() is not None:
                raise HarnessError(
                    f"{self.spec.label} exited with code {self.process.returncode} before subscribing\n"
                    + self.stderr_text()
                )
            if time.monotonic() > deadline:
                raise HarnessError(f"{self.spec.label} did not subscribe within {timeout:g} s\n" + self.stderr_text())

    def stop(self, timeout: float = 10.0) -> int | None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    self.process.kill()
                self.process.wait()
        self._stdout_thread.join(10)
        self._stderr_thread.join(10)
        return self.process.returncode

    def stderr_text(self, lines: int = 30) -> str:
        tail = list(self.stderr_tail)[-lines:]
        return "--- stderr (tail) ---\n" + "\n".join(tail)


# ---------------------------------------------------------------------------------------------- trigger


def run_trigger(port: int, count: int, rate: float, size: int, *, phase: str, concurrency: int,
                batch: int, workload: str = "v1") -> dict[str, Any]:
    """Run bench/trigger.mjs to completion; return its JSON summary plus its own CPU time (from wait4)."""
    node = shutil.which("node")
    if node is None:
        raise HarnessError("`node` is not on PATH")
    command = [
        node, str(BENCH_DIR / "trigger.mjs"), str(port), str(count), f"{rate:g}", str(size), WORKLOADS[workload],
        EVENT, "--concurrency", str(concurrency), "--batch", str(batch), "--phase", phase, "--workload", workload,
    ]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen(command, cwd=REPO_ROOT, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        _pid, status, rusage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
    try:
        summary: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    except (ValueError, IndexError) as exc:
        raise HarnessError(
            f"trigger.mjs ({phase}) exited with {process.returncode} and no summary:\n{stdout}\n{stderr}"
        ) from exc
    if summary.get("failed"):
        raise HarnessError(f"trigger.mjs ({phase}): {summary['failed']} events failed: {summary.get('errors')}")
    summary["cpu_seconds"] = rusage.ru_utime + rusage.ru_stime
    return summary


# ---------------------------------------------------------------------------------------------- measuring


def _percentile(sorted_values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return None
    rank = max(1, min(len(sorted_values), round(fraction * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


def _wait_for_lines(sub: RunningSubscriber, target: int, idle_timeout: float, not_before: float) -> str:
    """Wait until ``sub`` printed ``target`` lines, or printed nothing for ``idle_timeout`` s after ``not_before``.

    Returns "complete", "idle" or "exited".
    """
    deadline = time.monotonic() + MAX_DRAIN_SECONDS
    while True:
        if sub.count >= target:
            return "complete"
        if sub.process.poll() is not None:
            return "exited"
        last = sub.last_stamp
        quiet_since = max(not_before, last) if last is not None else not_before
        if time.time() - quiet_since >= idle_timeout:
            return "idle"
        if time.monotonic() > deadline:
            return "idle"
        time.sleep(POLL)


def analyse(sub: RunningSubscriber, first_line: int, sent: int, raw_path: Path | None = None) -> dict[str, Any]:
    """Turn the stamped lines from ``first_line`` on into the figures of one subscriber.

    With ``raw_path``, also write one CSV row per burst event: seq, sent time, receive time (both Unix s), latency.
    """
    payload_of = sub.spec.payload_of
    latencies: list[float] = []
    seqs: list[int] = []
    stamps: list[float] = []
    other = 0
    warmup_late = 0
    raw_rows: list[str] | None = ["seq,sent_s,received_s,latency_ms\n"] if raw_path else None
    for stamp, raw in zip(sub.stamps[first_line:], sub.lines[first_line:], strict=False):
        try:
            payload = payload_of(json.loads(raw))
            seq = int(payload["bench_seq"])
            sent_ns = int(payload["bench_sent_ns"])
        except (ValueError, TypeError, KeyError):
            other += 1
            continue
        if payload.get("bench_phase") == "warmup":
            warmup_late += 1
            continue
        seqs.append(seq)
        stamps.append(stamp)
        latencies.append((stamp - sent_ns / 1e9) * 1000.0)
        if raw_rows is not None:
            raw_rows.append(f"{seq},{sent_ns / 1e9:.6f},{stamp:.6f},{latencies[-1]:.3f}\n")

    if raw_path is not None and raw_rows is not None:
        raw_path.parent.mkdir(parents=True, exist_ok=True)
        raw_path.write_text("".join(raw_rows), encoding="utf-8")
    unique = set(seqs)
    received = len(unique)
    missing = sorted(set(range(sent)) - unique)
    reordered = sum(1 for a, b in itertools.pairwise(seqs) if b < a)
    if not missing:
        loss_pattern = "none"
    elif unique == set(range(min(missing))):
        loss_pattern = f"contiguous prefix: seq 0..{min(missing) - 1} arrived, nothing after"
    else:
        gaps = sum(1 for a, b in itertools.pairwise(missing) if b != a + 1) + 1
        loss_pattern = f"{gaps} gap(s), first missing seq {missing[0]}, last {missing[-1]}"
    duration = (max(stamps) - min(stamps)) if len(stamps) > 1 else 0.0
    ordered = sorted(latencies)
    return {
        "received": received,
        "lost": len(missing),
        "duplicates": len(seqs) - received,
        "reordered": reordered,
        "other_lines": other,
        "late_warmup_lines": warmup_late,
        "loss_pattern": loss_pattern,
        "receive_seconds": duration,
        "events_per_second": received / duration if duration > 0 else None,
        "latency_ms": {
            "p50": _percentile(ordered, 0.50),
            "p90": _percentile(ordered, 0.90),
            "p99": _percentile(ordered, 0.99),
            "max": ordered[-1] if ordered else None,
            "min": ordered[0] if ordered else None,
        },
    }


def measure_subscriber(spec: SubscriberSpec, server: Soketi, args: argparse.Namespace) -> dict[str, Any]:
    print(f"\n== {spec.label}: starting", flush=True)
    started = time.monotonic()
    sub = RunningSubscriber(spec, args.subscriber_cpus)
    soketi_ps = psutil.Process(server.pid) if server.pid else None
    try:
        sub.wait_subscribed(SUBSCRIBE_TIMEOUT)
        print(f"   subscribed after {time.monotonic() - started:.2f} s", flush=True)

        if args.warmup:
            run_trigger(server.port, args.warmup, args.warmup_rate, args.size, phase="warmup",
                        concurrency=args.concurrency, batch=args.batch, workload=args.workload)
            outcome = _wait_for_lines(sub, args.warmup, args.idle_timeout, time.time())
            if outcome != "complete":
                print(f"   warning: warm-up {outcome} with {sub.count}/{args.warmup} lines", flush=True)
        time.sleep(0.2)

        idle_cpu0 = sub.cpu_seconds()
        time.sleep(args.idle_seconds)
        idle_rate = max(0.0, (sub.cpu_seconds() - idle_cpu0) / args.idle_seconds)

        first_line = sub.count
        soketi_cpu0 = sum(soketi_ps.cpu_times()[:2]) if soketi_ps else 0.0
        cpu0 = sub.cpu_seconds()
        window0 = time.monotonic()
        trigger = run_trigger(server.port, args.events, args.rate, args.size, phase="burst",
                              concurrency=args.concurrency, batch=args.batch, workload=args.workload)
        print(
            f"   trigger: sent {trigger['sent']} in {trigger['seconds']:.2f} s "
            f"({trigger['achieved_rate']:,.0f} ev/s offered), waiting for the subscriber",
            flush=True,
        )
        outcome = _wait_for_lines(sub, first_line + trigger["sent"], args.idle_timeout, time.time())
        cpu1 = sub.cpu_seconds()
        window = time.monotonic() - window0
        soketi_cpu = (sum(soketi_ps.cpu_times()[:2]) if soketi_ps else 0.0) - soketi_cpu0
        peak_rss = sub.peak_rss()
        load = os.getloadavg()[0]  # the machine's 1-minute load when the burst ended: figures move with it
        exited_early = sub.process.poll() is not None
    except BaseException:
        sub.stop(5)
        raise
    code = sub.stop()
    if exited_early:
        raise HarnessError(f"{spec.label} exited with code {code} during the burst\n" + sub.stderr_text())

    raw_path = args.raw / f"{args.workload}-{spec.name}.csv" if args.raw else None
    result = analyse(sub, first_line, trigger["sent"], raw_path)
    cpu_raw = cpu1 - cpu0
    cpu_net = max(0.0, cpu_raw - idle_rate * window)
    received = result["received"]
    result.update(
        {
            "subscriber": spec.name,
            "label": spec.label,
            "command": spec.command,
            "outcome": outcome,
            "exit_code": code,
            "sent": trigger["sent"],
            "trigger": trigger,
            "cpu_window_seconds": window,
            "cpu_seconds_raw": cpu_raw,
            "idle_cpu_seconds_per_second": idle_rate,
            "cpu_seconds": cpu_net,
            "cpu_us_per_event": cpu_net / received * 1e6 if received else None,
            "peak_rss_bytes": peak_rss,
            "load_average": load,
            "soketi_cpu_seconds": soketi_cpu,
            "stderr_tail": list(sub.stderr_tail)[-10:],
        }
    )
    lat = result["latency_ms"]
    print(
        f"   received {received}/{trigger['sent']} ({outcome}); p50 {_fmt(lat['p50'], 2)} ms, "
        f"p99 {_fmt(lat['p99'], 2)} ms; CPU {_fmt(result['cpu_us_per_event'], 1)} us/event; "
        f"load average {load:.1f}",
        flush=True,
    )
    return result


# ---------------------------------------------------------------------------------------------- reporting


def _fmt(value: float | None, digits: int = 1, scale: float = 1.0) -> str:
    return "-" if value is None else f"{value * scale:,.{digits}f}"


def _ratio(ours: float | None, peer: float | None) -> float | None:
    if ours is None or peer is None or peer == 0:
        return None
    return ours / peer


def ratios(results: dict[str, dict[str, Any]], subject: str = "ours") -> dict[str, dict[str, float | None]]:
    ours = results.get(subject)
    out: dict[str, dict[str, float | None]] = {}
    if ours is None:
        return out
    for name, peer in results.items():
        if name == subject:
            continue
        out[name] = {
            "received": _ratio(ours["received"], peer["received"]),
            "cpu_per_event": _ratio(ours["cpu_us_per_event"], peer["cpu_us_per_event"]),
            "p50": _ratio(ours["latency_ms"]["p50"], peer["latency_ms"]["p50"]),
            "p99": _ratio(ours["latency_ms"]["p99"], peer["latency_ms"]["p99"]),
        }
    return out


def print_table(results: dict[str, dict[str, Any]], args: argparse.Namespace, payload_bytes: float | None) -> None:
    size = f"{payload_bytes:.0f}" if payload_bytes else "?"
    print(
        f"\nBurst: {args.events:,} events of ~{size} bytes offered at {args.rate:,.0f}/s "
        f"(triggerBatch x{args.batch}, {args.concurrency} in flight), "
        f"workload {args.workload}, channel {WORKLOADS[args.workload]}"
    )
    header = (
        f"{'subscriber':<22} {'received':>13} {'lost':>6} {'offered/s':>9} {'recv ev/s':>9} "
        f"{'p50 ms':>7} {'p99 ms':>8} {'max ms':>8} {'CPU us/ev':>9} {'peak RSS':>8} {'load':>5}"
    )
    print(header)
    print("-" * len(header))
    for result in results.values():
        lat = result["latency_ms"]
        print(
            f"{result['label']:<22} {result['received']:>6}/{result['sent']:<6} {result['lost']:>6} "
            f"{_fmt(result['trigger']['achieved_rate'], 0):>9} {_fmt(result['events_per_second'], 0):>9} "
            f"{_fmt(lat['p50'], 2):>7} {_fmt(lat['p99'], 2):>8} {_fmt(lat['max'], 1):>8} "
            f"{_fmt(result['cpu_us_per_event'], 1):>9} {result['peak_rss_bytes'] / 2**20:>6.0f}MB "
            f"{result['load_average']:>5.1f}"
        )
    print("sharing the CPUs during each burst (CPU us per event sent):")
    for result in results.values():
        sent = result["sent"] or 1
        print(
            f"  {result['label']:<22} trigger {result['trigger']['cpu_seconds'] / sent * 1e6:5.1f}, "
            f"soketi {result['soketi_cpu_seconds'] / sent * 1e6:5.1f}"
        )
    for result in results.values():
        if result["lost"] or result["duplicates"] or result["reordered"]:
            print(
                f"  {result['label']}: lost {result['lost']} ({result['loss_pattern']}), "
                f"duplicates {result['duplicates']}, out of order {result['reordered']}"
            )
    for subject in ("ours", "baseline"):
        table = ratios(results, subject)
        if table:
            print(f"\n{subject} / peer (received: higher is better; CPU per event, p50, p99: lower is better)")
            for name, values in table.items():
                print(
                    f"  vs {results[name]['label']:<26} received x{_fmt(values['received'], 3)}   "
                    f"CPU/event x{_fmt(values['cpu_per_event'], 2)}   p50 x{_fmt(values['p50'], 2)}   "
                    f"p99 x{_fmt(values['p99'], 2)}"
                )


def versions() -> dict[str, str]:
    found: dict[str, str] = {"python": platform.python_version(), "platform": platform.platform()}
    node = shutil.which("node")
    if node:
        found["node"] = subprocess.run([node, "--version"], capture_output=True, text=True, check=False).stdout.strip()
    for package in ("pusher-js", "pusher", "@soketi/soketi"):
        with contextlib.suppress(OSError, ValueError, KeyError):
            meta = json.loads((REPO_ROOT / "node_modules" / package / "package.json").read_text())
            found[f"npm:{package}"] = meta["version"]
    for dist in ("Pysher", "websocket-client", "login-feed", "psutil"):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            found[f"py:{dist}"] = importlib.metadata.version(dist)
    found["cpus"] = str(os.cpu_count())
    return found


# ---------------------------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=30_000, help="events in the burst (default 30000)")
    parser.add_argument("--rate", type=float, default=30_000, help="offered rate, events/s (default 30000)")
    parser.add_argument(
        "--size", type=int, default=0,
        help="pad each payload to this many bytes; the full v1 payload with the bench fields is ~450 bytes, "
        "smaller values (default 0) send it unpadded",
    )
    parser.add_argument("--subscribers", default="pusherjs,pysher,ours",
                        help="comma-separated, run in this order (default pusherjs,pysher,ours)")
    parser.add_argument("--concurrency", type=int, default=16, help="trigger requests in flight (default 16)")
    parser.add_argument("--batch", type=int, default=10, help="events per triggerBatch request (default 10)")
    parser.add_argument("--warmup", type=int, default=3000, help="warm-up events per subscriber (default 3000)")
    parser.add_argument("--warmup-rate", type=float, help="warm-up rate (default: --rate)")
    parser.add_argument("--soketi-warmup", type=int, default=30_000,
                        help="events sent to nobody before the first subscriber, to warm soketi (default 30000)")
    parser.add_argument("--idle-seconds", type=float, default=1.0, help="idle CPU baseline length (default 1 s)")
    parser.add_argument("--idle-timeout", type=float, default=3.0,
                        help="stop waiting after this many seconds without a line (default 3 s)")
    parser.add_argument(
        "--pin", action="store_true",
        help="give the subscriber a CPU of its own: subscriber on the last CPU, this harness, soketi and the "
        "trigger on the others (so every subscriber faces the same offered stream on the same core)",
    )
    parser.add_argument(
        "--workload", choices=("v1", "legacy", "both"), default="both",
        help="v1 payloads on private-login-feed, the legacy ~330-byte Auth0 profile on the public auth0 channel, "
        "or both, one after the other on the same soketi (default both)",
    )
    parser.add_argument(
        "--baseline", type=Path, metavar="DIR",
        help="with `baseline` in --subscribers: `login-feed tail` again with DIR (the root of another revision, "
        "e.g. from `git archive REV desktop | tar -x -C DIR`) ahead on PYTHONPATH, measured in the same run",
    )
    parser.add_argument("--json", type=Path, help="write every figure to this JSON file")
    parser.add_argument("--raw", type=Path, metavar="DIR",
                        help="write one CSV per subscriber (seq, sent, received, latency) into DIR")
    args = parser.parse_args(argv)
    if args.warmup_rate is None:
        args.warmup_rate = args.rate
    args.subscriber_cpus = None
    if args.pin:
        cpus = sorted(os.sched_getaffinity(0))
        if len(cpus) < 2 or shutil.which("taskset") is None:
            parser.error("--pin needs at least 2 CPUs and `taskset` (util-linux)")
        args.subscriber_cpus = {cpus[-1]}
        os.sched_setaffinity(0, set(cpus[:-1]))  # soketi and the trigger inherit this mask
    args.workloads = ["v1", "legacy"] if args.workload == "both" else [args.workload]
    args.subscriber_names = [name.strip() for name in args.subscribers.split(",") if name.strip()]
    known = {"pusherjs", "pysher", "ours", "baseline"}
    unknown = [name for name in args.subscriber_names if name not in known]
    if ("baseline" in args.subscriber_names) != (args.baseline is not None):
        parser.error("--baseline DIR and the `baseline` subscriber go together")
    if unknown or not args.subscriber_names:
        parser.error(f"--subscribers: unknown {unknown}; choose from {sorted(known)}")
    if args.events <= 0 or args.rate <= 0 or args.batch <= 0 or args.batch > 10 or args.concurrency <= 0:
        parser.error("--events, --rate, --concurrency must be positive and --batch within 1..10")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    report: dict[str, Any] = {
        "args": {k: sorted(v) if isinstance(v, set) else str(v) if isinstance(v, Path) else v
                 for k, v in vars(args).items()}
    }
    report["versions"] = versions()
    by_workload: dict[str, dict[str, Any]] = {}
    failures: list[str] = []
    failure: str | None = None
    began = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="burst-") as tmp, Soketi(user_authentication=False) as server:
            print(f"soketi on {server.http_url} (pid {server.pid})", flush=True)
            if args.soketi_warmup:
                warm = run_trigger(server.port, args.soketi_warmup, args.rate, args.size, phase="warmup",
                                   concurrency=args.concurrency, batch=args.batch)
                report["soketi_warmup"] = warm
                print(f"soketi warm-up: {warm['sent']} events to nobody at {warm['achieved_rate']:,.0f}/s", flush=True)
            for workload in args.workloads:
                args.workload = workload
                print(f"\n==== workload {workload} on {WORKLOADS[workload]}", flush=True)
                specs = build_specs(server.port, Path(tmp), WORKLOADS[workload], args.baseline)
                results: dict[str, dict[str, Any]] = {}
                by_workload[workload] = {"channel": WORKLOADS[workload], "results": results}
                for name in args.subscriber_names:
                    try:
                        results[name] = measure_subscriber(specs[name], server, args)
                    except HarnessError as exc:  # record it, measure the others, exit 1 at the end
                        print(f"   FAILED: {exc}", flush=True)
                        failures.append(f"{workload}: {specs[name].label}: {exc}")
    except (HarnessError, SoketiError, OSError) as exc:
        failure = f"{type(exc).__name__}: {exc}"
    except KeyboardInterrupt:
        failure = "interrupted"
    failure = "\n".join([*failures, *([failure] if failure else [])]) or None

    for workload, entry in by_workload.items():
        results = entry["results"]
        entry["ratios"] = ratios(results)
        if "baseline" in results:
            entry["baseline_ratios"] = ratios(results, "baseline")
        if results:
            args.workload = workload
            payload_bytes = next(iter(results.values()))["trigger"].get("mean_payload_bytes")
            print_table(results, args, payload_bytes)
    report["workloads"] = by_workload
    report["wall_seconds"] = time.monotonic() - began
    report["error"] = failure
    print(f"\nwall time {report['wall_seconds']:.1f} s")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        print(f"figures written to {args.json}")
    if failure:
        print(f"\nbenchmark failed: {failure}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
