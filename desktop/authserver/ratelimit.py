"""Token buckets per key (pure: the caller passes the time), for per-user request limits and log-once-a-while.

Why a token bucket: it allows a burst (an app reconnecting signs four channels at once; a person sends two
quick chat lines) and then a steady rate, and a caller that is refused learns exactly when to retry, which is
what ``Retry-After`` needs. Buckets are kept per key in least-recently-used order and the oldest is dropped past
``max_keys``: a dropped bucket starts again full, which only ever errs towards letting a user through, and the
keys are verified users' ``sub``\\ s (or a few log message kinds), not something a caller can invent.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass

__all__ = ["TokenBuckets", "retry_after_header"]


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class TokenBuckets:
    """``take(key, now)``: 0.0 when ``key`` may go ahead (one token spent), else the seconds until it may.

    ``rate`` tokens per second refill each bucket up to ``burst``. ``now`` is any monotonic clock in seconds;
    a clock that goes back is treated as no time passing. Not thread-safe: call it from one thread (the
    server's event loop).
    """

    def __init__(self, rate: float, burst: int, *, max_keys: int = 10_000) -> None:
        if not rate > 0 or not math.isfinite(rate):
            raise ValueError("the rate must be a positive number of tokens per second")
        if burst < 1:
            raise ValueError("the burst must be at least 1")
        self.rate = rate
        self.burst = burst
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, key: str, now: float) -> float:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(float(self.burst), now)
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
            elapsed = max(0.0, now - bucket.updated)
            bucket.tokens = min(float(self.burst), bucket.tokens + elapsed * self.rate)
            bucket.updated = max(bucket.updated, now)
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / self.rate


def retry_after_header(wait: float) -> str:
    """``Retry-After`` in whole seconds, rounded up and at least 1 (HTTP has no fractions here)."""
    return str(max(1, math.ceil(wait)))
