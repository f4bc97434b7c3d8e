"""The ``[alerts]`` settings: each rule's switch and thresholds, with defaults a support desk can start with.

Keys are flat (``[alerts] brute_force_failures = 10``) like every other section, so the TOML loader, the
``LOGIN_FEED_ALERTS_*`` variables (strings: ``"true"``, ``"12"``) and Settings can all feed
:meth:`AlertsConfig.from_mapping`, which names the key and what is expected when a value is wrong.

Defaults are chosen so that ordinary traffic raises nothing: people mistype a password two or three times, not ten
times in five minutes; a café or office NAT has a handful of people failing, not twenty distinct accounts.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

__all__ = ["AlertsConfig", "AlertsConfigError"]

_TRUE = frozenset({"true", "yes", "on", "1"})
_FALSE = frozenset({"false", "no", "off", "0"})


class AlertsConfigError(ValueError):
    """A wrong ``[alerts]`` value; the message names the key and what is expected."""


def _switch(doc: str) -> Any:
    return field(default=True, metadata={"doc": doc})


def _number(default: float, low: float, high: float, doc: str) -> Any:
    return field(default=default, metadata={"low": low, "high": high, "doc": doc})


@dataclass(frozen=True)
class AlertsConfig:
    """Thresholds of :class:`desktop.alerts.AlertDetector`; times are seconds of event time."""

    lateness_seconds: float = _number(120.0, 0, 3600, "how late (by `at`) an event may arrive and still count")
    update_every_seconds: float = _number(300.0, 1, 86400, "an open alert is re-sent with news at most this often")
    quiet_seconds: float = _number(900.0, 1, 86400, "an alert closes after this long without new events")
    max_open_per_rule: int = _number(25, 1, 10000, "more subjects at once than this are folded into one alert")

    credential_stuffing: bool = _switch("alert on many accounts failing from a few IPs, or a failure surge")
    stuffing_window_seconds: float = _number(300.0, 10, 3600, "the window of the credential-stuffing rule")
    stuffing_accounts: int = _number(20, 2, 1_000_000, "distinct accounts failing from a few IPs in the window")
    stuffing_ips: int = _number(3, 1, 100, "how many IPs ('a few') the accounts may come from")
    stuffing_min_accounts_per_ip: int = _number(5, 1, 1_000_000, "accounts an IP must fail before it counts")
    stuffing_rate_factor: float = _number(5.0, 1.5, 1000, "a failure rate this many times the baseline is a surge")
    stuffing_rate_min_failures: int = _number(100, 1, 10_000_000, "failures in the window a surge needs at least")
    stuffing_baseline_seconds: float = _number(3600.0, 600, 86400, "how far back the usual failure rate is measured")

    brute_force: bool = _switch("alert on many failed logins for one account")
    brute_force_window_seconds: float = _number(300.0, 10, 86400, "the window of the brute-force rule")
    brute_force_failures: int = _number(10, 2, 1_000_000, "failed logins for one account in the window")

    impossible_travel: bool = _switch("alert on one account logging in from places too far apart")
    travel_speed_kmh: float = _number(900.0, 50, 100_000, "the fastest anyone travels (an airliner)")
    travel_min_km: float = _number(500.0, 0, 20_000, "shorter distances are never alerted (GeoIP is not exact)")
    travel_window_seconds: float = _number(43200.0, 600, 7 * 86400, "how long a login's place is remembered")

    blocks: bool = _switch("alert on Auth0's blocks (limit_wc, limit_mu, limit_sul)")
    breached_passwords: bool = _switch("alert on breached passwords (pwd_leak, signup_pwd_leak, reset_pwd_leak)")

    signup_burst: bool = _switch("alert on many signups from one IP")
    signup_burst_window_seconds: float = _number(60.0, 5, 3600, "the window of the signup-burst rule")
    signup_burst_count: int = _number(10, 2, 1_000_000, "signups from one IP in the window")

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], *, where: str = "[alerts]") -> AlertsConfig:
        """Defaults overridden by ``values``; :class:`AlertsConfigError` names the first wrong key."""
        if not isinstance(values, Mapping):
            raise AlertsConfigError(f"{where} must be a table of settings, got {type(values).__name__}")
        known = {f.name: f for f in fields(cls)}
        checked: dict[str, Any] = {}
        for key, value in values.items():
            spec = known.get(key) if isinstance(key, str) else None
            if spec is None:
                close = difflib.get_close_matches(str(key), list(known), n=1)
                hint = f" (did you mean {close[0]}?)" if close else ""
                raise AlertsConfigError(f"{where}: unknown key {key!r}{hint}; known keys: {', '.join(known)}")
            checked[key] = _check(f"{where} {key}", value, spec.default, spec.metadata)
        config = cls(**checked)
        if config.stuffing_min_accounts_per_ip > config.stuffing_accounts:
            raise AlertsConfigError(
                f"{where} stuffing_min_accounts_per_ip ({config.stuffing_min_accounts_per_ip}) must not exceed "
                f"stuffing_accounts ({config.stuffing_accounts})")
        return config

    @classmethod
    def check_value(cls, key: str, value: Any, *, where: str = "[alerts]") -> Any:
        """One key's value, typed and within its bounds (the keys together: :meth:`from_mapping`)."""
        spec = {f.name: f for f in fields(cls)}.get(key)
        if spec is None:
            raise AlertsConfigError(f"{where}: unknown key {key!r}")
        return _check(f"{where} {key}", value, spec.default, spec.metadata)

    @classmethod
    def describe(cls) -> dict[str, str]:
        """Each key with what it means and its default, for Settings and the README."""
        return {f.name: f"{f.metadata['doc']} (default {f.default})" for f in fields(cls)}


def _check(label: str, value: Any, default: Any, meta: Mapping[str, Any]) -> Any:
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise AlertsConfigError(f"{label}: expected true or false, got {_shown(value)}")
    whole = isinstance(default, int)
    number = _parse(value, whole)
    low, high = meta["low"], meta["high"]
    if number is None or not low <= number <= high:
        kind = "a whole number" if whole else "a number"
        raise AlertsConfigError(f"{label}: expected {kind} from {_num(low)} to {_num(high)}, got {_shown(value)}")
    return number


def _parse(value: Any, whole: bool) -> float | int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = int(value.strip()) if whole else float(value.strip())
        except ValueError:
            return None
    if whole:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return value if isinstance(value, int) else None
    if isinstance(value, int | float) and math.isfinite(value):
        return float(value)
    return None


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…"


def _num(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:g}"
