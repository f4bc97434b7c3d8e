"""Credential stuffing: many accounts failing from a few IPs, or the tenant's failure rate far above its usual.

Two signs, one alert for the tenant (subject ``tenant``), because a person acts on the attack, not on each of its
addresses:

- **A few IPs**: per IP, the distinct accounts that failed (``fu``/``fp``) in the last ``stuffing_window_seconds``.
  An IP with at least ``stuffing_min_accounts_per_ip`` is *hot*, unless more people logged in from it than
  accounts failed (an office or a carrier's NAT: dozens of colleagues, a few typos; an attacker's address
  succeeds rarely). Successes count from the IP's first failure until it is forgotten. When the ``stuffing_ips``
  hottest together reach ``stuffing_accounts``, it is stuffing. Per-IP tables are pruned lazily (at most twenty
  times a window), capped, and evicted when idle.
- **A surge**: failures per minute (by ``at``) in the window against the mean of the ``stuffing_baseline_seconds``
  before it. Minutes during an open stuffing alert are left out of the baseline so a long attack does not become
  the norm, and the surge rule waits for ten minutes of history: a fresh detector knows no usual rate.
"""

from __future__ import annotations

import heapq
from collections import Counter, deque
from typing import NamedTuple

from desktop.alerts.config import AlertsConfig
from desktop.alerts.windows import Hit, evict_idle

__all__ = ["StuffingWatch", "Verdict"]

MAX_ACCOUNTS_PER_IP = 10_000
MIN_HISTORY_MINUTES = 10


class Verdict(NamedTuple):
    hits: list[Hit]  #: the failures behind it
    ips: list[str]  #: busiest first
    accounts: int  #: distinct accounts failing from those IPs in the window (0 for a surge)
    surge: tuple[int, float] | None  #: (failures in the window, the usual number in a window) for a surge


class _Ip:
    __slots__ = ("accounts", "pruned_at", "successes")

    def __init__(self) -> None:
        self.accounts: dict[str, Hit] = {}
        self.pruned_at = 0.0
        self.successes = 0


class StuffingWatch:
    def __init__(self, config: AlertsConfig) -> None:
        self.window = config.stuffing_window_seconds
        self.lateness = config.lateness_seconds
        self._config = config
        self._ips: dict[str, _Ip] = {}
        self._hot: dict[str, tuple[int, float]] = {}  # ip: (distinct accounts, when counted)
        self._minutes: dict[int, int] = {}
        self._surge_minutes: set[int] = set()
        self._first_minute: int | None = None
        self._recent: deque[Hit] = deque(maxlen=50)
        self._baseline_for = -1
        self._baseline = 0.0

    def __len__(self) -> int:
        return len(self._ips)

    def started(self, at: float) -> None:
        """The detector's first event: the history the surge baseline may use begins here."""
        minute = int(at // 60)
        if self._first_minute is None or minute < self._first_minute:
            self._first_minute = minute

    def success(self, ip: str) -> None:
        """Someone logged in from ``ip``: counted only for an address that has failures."""
        entry = self._ips.get(ip)
        if entry is not None:
            entry.successes += 1

    def failure(self, hit: Hit, account: str, high: float, is_open: bool) -> Verdict | bool:
        """Count one failed login; a :class:`Verdict` when it starts an attack, else whether one is going on."""
        minute = int(hit.at // 60)
        self._minutes[minute] = self._minutes.get(minute, 0) + 1
        self._recent.append(hit)
        hot = self._count_ip(hit, account, high) if hit.ip else False
        surge = self._surge(high)
        if is_open:
            self._surge_minutes.add(int(high // 60))
            return hot or surge is not None
        if hot:
            verdict = self._hot_verdict(high)
            if verdict is not None:
                return verdict
        if surge is not None:
            ips = [ip for ip, _ in Counter(h.ip for h in self._recent if h.ip).most_common(3)]
            return Verdict(list(self._recent), ips, 0, surge)
        return False

    def _count_ip(self, hit: Hit, account: str, high: float) -> bool:
        ip = hit.ip
        entry = self._ips.pop(ip, None) or _Ip()
        self._ips[ip] = entry
        accounts = entry.accounts
        known = accounts.get(account)
        if (known is None and len(accounts) < MAX_ACCOUNTS_PER_IP) or (known is not None and hit.at > known.at):
            accounts[account] = hit
        low = self._config.stuffing_min_accounts_per_ip
        if len(accounts) < low:
            self._hot.pop(ip, None)
            return False
        if high - entry.pruned_at >= self.window / 20:
            cutoff = high - self.window
            for stale in [a for a, h in accounts.items() if h.at <= cutoff]:
                del accounts[stale]
            entry.pruned_at = high
        if len(accounts) >= low and entry.successes < len(accounts):
            self._hot[ip] = (len(accounts), high)
            return True
        self._hot.pop(ip, None)
        return False

    def _hot_verdict(self, high: float) -> Verdict | None:
        fresh = [(-n, ip) for ip, (n, when) in self._hot.items() if when > high - self.window]
        top = [(-n, ip) for n, ip in heapq.nsmallest(self._config.stuffing_ips, fresh)]  # busiest, then by IP
        accounts = sum(n for n, _ in top)
        if accounts < self._config.stuffing_accounts:
            return None
        hits = sorted(h for _, ip in top if ip in self._ips for h in self._ips[ip].accounts.values())
        return Verdict(hits, [ip for _, ip in top], accounts, None)

    def _surge(self, high: float) -> tuple[int, float] | None:
        """(failures in the window, usual failures in a window) when the rate is a surge, else None."""
        config = self._config
        now = int(high // 60)
        span = max(1, int(self.window // 60))
        in_window = sum(self._minutes.get(m, 0) for m in range(now - span + 1, now + 1))
        if in_window < config.stuffing_rate_min_failures or self._first_minute is None:
            return None
        if self._baseline_for != now:
            self._baseline_for = now
            start = max(self._first_minute, now - span - int(config.stuffing_baseline_seconds // 60))
            minutes = [m for m in range(start, now - span + 1) if m not in self._surge_minutes]
            enough = len(minutes) >= MIN_HISTORY_MINUTES
            self._baseline = sum(self._minutes.get(m, 0) for m in minutes) / len(minutes) if enough else -1.0
        if self._baseline < 0:
            return None
        usual = self._baseline * span
        if in_window >= config.stuffing_rate_factor * usual:
            return in_window, usual
        return None

    def sweep(self, high: float) -> None:
        cutoff = high - self.window - self.lateness
        evict_idle(self._ips, lambda entry: max(h.at for h in entry.accounts.values()) < cutoff
                   if entry.accounts else True)
        for ip in [ip for ip, (_, when) in self._hot.items() if when <= high - self.window]:
            del self._hot[ip]
        oldest = int((high - self.window - self._config.stuffing_baseline_seconds) // 60) - 1
        for minute in [m for m in self._minutes if m < oldest]:
            del self._minutes[minute]
        self._surge_minutes = {m for m in self._surge_minutes if m >= oldest}
