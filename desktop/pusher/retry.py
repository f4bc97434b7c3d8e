"""When to try connecting again: the one backoff rule of the engine, pure and small."""

from __future__ import annotations

import random

from desktop.pusher.protocol import CloseAction
from desktop.pusher.types import Options
from desktop.util.backoff import doubling


def retry_delay(options: Options, action: CloseAction, code: int | None, attempts: int,
                rng: random.Random) -> float:
    """Seconds before the next attempt, ``attempts`` being the failures since the last good connection.

    The first retry after a working connection is immediate when the server asked for it (42xx, 4000).
    Every other retry waits an exponential backoff with jitter (``[ceiling/2, ceiling]``, so clients do
    not come back in step) that stops growing at ``backoff_cap``: a small cap (1 s by default), because
    a long outage must not leave the feed dark for long after the server is back, and pusher-js itself
    waits a fixed 1 s. Retries a draining server keeps refusing (4200 after 4200) climb this same short
    ladder instead of looping. 41xx ("over capacity") waits at least a second, as protocol 7 asks.
    """
    if attempts == 0 and action in (CloseAction.RETRY, CloseAction.TLS_ONLY):
        return 0.0
    ceiling = doubling(options.backoff_base, attempts, options.backoff_cap)
    delay = rng.uniform(ceiling / 2, ceiling)
    if code is not None and 4100 <= code <= 4199:
        delay = max(1.0, delay)
    return delay
