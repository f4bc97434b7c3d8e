"""The one backoff: a wait that doubles with each failure in a row and stops growing at a ceiling.

Used by the Pusher engine's reconnects (with jitter on top), the device flow's polling after network errors, the
Management API's paging, the tenant log's publisher and alert follower, and ``simulate``'s publisher. Pure: the
caller counts the failures and does the waiting.
"""

from __future__ import annotations

__all__ = ["doubling"]

_MAX_DOUBLINGS = 62  # beyond this the ceiling has long been reached; keeps the float product finite


def doubling(first: float, times: int, most: float) -> float:
    """``first`` doubled ``times`` times (none when ``times`` is 0 or less), never more than ``most``."""
    return min(most, first * 2 ** min(max(0, times), _MAX_DOUBLINGS))
