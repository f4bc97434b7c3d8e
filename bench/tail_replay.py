"""The headless engine's CPU per event without a network: a recorded-like frame stream replayed through it.

    .venv/bin/python bench/tail_replay.py [--workload v1|legacy|both] [--events N] [--frames-per-read K]
                                          [--profile PATH] [--unbuffered]

``bench/burst.py`` measures the real thing (soketi, pusher-js in the same run), but its figures move with the
machine's load. This replays the same kind of stream deterministically, so a change can be judged on a busy
machine and under ``valgrind --tool=callgrind`` (instruction counts):

    websocket frames as soketi sends them (``{"event","channel","data":"<JSON text>"}``, K frames per read)
    -> ``FrameReader.feed`` -> ``PusherCore.frames_received`` (decode, route) -> ``tail._pump`` (normalise,
    encode, write) -> /dev/null

Payloads are the burst's: the v1 payload (``trigger.mjs``'s ``realisticPayload``) on ``private-login-feed``,
or the original rule's ~330-byte Auth0 profile (``legacyProfile``) on ``auth0``. K defaults to 24, what
``strace -c`` showed per ``recvfrom`` during a 11,000 events/s burst on the 2-core machine. The output goes
through the same kind of stream ``tail`` writes to: an unbuffered one with ``--unbuffered`` (what
``PYTHONUNBUFFERED=1`` gives ``sys.stdout``), else a buffered one; the number of ``write`` calls is printed.

Prints CPU us per event (``time.process_time``, best of ``--repeat``) for each stage cumulatively. With
``--profile PATH`` writes a cProfile of the whole replay (``python -m pstats PATH``).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import queue
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from desktop.pusher.core import PusherCore
from desktop.pusher.protocol import MAX_FRAME_BYTES
from desktop.pusher.wsframes import OP_TEXT, FrameReader
from desktop.signing.names import channel_kind
from desktop.tail import Rendered, _json_encoder, _pump, _Stop, render

EVENT = "user-loggedIn"
CHANNELS = {"v1": "private-login-feed", "legacy": "auth0"}
FIRST = ["Ada", "Grace", "Linus", "Margaret", "Ken", "Barbara", "Dennis", "Frances", "Alan", "Radia"]
LAST = ["Lovelace", "Hopper", "Torvalds", "Hamilton", "Thompson", "Liskov", "Ritchie", "Allen", "Kay", "Perlman"]
PLACES = [("DE", "Berlin"), ("FR", "Lyon"), ("US", "Austin"), ("JP", "Osaka"), ("BR", "Recife"),
          ("KE", "Nairobi"), ("CA", "Montreal"), ("IN", "Pune")]
CONNECTIONS = ["google-oauth2", "github", "email"]
AT = "2026-12-05T05:00:00.123Z"  # with milliseconds, as trigger.mjs, our Action and Auth0 send them


def payload(workload: str, seq: int) -> dict[str, Any]:
    first, last = FIRST[seq % 10], LAST[(seq >> 3) % 10]
    nick = first.lower()
    picture = f"https://s.gravatar.com/avatar/{(seq * 2654435761) % 2**32:08x}"
    if workload == "legacy":
        ident = str(10_000_000 + seq)
        conn = CONNECTIONS[seq % 2]
        body: dict[str, Any] = {
            "email": f"{nick}{seq % 1000}@example.com", "name": f"{first} {last}", "nickname": nick,
            "picture": picture, "identities": [{"provider": conn, "user_id": ident, "connection": conn}],
            "user_id": f"{conn}|{ident}", "last_ip": f"203.0.113.{seq % 250}", "last_login": AT,
            "logins_count": 2 + seq % 500, "country": PLACES[seq % 8][0],
        }
    else:
        country, city = PLACES[seq % 8]
        body = {
            "v": 1, "type": "login", "user_id": f"auth0|{0x64F000000000 + seq:x}",
            "email": f"{nick}{seq % 1000}@example.com", "name": f"{first} {last}", "nickname": nick,
            "picture": picture, "connection": CONNECTIONS[seq % 3], "client_name": "Help Desk",
            "country": country, "city": city, "ip": f"203.0.113.{seq % 250}", "logins_count": 2 + seq % 500,
            "at": AT, "updated_at": AT, "app_metadata": {"signedUp": False},
        }
    body["bench_seq"] = seq
    body["bench_sent_ns"] = 1_764_910_800_000_000_000 + seq
    return body


def ws_frame(text: bytes) -> bytes:
    """An unmasked server-to-client text frame."""
    n = len(text)
    if n < 126:
        return bytes([0x81, n]) + text
    if n < 65536:
        return bytes([0x81, 126]) + n.to_bytes(2, "big") + text
    return bytes([0x81, 127]) + n.to_bytes(8, "big") + text


def chunks(workload: str, events: int, per_read: int) -> list[bytes]:
    channel = CHANNELS[workload]
    frames = [
        ws_frame(json.dumps({"event": EVENT, "channel": channel,
                             "data": json.dumps(payload(workload, seq), separators=(",", ":"))},
                            separators=(",", ":")).encode())
        for seq in range(events)
    ]
    return [b"".join(frames[i:i + per_read]) for i in range(0, len(frames), per_read)]


def subscribed_core(channel: str) -> tuple[PusherCore, int]:
    """A core connected and subscribed to ``channel`` (signature skipped: the server's answer is replayed)."""
    core = PusherCore(use_tls=False)
    core.connect(0.0)
    generation = core.effects[0].generation  # type: ignore[attr-defined]
    core.socket_opened(generation, 0.0)
    established = {"event": "pusher:connection_established",
                   "data": json.dumps({"socket_id": "1.1", "activity_timeout": 120})}
    core.frames_received(generation, [json.dumps(established).encode()], 0.0)
    core.subscribe(channel, 0.0)
    if channel.startswith("private-"):
        authorize = next(e for e in core.effects if type(e).__name__ == "Authorize")
        core.authorized(channel, authorize.request, {"auth": "app-key:0" * 1}, 0.0)  # type: ignore[attr-defined]
    succeeded = {"event": "pusher_internal:subscription_succeeded", "channel": channel, "data": "{}"}
    core.frames_received(generation, [json.dumps(succeeded).encode()], 0.0)
    core.effects.clear()
    core.delivered.clear()
    return core, generation


class CountingRaw(io.RawIOBase):
    """/dev/null that counts ``write`` calls (each would be one system call on a real file descriptor)."""

    def __init__(self) -> None:
        self.calls = 0
        self.bytes = 0
        self._fd = os.open(os.devnull, os.O_WRONLY)

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.calls += 1
        self.bytes += os.write(self._fd, data)
        return len(data)


def replay(workload: str, data: list[bytes], stage: str, unbuffered: bool) -> tuple[float, int]:
    """Run the stream up to ``stage`` (read, core, tail); return CPU seconds and write calls."""
    channel = CHANNELS[workload]
    core, generation = subscribed_core(channel)
    reader = FrameReader(MAX_FRAME_BYTES)
    raw = CountingRaw()
    out = io.TextIOWrapper(raw if unbuffered else io.BufferedWriter(raw), encoding="utf-8", write_through=True)
    inbox: queue.SimpleQueue[Rendered | _Stop] = queue.SimpleQueue()
    encode = _json_encoder()
    kind = channel_kind(channel)
    started = time.process_time()
    for chunk in data:
        texts = [payload for opcode, payload in reader.feed(chunk) if opcode == OP_TEXT]
        if stage == "read":
            continue
        core.frames_received(generation, texts, 1.0)  # type: ignore[arg-type]
        events, core.delivered = core.delivered, []
        if stage == "tail":
            inbox.put(render([e for e in events if e.channel == channel], encode))
            inbox.put(_Stop(0))
            _pump(inbox, channel, kind, out)
    return time.process_time() - started, raw.calls


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workload", choices=("v1", "legacy", "both"), default="both")
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--frames-per-read", type=int, default=24)
    parser.add_argument("--repeat", type=int, default=3, help="best of N (default 3)")
    parser.add_argument("--unbuffered", action="store_true", help="stdout as PYTHONUNBUFFERED=1 makes it")
    parser.add_argument("--stage", choices=("read", "core", "tail", "all"), default="all")
    parser.add_argument("--profile", type=Path, help="cProfile the tail stage into this file")
    args = parser.parse_args()
    workloads = ["v1", "legacy"] if args.workload == "both" else [args.workload]
    stages = ["read", "core", "tail"] if args.stage == "all" else [args.stage]
    print(f"load average {os.getloadavg()[0]:.1f}; {args.events:,} events, {args.frames_per_read} frames per read, "
          f"{'unbuffered' if args.unbuffered else 'buffered'} stdout")
    for workload in workloads:
        data = chunks(workload, args.events, args.frames_per_read)
        for stage in stages:
            if args.profile:
                profiler = cProfile.Profile()
                profiler.enable()
                seconds, writes = replay(workload, data, stage, args.unbuffered)
                profiler.disable()
                profiler.dump_stats(f"{args.profile}.{workload}.{stage}")
            else:
                runs = [replay(workload, data, stage, args.unbuffered) for _ in range(args.repeat)]
                seconds, writes = min(runs)
            print(f"{workload:<7} up to {stage:<5} {seconds / args.events * 1e6:6.2f} us/event   "
                  f"writes {writes:,}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
