"""Realistic Auth0 tenant-log records, shaped after real log-stream deliveries (Elastic's fixtures, Auth0's docs).

Each function returns a fresh ``{"log_id", "data"}`` record; ``log_id`` may be overridden so tests can make
duplicates and distinct events at will.
"""

from __future__ import annotations

import copy
import json
from typing import Any

CHROME_MAC = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/120.0.6099.109 Safari/537.36")
SAFARI_IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
                 "Version/17.1 Mobile/15E148 Safari/604.1")
LONDON_IP = "81.2.69.143"  # DB-IP: GB, London

_FP: dict[str, Any] = {
    "date": "2021-11-03T08:25:14.466Z", "type": "fp", "description": "Wrong email or password.",
    "connection": "Username-Password-Authentication", "connection_id": "con_1a5wCUmAs6VOU17n",
    "client_id": "aI61p8I8aFjmYRliLWgvM9ev97kCCNDB", "client_name": "Default App", "ip": LONDON_IP,
    "user_agent": CHROME_MAC,
    "details": {"error": {"message": "Wrong email or password."},
                "qs": {"client_id": "aI61p8I8aFjmYRliLWgvM9ev97kCCNDB", "redirect_uri": "https://app.example/cb",
                       "state": "hKFo2SBYd2V4"},
                "session_id": "m5SgtzMKxmeNBxj_kCfUUJhzrSdfvLFu"},
    "user_id": "auth0|61823277a44a21007221a59a", "user_name": "new@test.com", "strategy": "auth0",
    "strategy_type": "database", "hostname": "dev-yoj8axza.au.auth0.com",
    "security_context": {"ja3": "771,4865-4866", "ja4": "t13d1516h2"},
}
_S: dict[str, Any] = {
    "date": "2021-11-04T00:15:10.706Z", "type": "s", "connection": "Username-Password-Authentication",
    "client_id": "aI61p8I8aFjmYRliLWgvM9ev97kCCNDB", "client_name": "Default App", "ip": LONDON_IP,
    "user_agent": "Chrome 120.0.0 / Mac OS X 10.15.7", "is_mobile": False,
    "details": {"prompts": [{"name": "login", "flow": "universal-login", "user_name": "dev@test.com",
                             "elapsedTime": 10076}],
                "session_id": "m5SgtzMKxmeNBxj_kCfUUJhzrSdfvLFu", "stats": {"loginsCount": 4}},
    "hostname": "dev-yoj8axza.au.auth0.com", "user_id": "auth0|618223a4e3f49e006948565c",
    "user_name": "dev@test.com", "strategy": "auth0", "strategy_type": "database",
}
_FU: dict[str, Any] = {
    "date": "2021-11-05T10:00:00.000Z", "type": "fu", "description": "Wrong email or password.",
    "connection": "Username-Password-Authentication", "client_name": "Default App", "ip": "2.125.160.216",
    "user_agent": SAFARI_IPHONE, "details": {"error": {"message": "Wrong email or password."}},
    "user_id": "", "user_name": "neo@gmail.com", "strategy": "auth0", "strategy_type": "database",
}
_SS: dict[str, Any] = {
    "date": "2021-11-05T11:00:00.000Z", "type": "ss", "description": "", "connection":
    "Username-Password-Authentication", "client_name": "Default App", "ip": LONDON_IP, "user_agent": "unknown",
    "details": {"body": {"email": "fresh@test.com", "password": "*****", "connection":
                         "Username-Password-Authentication"}},
    "user_id": "auth0|6185a1b2c3d4e5f600112233", "user_name": "fresh@test.com",
}
_GD: dict[str, Any] = {
    "date": "2021-11-05T12:00:00.000Z", "type": "gd_auth_failed", "description": "",
    "details": {"error": {"message": "Wrong or expired code."}, "authenticator": {"type": "otp"}},
    "user_id": "auth0|618223a4e3f49e006948565c", "user_name": "dev@test.com", "ip": LONDON_IP,
}
_SAMPLES = {"fp": _FP, "s": _S, "fu": _FU, "ss": _SS, "gd_auth_failed": _GD}
_counter = [90020211103082515482106767167326018758436529088273317970]


def record(kind: str = "fp", log_id: str | None = None, **changes: Any) -> dict[str, Any]:
    """A ``{"log_id", "data"}`` record of sample ``kind`` (fp, s, fu, ss, gd_auth_failed) with ``changes`` to data."""
    if log_id is None:
        _counter[0] += 1
        log_id = str(_counter[0])
    data = copy.deepcopy(_SAMPLES[kind])
    data.update(changes)
    data["log_id"] = log_id
    return {"log_id": log_id, "data": data}


def as_array(records: list[dict[str, Any]]) -> bytes:
    return json.dumps(records).encode()


def as_lines(records: list[dict[str, Any]]) -> bytes:
    return b"\n".join(json.dumps(r).encode() for r in records) + b"\n"


def as_object(one: dict[str, Any]) -> bytes:
    return json.dumps(one, indent=2).encode()
