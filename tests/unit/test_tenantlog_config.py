"""``[server]`` is the server's section (``login-feed server``); ``[authserver]`` stays accepted as its alias."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop.config import load_config, save_config
from desktop.config_schema import Config, ConfigError


def load(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> Config:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path, env or {})


@pytest.mark.parametrize("section", ["server", "authserver"])
def test_both_section_names_configure_the_server(tmp_path: Path, section: str) -> None:
    config = load(tmp_path, f'[{section}]\npermission = "read:tenant-log"\n')
    assert config.authserver.permission == "read:tenant-log"


def test_both_environment_prefixes_work(tmp_path: Path) -> None:
    assert load(tmp_path, "", {"LOGIN_FEED_SERVER_PERMISSION": "a:b"}).authserver.permission == "a:b"
    assert load(tmp_path, "", {"LOGIN_FEED_AUTHSERVER_PERMISSION": "c:d"}).authserver.permission == "c:d"


def test_the_two_names_must_not_disagree(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"\[authserver\] permission and \[server\] permission disagree|"
                                          r"\[server\] permission and \[authserver\] permission disagree"):
        load(tmp_path, '[server]\npermission = "a:b"\n\n[authserver]\npermission = "c:d"\n')


def test_errors_name_the_section_as_written_and_files_are_written_as_server(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"unknown key \[server\] permision \(did you mean permission\?\)"):
        load(tmp_path, '[server]\npermision = "a:b"\n')
    config = load(tmp_path, '[authserver]\npermission = "read:x"\n')
    text = save_config(config).read_text(encoding="utf-8")
    assert "[server]\n" in text and "[authserver]" not in text
    assert load(tmp_path, text).authserver.permission == "read:x"
