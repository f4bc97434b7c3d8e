"""Past one machine, measured (issue 13): ingest with 1 and 2 server replicas on PostgreSQL and on SQLite, and a
steady stream through two replicas and two soketi nodes to many headless subscribers.

Everything real and on loopback: PostgreSQL (durable: fsync and synchronous commit on, as in production) and Redis
from Debian's packages, two soketi nodes clustered on Redis, the OpenID provider, ``login-feed server`` replicas
(replica *i* publishes through node *i*), and pusher-js subscribers (``bench/scale_subscribers.mjs``, one Node
process per node).

1. **Ingest**, per configuration: ``--events`` records POSTed to ``/auth0/log-stream`` in deliveries of
   ``--delivery``, ``--concurrency`` requests in flight per replica, deliveries spread over the replicas (a load
   balancer). The rate is records acknowledged (committed) per second; "published" is when the outbox was empty.
   SQLite with two replicas means two processes on one file (one machine only, and both publish every event: not
   a supported deployment, measured for comparison).
2. **Stream**: ``--rate`` events/s for ``--seconds``, a delivery every 0.1 s alternating between two PostgreSQL
   replicas, to ``--subscribers`` pusher-js clients split over the two nodes. Delivered ratio (unique events
   received / events x subscribers), repeats, and latency from just before the POST to the subscriber (p50, p99).
   CPU (cores) and memory (PSS) of each part over the stream, and per 1,000 events/s.

    .venv/bin/python bench/scale.py [--events 20000] [--subscribers 200] [--rate 1000] [--seconds 30]

Prints figures; exit 0 whatever they are (measurements), 1 when the harness failed.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path
from typing import Any

import psutil
import requests

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT / "tests"))
sys.path.insert(0, str(REPO_ROOT))

from support.logstream_server import STREAM_TOKEN, LogStreamServer  # noqa: E402
from support.oidc_provider import OidcProvider  # noqa: E402
from support.postgres import PostgresServer  # noqa: E402
from support.redis import RedisServer  # noqa: E402
from support.soketi import Soketi  # noqa: E402

from desktop.simulate.logstream import LogStreamRecords  # noqa: E402
from desktop.simulate.people import iso_utc_ms  # noqa: E402

SUBSCRIBERS_JS = REPO_ROOT / "bench" / "scale_subscribers.mjs"


class Usage:
    """CPU seconds and memory (PSS) of named process trees, between :meth:`start` and :meth:`stop`."""

    def __init__(self, parts: dict[str, int]) -> None:
        self.parts = parts
        self._cpu: dict[str, float] = {}
        self._started = 0.0

    def _tree(self, pid: int) -> list[psutil.Process]:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]

    def _cpu_of(self, pid: int) -> float:
        total = 0.0
        for proc in self._tree(pid):
            try:
                times = proc.cpu_times()
                total += times.user + times.system
            except psutil.NoSuchProcess:
                pass
        return total

    def start(self) -> None:
        self._cpu = {name: self._cpu_of(pid) for name, pid in self.parts.items()}
        self._started = time.monotonic()

    def stop(self) -> dict[str, tuple[float, float]]:
        """name -> (cores used on average, PSS in MB now)."""
        wall = time.monotonic() - self._started
        result = {}
        for name, pid in self.parts.items():
            pss = 0
            for proc in self._tree(pid):
                with suppress(psutil.NoSuchProcess):
                    pss += proc.memory_full_info().pss
            result[name] = ((self._cpu_of(pid) - self._cpu[name]) / wall, pss / 1e6)
        return result


@contextmanager
def stack() -> Iterator[tuple[PostgresServer, list[Soketi], OidcProvider, RedisServer]]:
    with ExitStack() as stop:
        postgres = stop.enter_context(PostgresServer(durable=True))
        redis = stop.enter_context(RedisServer())
        prefix = f"bench{uuid.uuid4().hex[:8]}"
        nodes = [stop.enter_context(Soketi(redis=(redis.host, redis.port), cluster=prefix)) for _ in range(2)]
        idp = stop.enter_context(OidcProvider())
        yield postgres, nodes, idp, redis


def start_replicas(tmp: Path, count: int, database: str, nodes: Sequence[Soketi],
                   idp: OidcProvider) -> list[LogStreamServer]:
    replicas = [LogStreamServer(tmp / f"replica{n}", idp, nodes[n % len(nodes)], database=database)
                for n in range(count)]
    for replica in replicas:
        replica.start()
    return replicas


def post(replica: LogStreamServer, body: bytes, session: requests.Session) -> int:
    with session.post(f"{replica.base}/auth0/log-stream", data=body, timeout=60,
                      headers={"Authorization": STREAM_TOKEN, "Content-Type": "application/json"}) as answer:
        if answer.status_code != 200:
            raise RuntimeError(f"HTTP {answer.status_code}: {answer.text[:200]}")
        return int(answer.json()["stored"])


def ingest(label: str, replicas: list[LogStreamServer], args: argparse.Namespace) -> None:
    records = LogStreamRecords(f"bench-scale-{label}")
    bodies = [json.dumps([next(records) for _ in range(args.delivery)]).encode()
              for _ in range(args.events // args.delivery)]
    local = threading.local()

    def send(index: int) -> int:
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        return post(replicas[index % len(replicas)], bodies[index], session)

    usage = Usage({f"replica{n + 1}": r.process.process.pid for n, r in enumerate(replicas) if r.process})
    usage.start()
    started = time.perf_counter()
    with ThreadPoolExecutor(args.concurrency * len(replicas)) as pool:
        stored = sum(pool.map(send, range(len(bodies))))
    elapsed = time.perf_counter() - started
    deadline = time.monotonic() + 300
    while replicas[0].unpublished() and time.monotonic() < deadline:
        time.sleep(0.2)
    drained = time.perf_counter() - started
    cpu = usage.stop()
    cores = ", ".join(f"{name} {c:.2f} cores {m:.0f} MB" for name, (c, m) in cpu.items())
    print(f"ingest {label}: {stored} records in {elapsed:.2f} s = {stored / elapsed:,.0f} events/s acknowledged; "
          f"all published after {drained:.1f} s ({stored / drained:,.0f} events/s); {cores}", flush=True)


class Subscribers:
    """One Node process of pusher-js subscribers on one soketi node."""

    def __init__(self, node: Soketi, count: int) -> None:
        self.count = count
        self.received = 0
        self.subscribed = threading.Event()
        self.process = subprocess.Popen(["node", str(SUBSCRIBERS_JS), str(node.port), str(count), "0"],
                                        cwd=REPO_ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True)
        threading.Thread(target=self._read_stderr, daemon=True).start()

    def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            if line.startswith("SUBSCRIBED"):
                self.subscribed.set()
            elif line.startswith("RECEIVED "):
                self.received = int(line.split()[1])
            else:
                print(f"  subscribers: {line.rstrip()}", file=sys.stderr)

    def report(self) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write("report\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        self.process.wait(30)
        return dict(json.loads(line))

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def stream(tmp: Path, postgres: PostgresServer, nodes: list[Soketi], idp: OidcProvider, redis: RedisServer,
           args: argparse.Namespace) -> None:
    database = postgres.create_database("bench_stream")
    replicas = start_replicas(tmp / "stream", 2, database, nodes, idp)
    groups: list[Subscribers] = []
    try:
        groups = [Subscribers(node, count) for node, count in
                  zip(nodes, (args.subscribers - args.subscribers // 2, args.subscribers // 2), strict=True)
                  if count]
        for group in groups:
            if not group.subscribed.wait(120):
                raise RuntimeError("the subscribers did not all subscribe within 120 s")
        per_delivery = max(1, args.rate // 10)
        deliveries = int(args.seconds * 10)
        records = LogStreamRecords("bench-scale-stream")
        batches = [[next(records) for _ in range(per_delivery)] for _ in range(deliveries)]
        total = per_delivery * deliveries
        parts = {f"replica{n + 1}": r.process.process.pid for n, r in enumerate(replicas) if r.process}
        parts |= {"postgres": postgres.pid or 0, "redis": redis.pid or 0,
                  **{f"soketi{n + 1}": node.pid or 0 for n, node in enumerate(nodes)},
                  **{f"subscribers{n + 1}": g.process.pid for n, g in enumerate(groups)}}
        usage = Usage(parts)
        sessions = [requests.Session() for _ in replicas]
        locks = [threading.Lock() for _ in replicas]

        post_ms: list[float] = []

        def deliver(index: int) -> int:
            batch = batches[index]
            which = index % len(replicas)
            with locks[which]:
                began = time.time()
                stamp = iso_utc_ms(began)
                for record in batch:
                    record["data"]["date"] = stamp
                stored = post(replicas[which], json.dumps(batch).encode(), sessions[which])
                post_ms.append((time.time() - began) * 1000)
                return stored

        usage.start()
        start = time.monotonic()
        futures = []
        with ThreadPoolExecutor(8) as pool:
            for index in range(deliveries):
                pause = start + index / 10 - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                futures.append(pool.submit(deliver, index))
            stored = sum(f.result() for f in futures)
        offered = time.monotonic() - start
        expected = total * args.subscribers
        last, quiet_since = -1, time.monotonic()
        while time.monotonic() - quiet_since < 10:
            now = sum(g.received for g in groups)
            if now >= expected:
                break
            if now != last:
                last, quiet_since = now, time.monotonic()
            time.sleep(0.2)
        cpu = usage.stop()
        reports = [g.report() for g in groups]
        for session in sessions:
            session.close()
    finally:
        for group in groups:
            group.close()
        for replica in replicas:
            replica.close()
    unique = sum(r["unique"] for r in reports)
    repeats = sum(r["repeats"] for r in reports)
    p50 = max(r["latency_ms"]["p50"] or 0 for r in reports)
    p99 = max(r["latency_ms"]["p99"] or 0 for r in reports)
    worst = max(r["latency_ms"]["max"] for r in reports)
    print(f"stream: {stored} of {total} events stored at {total / offered:,.0f} events/s offered for "
          f"{offered:.1f} s, to {args.subscribers} subscribers on 2 nodes: delivered {unique:,} of {expected:,} "
          f"({unique / expected:.2%}), {repeats} repeats, per subscriber {min(r['per_client_min'] for r in reports)}"
          f"-{max(r['per_client_max'] for r in reports)}; latency POST -> subscriber p50 {p50} ms, p99 {p99} ms, "
          f"worst {worst} ms (the larger of the two nodes' figures)")
    post_ms.sort()
    print(f"  POST answered (committed) in p50 {post_ms[len(post_ms) // 2]:.0f} ms, "
          f"p99 {post_ms[min(len(post_ms) - 1, int(len(post_ms) * 0.99))]:.0f} ms")
    per_k = 1000 / (total / offered)
    for name, (cores, mb) in cpu.items():
        print(f"  {name:<12} {cores:5.2f} cores {mb:7.0f} MB PSS  = {cores * per_k:.2f} cores per 1,000 events/s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--delivery", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--subscribers", type=int, default=200)
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--ingest", default="sqlite:1,sqlite:2,postgresql:1,postgresql:2",
                        help="the ingest configurations, BACKEND:REPLICAS comma-separated")
    parser.add_argument("--skip-ingest", action="store_true")
    parser.add_argument("--skip-stream", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="scale-bench-") as tmp_name, stack() as (postgres, nodes, idp, redis):
        tmp = Path(tmp_name)
        if not args.skip_ingest:
            for run, item in enumerate(args.ingest.split(",")):
                backend, _, replicas_text = item.partition(":")
                count = int(replicas_text or 1)
                name = f"bench_{run}_{backend}_{count}"
                database = (postgres.create_database(name) if backend == "postgresql"
                            else str(tmp / f"{name}.sqlite3"))
                replicas = start_replicas(tmp / name, count, database, nodes, idp)
                try:
                    ingest(f"{backend} x{count}", replicas, args)
                finally:
                    for replica in replicas:
                        replica.close()
        if not args.skip_stream:
            stream(tmp, postgres, nodes, idp, redis, args)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (RuntimeError, OSError) as exc:
        print(f"scale benchmark failed: {exc}", file=sys.stderr)
        sys.exit(1)
