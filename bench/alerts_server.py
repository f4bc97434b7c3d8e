"""What running the alert detector costs the server (issue 15): the follower's pass over stored events.

:class:`~desktop.tenantlog.alerting.AlertFollower` pages the tenant log by cursor, decodes each event's JSON and
feeds the detector; this measures that whole path per event (``bench/alerts_detector.py`` measures the detector
alone). An hour of a mid-sized tenant's ordinary traffic (``tests/support/alert_timelines.background``) is stored
first, in SQLite (``--database`` takes a ``postgresql://`` URL instead), then followed from the first cursor.
It also prints how many alerts that ordinary traffic raised (it should be none).

    .venv/bin/python bench/alerts_server.py [--seconds 3600] [--rate 30] [--database URL]

Prints the figures; exit 0 whatever they are (they are measurements).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from support.alert_timelines import background  # noqa: E402

from desktop.alerts import AlertsConfig  # noqa: E402
from desktop.tenantlog.alerting import AlertFollower  # noqa: E402
from desktop.tenantlog.sqlite_store import SqliteEventStore  # noqa: E402
from desktop.tenantlog.store import EventStore, is_postgres_url  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3600.0, help="event time of traffic to store")
    parser.add_argument("--rate", type=float, default=30.0, help="events per second of event time")
    parser.add_argument("--database", help="a postgresql:// URL (default: a temporary SQLite file)")
    args = parser.parse_args()
    events = list(background(args.seconds, args.rate))
    store: EventStore
    if args.database and is_postgres_url(args.database):
        from desktop.tenantlog.pgstore import PostgresEventStore  # psycopg only when asked

        store = PostgresEventStore(args.database)
    else:
        store = SqliteEventStore(Path(tempfile.mkdtemp()) / "tenant-log.sqlite3")
    for start in range(0, len(events), 1000):
        store.add(events[start:start + 1000], time.time())
    follower = AlertFollower(store, AlertsConfig())
    started = time.perf_counter()
    follower.replay()  # the start-up pass: every stored event (received within the hour)
    replay = time.perf_counter() - started
    print(f"{len(events):,} stored events followed in {replay:.2f} s: {replay / len(events) * 1e6:.1f} µs per event "
          f"(paging, JSON decoding and the detector); alerts raised by ordinary traffic: "
          f"{follower.detector.stats()['alerts']}; detector tables: {follower.detector.stats()}")
    store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
