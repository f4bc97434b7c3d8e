"""The server's side of alerts (issue 15): the pure detector run over the tenant log, its alerts stored as events.

**A thread that follows the store by cursor**, not a step in the ingest. Behind a load balancer each replica's
ingest sees only the deliveries it was handed, and the Management API catch-up writes the store without the
ingest; only the store has every event, in one order (the cursor). So each replica's :class:`AlertFollower`
pages ``store.page(after=cursor)`` and feeds :class:`~desktop.alerts.AlertDetector` every event of every
replica in the same order: the replicas compute the same alerts with the same ids (an id is a hash of the rule,
the subject and the window, :func:`desktop.alerts.alert_id`). :meth:`EventStore.put_alerts` keeps one row per
alert id and replaces it only with a version that has more ``updates``, under a new cursor and unpublished, so
the publisher sends it (``log-event``, kind ``alert``) and ``/events`` catch-up serves it; the second replica
to emit the same version changes nothing. One pattern raises one alert however many replicas run, and no
leader election is needed: a replica that dies loses nothing, the others raise the same alert. (The cost: each
replica runs the detector, a few microseconds an event.) The ingest wakes the follower after its commit; it
also looks every ``poll`` seconds for what other replicas stored.

**Restart.** The detector's state is memory. At start the follower replays the events received in the last
``stuffing_baseline_seconds`` plus the lateness (the longest window any rule looks back over, except impossible
travel's remembered places), then gives :meth:`AlertDetector.resume` the stored alerts still open (``last_at``
within ``quiet_seconds``): an attack that outlived the restart goes on updating the same alert instead of
raising a new one. Of the alerts the replay raised, only those for a rule and subject with no stored alert in
that hour are stored (a crash between storing events and storing their alert); nothing alerted is alerted again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import fields
from datetime import datetime
from typing import Any

from desktop.alerts import AlertDetector, AlertsConfig
from desktop.tenantlog.publisher import backoff_delay
from desktop.tenantlog.store import MAX_PAGE, EventStore
from desktop.util.worker import Worker

__all__ = ["AlertFollower", "any_rule_on"]

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0


class AlertFollower(Worker):
    """Runs the detector over the store on a daemon thread; :meth:`replay` and :meth:`follow` do one pass each."""

    def __init__(self, store: EventStore, config: AlertsConfig, on_stored: Callable[[], None] = lambda: None, *,
                 clock: Callable[[], float] = time.time, poll: float = POLL_SECONDS) -> None:
        super().__init__("tenant-log-alerts")
        self.store = store
        self.config = config
        self.detector = AlertDetector(config)
        self._on_stored = on_stored
        self._clock = clock
        self._poll = poll
        self._after: str | None = None
        self._unsaved: list[dict[str, Any]] = []
        self.stored = 0  #: alerts (new or updated) this follower stored

    def replay(self) -> int:
        """Rebuild the detector from the recent events and take up the open stored alerts; how many events."""
        c = self.config
        self.detector = AlertDetector(c)  # from scratch: a replay that failed half-way is not fed twice
        after = self.store.cursor_received_before(self._clock() - c.stuffing_baseline_seconds - c.lateness_seconds)
        replayed, newest, raised = 0, None, []
        stored: dict[str, Mapping[str, Any]] = {}
        while not self._stopping:
            page = self.store.page(after, MAX_PAGE)
            for event in page.events:
                if event.get("kind") == "alert":
                    stored[str(event.get("log_id"))] = event
                else:
                    at = _epoch(event.get("at"))
                    newest = at if newest is None or (at is not None and at > newest) else newest
            raised += self.detector.feed(page.events)
            replayed += len(page.events)
            after = page.next
            if not page.more:
                break
        open_ones = [a for a in stored.values() if newest is not None
                     and (_epoch(a.get("last_at")) or 0.0) >= newest - c.quiet_seconds]
        taken = self.detector.resume(open_ones)
        # What the replay raised for a rule and subject with no stored alert: the previous run stopped between
        # storing the events and storing their alert (a crash) or before it was started.
        known = {(a.get("rule"), a.get("subject")) for a in stored.values()}
        self._unsaved += [a for a in raised if (a.get("rule"), a.get("subject")) not in known]
        self._after = after
        log.info("alerts: replayed %d recent events, took up %d open alert(s), %d alert(s) not yet stored",
                 replayed, taken, len(self._unsaved))
        return replayed

    def follow(self) -> int:
        """Feed the events stored since the last pass; store the alerts they raise; how many were stored."""
        if self._after is None:
            self.replay()
        changed = 0
        while not self._stopping:
            page = self.store.page(self._after, MAX_PAGE)
            self._unsaved += self.detector.feed(page.events)
            self._after = page.next
            if self._unsaved:  # kept for the next pass if the store fails now: the detector has moved on
                changed += self.store.put_alerts(self._unsaved, self._clock())
                self._unsaved.clear()
            if not page.more:
                break
        if changed:
            self.stored += changed
            log.info("alerts: %d stored (new or updated), %d since start", changed, self.stored)
            self._on_stored()
        return changed

    def _run(self) -> None:
        failures = 0
        while not self._stopping:
            self._wake.clear()
            try:
                self.follow()
            except Exception:  # the store failed (disk full, database away): keep the thread, try again
                failures += 1
                delay = backoff_delay(failures)
                log.exception("alerts: reading the tenant log failed; retrying in %.1f s", delay)
                self._sleep(delay)
                continue
            failures = 0
            self._wake.wait(self._poll)


def any_rule_on(config: AlertsConfig) -> bool:
    """Whether any rule's switch is on (all off: the server runs no detector at all)."""
    return any(getattr(config, f.name) for f in fields(config) if isinstance(f.default, bool))


def _epoch(value: Any) -> float | None:
    """An event's ``at`` in epoch seconds (ISO text as the normaliser writes it, or a number)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value).timestamp()
        except ValueError:
            return None
    return None
