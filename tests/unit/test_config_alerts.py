"""``[alerts]`` in the configuration file and the environment (issue 15): typed, bounded, each key named."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop.alerts import AlertsConfig
from desktop.config import load_config
from desktop.config_schema import ConfigError, render_toml


def write(tmp_path: Path, alerts: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[pusher]\nkey = "k"\n\n[alerts]\n{alerts}', encoding="utf-8")
    return path


def test_defaults_without_the_section(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, ""), env={}).alerts == AlertsConfig()


def test_values_from_the_file_and_the_environment(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "brute_force_failures = 12\nsignup_burst = false\n"),
                         env={"LOGIN_FEED_ALERTS_TRAVEL_SPEED_KMH": "1000", "LOGIN_FEED_ALERTS_BLOCKS": "off"})
    alerts = config.alerts
    assert (alerts.brute_force_failures, alerts.signup_burst, alerts.travel_speed_kmh, alerts.blocks) == (
        12, False, 1000.0, False)
    again = tmp_path / "again"
    again.mkdir()
    saved = again / "config.toml"
    saved.write_text(render_toml(config), encoding="utf-8")
    assert load_config(saved, env={}).alerts == alerts


@pytest.mark.parametrize(("text", "message"), [
    ("brute_force_failures = 1\n", "[alerts] brute_force_failures expected a whole number from 2 to 1,000,000, got 1"),
    ("signup_burst = \"maybe\"\n", "[alerts] signup_burst expected true or false, got 'maybe'"),
    ("brute_forc = 3\n", "unknown key [alerts] brute_forc (did you mean brute_force?)"),
    ("stuffing_accounts = 3\n", "[alerts] stuffing_min_accounts_per_ip (5) must not exceed stuffing_accounts (3)"),
])
def test_a_wrong_value_names_the_file_and_the_key(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    assert str(caught.value).startswith(f"{path}: ")
    assert message in str(caught.value)
