"""Which configuration file is read without ``--config``: the user's, then the system-wide one IT installs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from desktop import config as config_mod
from desktop.config import Config, ConfigError, config_lookup, load_config, save_config, system_config_path


@pytest.fixture
def places(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    user = tmp_path / "home" / "login-feed" / "config.toml"
    system = tmp_path / "etc" / "login-feed" / "config.toml"
    monkeypatch.setattr(config_mod, "default_config_path", lambda: user)
    monkeypatch.setattr(config_mod, "system_config_path", lambda: system)
    return user, system


def write(path: Path, channel: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'[pusher]\nkey = "k"\n\n[feed]\nchannel = "{channel}"\n', encoding="utf-8")
    return path


def test_lookup_order(tmp_path: Path) -> None:
    user, system = tmp_path / "user.toml", tmp_path / "system.toml"
    assert config_lookup(user, system) == user  # neither: the user's (defaults; Settings writes it)
    system.touch()
    assert config_lookup(user, system) == system
    user.touch()
    assert config_lookup(user, system) == user
    assert config_lookup(user, None) == user  # Windows has no system-wide file


def test_the_system_file_is_the_etc_one() -> None:
    assert system_config_path() == Path("/etc/login-feed/config.toml")


def test_system_file_is_read_when_the_user_has_none(places: tuple[Path, Path]) -> None:
    user, system = places
    write(system, "private-from-it")
    config = load_config(None, {})
    assert config.feed.channel == "private-from-it"
    assert config.path == system
    write(user, "private-mine")
    assert load_config(None, {}).feed.channel == "private-mine"
    assert load_config(system, {}).feed.channel == "private-from-it"  # --config always wins


def test_errors_name_the_system_file(places: tuple[Path, Path]) -> None:
    _, system = places
    system.parent.mkdir(parents=True)
    system.write_text("[pusher\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="^" + re.escape(f"{system}: invalid TOML")):
        load_config(None, {})


def test_settings_save_a_user_copy_of_the_system_file(places: tuple[Path, Path]) -> None:
    user, system = places
    write(system, "private-from-it")
    before = system.read_bytes()
    config = load_config(None, {})
    saved = save_config(Config(pusher=config.pusher, feed=config.feed, path=config.path), config.path)
    assert saved == user
    assert system.read_bytes() == before
    assert load_config(None, {}).path == user
