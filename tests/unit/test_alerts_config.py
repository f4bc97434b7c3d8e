"""``[alerts]``: defaults, values as TOML or environment variables give them, and errors that name the key."""

from __future__ import annotations

import pytest

from desktop.alerts import AlertsConfig, AlertsConfigError


def test_defaults_and_overrides_from_toml_or_environment_strings() -> None:
    assert AlertsConfig.from_mapping({}) == AlertsConfig()
    config = AlertsConfig.from_mapping({"brute_force": False, "brute_force_failures": 12,
                                        "impossible_travel": "off", "travel_speed_kmh": "1000",
                                        "signup_burst_window_seconds": 30, "stuffing_rate_factor": "7.5"})
    assert config.brute_force is False and config.brute_force_failures == 12
    assert config.impossible_travel is False and config.travel_speed_kmh == 1000.0
    assert config.signup_burst_window_seconds == 30.0 and config.stuffing_rate_factor == 7.5


@pytest.mark.parametrize(("values", "message"), [
    ({"brute_forse": True}, "[alerts]: unknown key 'brute_forse' (did you mean brute_force?); known keys: "),
    ({"brute_force_failures": 1}, "[alerts] brute_force_failures: expected a whole number from 2 to 1,000,000, got 1"),
    ({"brute_force_failures": 2.5}, "[alerts] brute_force_failures: expected a whole number"),
    ({"brute_force_failures": True}, "[alerts] brute_force_failures: expected a whole number"),
    ({"stuffing_rate_factor": "lots"},
     "[alerts] stuffing_rate_factor: expected a number from 1.5 to 1,000, got 'lots'"),
    ({"travel_speed_kmh": float("nan")}, "[alerts] travel_speed_kmh: expected a number from 50 to 100,000, got nan"),
    ({"blocks": 2}, "[alerts] blocks: expected true or false, got 2"),
    ({"blocks": "maybe"}, "[alerts] blocks: expected true or false, got 'maybe'"),
    ({"stuffing_accounts": 10, "stuffing_min_accounts_per_ip": 11},
     "[alerts] stuffing_min_accounts_per_ip (11) must not exceed stuffing_accounts (10)"),
])
def test_wrong_values_are_named_with_what_is_expected(values: dict[str, object], message: str) -> None:
    with pytest.raises(AlertsConfigError) as caught:
        AlertsConfig.from_mapping(values)
    assert str(caught.value).startswith(message)


def test_where_the_values_came_from_is_part_of_the_message() -> None:
    with pytest.raises(AlertsConfigError, match=r"^/etc/login-feed.toml \[alerts\] blocks: expected true or false"):
        AlertsConfig.from_mapping({"blocks": 3}, where="/etc/login-feed.toml [alerts]")
    with pytest.raises(AlertsConfigError, match="must be a table of settings, got list"):
        AlertsConfig.from_mapping([("blocks", True)])  # type: ignore[arg-type]


def test_every_key_is_described_with_its_default() -> None:
    described = AlertsConfig.describe()
    assert set(described) == set(AlertsConfig.__dataclass_fields__)
    assert described["brute_force_failures"].endswith("(default 10)")
