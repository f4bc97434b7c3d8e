"""``simulate --scenario``'s attacks raise exactly their alerts, and ten minutes of normal traffic none (issue 15).

The pure path the server takes: the producer's deliveries (out of order, some records twice), the server's
parser and normaliser with its offline GeoIP database, the detector in store order. The same runs through real
processes are in ``tests/integration/test_alerts_server.py``.
"""

from __future__ import annotations

import pytest

from desktop.alerts import AlertDetector
from desktop.simulate.logstream import Deliveries, LogStreamRecords
from desktop.simulate.scenarios import ATTACKS
from desktop.tenantlog.body import parse_body
from desktop.tenantlog.enrich import GeoIpLocator
from desktop.tenantlog.normalize import normalize

START = 1_795_237_200.0  # 2026-11-21T05:00:00Z
TEN_MINUTES = 1200  # records half a second apart


@pytest.fixture(scope="module")
def locate() -> GeoIpLocator:
    return GeoIpLocator()


def run(scenario: str, locate: GeoIpLocator, seed: int = 11) -> tuple[list[dict], LogStreamRecords]:
    """The alerts (latest version of each) that ten minutes of traffic with ``scenario`` raise."""
    records = LogStreamRecords(seed, scenario=scenario, clock=lambda: START, time_step=0.5,
                               attack_after=TEN_MINUTES // 3)
    deliveries = Deliveries(seed)
    detector = AlertDetector()
    seen: set[str] = set()
    alerts: dict[str, dict] = {}
    batches = [[next(records) for _ in range(100)] for _ in range(TEN_MINUTES // 100)] + [[]]
    for batch in batches:
        for delivery in deliveries.pack(batch):
            fresh = [r for r in parse_body(delivery.body).records if r.log_id not in seen]  # the store's unique log_id
            seen.update(r.log_id for r in fresh)
            for alert in detector.feed(normalize(r, START, locate=locate) for r in fresh):
                alerts[alert["log_id"]] = alert
    print(scenario, detector.stats())
    return list(alerts.values()), records


def test_ten_minutes_of_normal_traffic_raise_no_alert(locate: GeoIpLocator) -> None:
    for seed in (11, 12, 13):
        alerts, _ = run("normal", locate, seed)
        assert alerts == [], [a["explanation"] for a in alerts]


@pytest.mark.parametrize("scenario", ATTACKS)
def test_each_attack_raises_exactly_its_alerts(scenario: str, locate: GeoIpLocator) -> None:
    alerts, records = run(scenario, locate)
    assert records.scenario is not None and records.scenario.finished
    expected = sorted(records.scenario.expected)
    assert sorted((a["rule"], a["subject"]) for a in alerts) == expected, [a["explanation"] for a in alerts]
    for alert in alerts:
        print(f"{alert['rule']}: {alert['explanation']}")
