"""The log-stream producer's pure part: a believable mix, Auth0's body formats and habits, the attack scenario."""

from __future__ import annotations

import json
from collections import Counter

from desktop.simulate.logstream import Deliveries, LogStreamRecords
from desktop.tenantlog.body import parse_body


def test_the_mix_is_mostly_logins_with_failures_and_mfa_but_no_blocks_or_breached_passwords() -> None:
    records = LogStreamRecords(7, clock=lambda: 1_764_900_000.0)
    codes = Counter(next(records)["data"]["type"] for _ in range(3000))
    assert codes.most_common(1)[0][0] == "s"
    for code in ("ss", "fp", "fu", "f", "slo", "scpr", "scp", "gd_auth_failed"):
        assert codes[code] > 0, code
    assert codes["fp"] + codes["fu"] < codes["s"]
    assert not {"limit_wc", "limit_mu", "pwd_leak"} & set(codes)  # each raises an alert: only in attacks


def test_records_look_like_auth0s_and_ids_are_unique() -> None:
    records = LogStreamRecords(1, clock=lambda: 1_764_900_000.5)
    batch = [next(records) for _ in range(500)]
    assert len({r["log_id"] for r in batch}) == 500
    for r in batch:
        assert r["data"]["log_id"] == r["log_id"] and len(r["log_id"]) == 56
        assert r["data"]["date"] == "2025-12-05T02:00:00.500Z"
        if r["data"]["type"] == "fu":
            assert r["data"]["user_id"] == ""


def test_deliveries_use_all_three_formats_repeat_some_records_and_reorder() -> None:
    records = LogStreamRecords(3, clock=lambda: 1_764_900_000.0)
    deliveries = Deliveries(3, duplicate_ratio=0.5, late_ratio=0.2)
    sent: list[str] = []
    made: list[str] = []
    shapes = set()
    for _ in range(30):
        fresh = [next(records) for _ in range(20)]
        made += [r["log_id"] for r in fresh]
        for delivery in deliveries.pack(fresh):
            parsed = parse_body(delivery.body)
            assert [r.log_id for r in parsed.records] == delivery.log_ids
            sent += delivery.log_ids
            shapes.add(delivery.body[:1] if len(delivery.log_ids) > 1 else b"{")
    for delivery in deliveries.pack([]):
        sent += delivery.log_ids
    assert shapes >= {b"[", b"{"}
    assert set(sent) == set(made)  # nothing lost, held-back records included
    assert len(sent) > len(made)  # some sent twice
    assert sent != made  # not in order


def test_json_lines_deliveries_are_one_record_per_line() -> None:
    records = LogStreamRecords(4, clock=lambda: 1_764_900_000.0)
    deliveries = Deliveries(4, duplicate_ratio=0.0, late_ratio=0.0)
    bodies = [d.body for _ in range(3) for d in deliveries.pack([next(records) for _ in range(5)])]
    lines = [b for b in bodies if b.count(b"\n") == 5]
    assert lines and all(json.loads(line)["log_id"] for line in lines[0].splitlines())


def test_credential_stuffing_is_a_surge_of_fu_and_fp_from_a_few_ips() -> None:
    records = LogStreamRecords(5, scenario="credential-stuffing", clock=lambda: 1_764_900_000.0, attack_after=0)
    batch = [next(records)["data"] for _ in range(600)]
    failures = [d for d in batch if d["type"] in ("fu", "fp")]
    assert len(failures) > len(batch) / 3
    by_ip = Counter(d["ip"] for d in failures)
    assert sum(n for _, n in by_ip.most_common(3)) > 0.8 * len(failures)  # from a few addresses
    assert sum(d["type"] == "limit_mu" for d in batch) == 3  # each address throttled once
