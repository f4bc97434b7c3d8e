"""The tenant log's two figures (issue 11): ingest rate, and the time from the log stream's POST to ``tail``.

Everything real and on loopback: soketi, the OpenID provider (the server reads its discovery document at start),
``login-feed server`` with a fresh SQLite store, and ``login-feed tail --format jsonl`` subscribed to the feed.

1. **Ingest**: ``--events`` records (default 50,000) POSTed to ``/auth0/log-stream`` as JSON arrays of
   ``--delivery`` records (100), ``--concurrency`` requests in flight (4). The figure is records acknowledged
   (committed) per second of wall time. The publisher drains the outbox to soketi at the same time, on the same
   two cores, as in production.
2. **Latency**: ``--latency-rate`` records per second (500) for ``--latency-seconds`` (20 s), in deliveries of
   one tenth of a second; for each record the time from just before its POST to the moment ``tail`` received it
   (the engine's own receive timestamp, on the same clock). p50, p99 and the worst.

Goals from the issue: >= 5,000 events/s ingested; p99 <= 250 ms. Prints the figures; exit 0 whatever they are
(they are measurements), 1 when the harness failed.

    .venv/bin/python bench/tenant_log.py [--events 50000] [--latency-rate 500] [--latency-seconds 20]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import requests

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT / "tests"))
sys.path.insert(0, str(REPO_ROOT))

from support.cli_process import CliProcess  # noqa: E402
from support.logstream_server import STREAM_TOKEN, LogStreamServer  # noqa: E402
from support.oidc_provider import OidcProvider  # noqa: E402
from support.soketi import Soketi  # noqa: E402

from desktop.simulate.logstream import LogStreamRecords  # noqa: E402

GOAL_RATE = 5_000
GOAL_P99_MS = 250.0


def ingest(server: LogStreamServer, total: int, delivery: int, concurrency: int) -> tuple[int, float]:
    records = LogStreamRecords("bench-ingest")
    bodies = [json.dumps([next(records) for _ in range(delivery)]).encode() for _ in range(total // delivery)]
    local = threading.local()

    def post(body: bytes) -> int:
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        with session.post(f"{server.base}/auth0/log-stream", data=body, timeout=60,
                          headers={"Authorization": STREAM_TOKEN, "Content-Type": "application/json"}) as answer:
            if answer.status_code != 200:
                raise RuntimeError(f"HTTP {answer.status_code}: {answer.text[:200]}")
            return int(answer.json()["stored"])

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        stored = sum(pool.map(post, bodies))
    return stored, time.perf_counter() - started


def latency(server: LogStreamServer, rate: int, seconds: float) -> list[float]:
    tail = CliProcess(["--config", server.config, "--data-dir", server.data_dir / "tail", "tail", "--format",
                       "jsonl"], server.env)
    try:
        tail.wait_for_stderr("subscribed to", 30)
        records = LogStreamRecords("bench-latency")
        per_delivery = max(1, rate // 10)
        sent_at: dict[str, float] = {}
        start = time.time()
        with requests.Session() as session:
            for tick in range(int(seconds * 10)):
                pause = start + tick / 10 - time.time()
                if pause > 0:
                    time.sleep(pause)
                batch = [next(records) for _ in range(per_delivery)]
                now = time.time()
                for record in batch:
                    sent_at[record["log_id"]] = now
                with session.post(f"{server.base}/auth0/log-stream", data=json.dumps(batch).encode(), timeout=30,
                                  headers={"Authorization": STREAM_TOKEN}) as answer:
                    if answer.status_code != 200:
                        raise RuntimeError(f"HTTP {answer.status_code}")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(tail.stdout_lines) < len(sent_at):
            time.sleep(0.1)
        delays = []
        for line in tail.stdout_lines:
            event = json.loads(line)
            data = event.get("data") or {}
            if isinstance(data, dict) and data.get("log_id") in sent_at:
                received = datetime.fromisoformat(event["received_at"].replace("Z", "+00:00")).timestamp()
                delays.append((received - sent_at[data["log_id"]]) * 1000)
        missing = len(sent_at) - len(delays)
        if missing:
            print(f"latency: {missing} of {len(sent_at)} records did not reach tail within 60 s", file=sys.stderr)
        return delays
    finally:
        tail.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--delivery", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--latency-rate", type=int, default=500)
    parser.add_argument("--latency-seconds", type=float, default=20.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tenant-log-bench-") as tmp, Soketi() as soketi, \
            OidcProvider() as idp:
        (Path(tmp) / "ingest").mkdir()
        ingest_server = LogStreamServer(Path(tmp) / "ingest", idp, soketi)
        try:
            ingest_server.start()
            stored, elapsed = ingest(ingest_server, args.events, args.delivery, args.concurrency)
        finally:
            ingest_server.close()
        rate = stored / elapsed
        print(f"ingest: {stored} records in {elapsed:.2f} s = {rate:,.0f} events/s "
              f"(deliveries of {args.delivery}, {args.concurrency} in flight; goal >= {GOAL_RATE:,})")
        (Path(tmp) / "latency").mkdir()
        latency_server = LogStreamServer(Path(tmp) / "latency", idp, soketi)
        try:
            latency_server.start()
            delays = latency(latency_server, args.latency_rate, args.latency_seconds)
        finally:
            latency_server.close()
    if not delays:
        print("latency: no record reached tail", file=sys.stderr)
        return 1
    delays.sort()
    p50 = statistics.median(delays)
    p99 = delays[min(len(delays) - 1, int(len(delays) * 0.99))]
    print(f"latency at {args.latency_rate} events/s, POST to tail: p50 {p50:.0f} ms, p99 {p99:.0f} ms, "
          f"worst {delays[-1]:.0f} ms over {len(delays)} records (goal p99 <= {GOAL_P99_MS:.0f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
