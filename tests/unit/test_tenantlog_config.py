"""``[server]`` is the server's section (``login-feed server``); ``[authserver]`` stays accepted as its alias."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop.authserver.logstream import build_tenant_log
from desktop.config import load_config, save_config
from desktop.config_schema import Config, ConfigError
from desktop.secrets import SecretStore
from desktop.tenantlog.store import StoreError


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


def test_the_tenant_log_keys_and_their_defaults(tmp_path: Path) -> None:
    default = load(tmp_path, "")
    assert default.authserver.database is None and default.authserver.retention_days == 30
    config = load(tmp_path, '[server]\ndatabase = "/var/lib/login-feed/tenant.sqlite3"\nretention_days = 7\n')
    assert config.authserver.database == "/var/lib/login-feed/tenant.sqlite3"
    assert config.authserver.retention_days == 7
    assert load(tmp_path, "", {"LOGIN_FEED_SERVER_RETENTION_DAYS": "14"}).authserver.retention_days == 14


@pytest.mark.parametrize(("text", "expected"), [
    ("retention_days = 0", "[server] retention_days must be how many days tenant-log events are kept"),
    ('retention_days = "week"', "[server] retention_days must be"),
    ('database = "postgresql://feed:hunter2@db.example/feed"', "[server] database must not contain a password"),
    ('database = "https://example.com/db"', "[server] database must be a file path or a postgresql:// URL"),
])
def test_bad_tenant_log_values_are_named(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, f"[server]\n{text}\n")
    assert expected in str(caught.value)
    assert "hunter2" not in str(caught.value)


def test_the_server_uses_the_configured_database_file(tmp_path: Path) -> None:
    config = load(tmp_path, f'[server]\ndatabase = "{tmp_path / "elsewhere" / "log.sqlite3"}"\nretention_days = 3\n')
    secrets = SecretStore({"LOGIN_FEED_LOG_STREAM_TOKEN": "t"})
    tenant_log = build_tenant_log(config, tmp_path / "data", None, secrets=secrets)
    try:
        assert (tmp_path / "elsewhere" / "log.sqlite3").exists()
        assert tenant_log.store.retention_days == 3  # type: ignore[attr-defined]
        assert tenant_log.publisher is None  # no trigger: stored and served, not published
    finally:
        tenant_log.close()


def test_a_postgresql_url_selects_the_postgresql_store(tmp_path: Path, postgres_url: str) -> None:
    config = load(tmp_path, f'[server]\ndatabase = "{postgres_url}"\nretention_days = 4\n')
    tenant_log = build_tenant_log(config, tmp_path / "data", None, secrets=SecretStore({}))
    try:
        assert type(tenant_log.store).__name__ == "PostgresEventStore"
        assert tenant_log.store.retention_days == 4  # type: ignore[attr-defined]
        assert not (tmp_path / "data").exists()  # no SQLite file made on the side
    finally:
        tenant_log.close()
    unreachable = postgres_url.rsplit("/", 1)[0] + "/no_such_database"
    with pytest.raises(StoreError, match="no_such_database"):
        build_tenant_log(load(tmp_path, f'[server]\ndatabase = "{unreachable}"\n'), tmp_path, None,
                         secrets=SecretStore({}))
