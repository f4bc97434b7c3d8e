"""SecretStore: environment first, then the OS keyring; failures explained; values never leaked."""

from __future__ import annotations

import builtins
import logging
from collections.abc import Iterator
from typing import Any

import keyring
import keyring.core
import pytest
from keyring.backends import fail
from keyring.errors import KeyringLocked, PasswordDeleteError, PasswordSetError
from support.signin_helpers import HangingKeyring, MemoryKeyring

from desktop.secrets import SecretStore, SecretsUnavailable

SECRET = "7ad3773142a6692b25b8"
MASTER = "nxzvbGdxlzfPAvTbUXkMzKAXvVDhHtvGqNXmHHcZIYY="


class BrokenKeyring(MemoryKeyring):
    """Fails like a locked or misbehaving backend, echoing what it was given (as some do)."""

    def get_password(self, service: str, username: str) -> str | None:
        raise KeyringLocked("collection is locked")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise PasswordSetError(f"could not store {password!r}")

    def delete_password(self, service: str, username: str) -> None:
        raise PasswordDeleteError("dbus said no")


@pytest.fixture
def memory() -> MemoryKeyring:
    return MemoryKeyring()


@pytest.fixture
def global_keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[MemoryKeyring]:
    """Install a memory keyring process-wide with keyring.set_keyring; monkeypatch restores the old one."""
    monkeypatch.setattr(keyring.core, "_keyring_backend", keyring.core._keyring_backend)
    ring = MemoryKeyring()
    keyring.set_keyring(ring)
    yield ring


def test_environment_wins_and_the_keyring_is_not_touched() -> None:
    env = {"LOGIN_FEED_PUSHER_SECRET": SECRET, "LOGIN_FEED_ENCRYPTION_MASTER_KEY": MASTER}
    store = SecretStore(env, backend=fail.Keyring())  # any keyring access would raise
    assert store.pusher_secret("key1") == SECRET
    assert store.encryption_master_key() == MASTER


def test_empty_environment_variable_falls_back_to_the_keyring(memory: MemoryKeyring) -> None:
    memory.store[("login-feed", "pusher-secret:key1")] = SECRET
    store = SecretStore({"LOGIN_FEED_PUSHER_SECRET": ""}, backend=memory)
    assert store.pusher_secret("key1") == SECRET


def test_keyring_names_and_round_trip(global_keyring: MemoryKeyring) -> None:
    store = SecretStore({})
    assert store.pusher_secret("key1") is None
    assert store.encryption_master_key() is None
    store.set_pusher_secret("key1", SECRET)
    store.set_encryption_master_key(MASTER)
    assert global_keyring.store == {
        ("login-feed", "pusher-secret:key1"): SECRET,
        ("login-feed", "encryption-master-key"): MASTER,
    }
    assert keyring.get_password("login-feed", "pusher-secret:key1") == SECRET
    assert store.pusher_secret("key1") == SECRET
    assert store.pusher_secret("key2") is None  # one secret per app key
    assert store.encryption_master_key() == MASTER
    store.delete_pusher_secret("key1")
    store.delete_encryption_master_key()
    assert global_keyring.store == {}


def test_deleting_a_missing_secret_is_fine(memory: MemoryKeyring) -> None:
    store = SecretStore({}, backend=memory)
    store.delete_pusher_secret("key1")
    store.delete_encryption_master_key()


def test_bad_arguments_do_not_echo_values(memory: MemoryKeyring) -> None:
    store = SecretStore({}, backend=memory)
    with pytest.raises(ValueError, match="app key is required"):
        store.pusher_secret("")
    with pytest.raises(ValueError, match="must be a non-empty string"):
        store.set_pusher_secret("key1", "")
    assert memory.store == {}


def test_no_keyring_gives_clear_advice() -> None:
    store = SecretStore({}, backend=fail.Keyring())
    with pytest.raises(SecretsUnavailable) as info:
        store.pusher_secret("key1")
    message = str(info.value)
    assert message.startswith("cannot read the Pusher app secret for key key1 from the OS keyring: no OS keyring")
    assert message.endswith("you can set LOGIN_FEED_PUSHER_SECRET in the environment instead")
    with pytest.raises(SecretsUnavailable, match="cannot store the encryption master key in the OS keyring"):
        store.set_encryption_master_key(MASTER)
    with pytest.raises(SecretsUnavailable, match="LOGIN_FEED_ENCRYPTION_MASTER_KEY"):
        store.delete_encryption_master_key()


def test_keyring_errors_never_carry_the_secret() -> None:
    store = SecretStore({}, backend=BrokenKeyring())
    with pytest.raises(SecretsUnavailable) as info:
        store.set_pusher_secret("key1", SECRET)
    assert SECRET not in str(info.value)
    assert "PasswordSetError" in str(info.value)
    assert info.value.__suppress_context__
    with pytest.raises(SecretsUnavailable, match=r"the OS keyring is locked"):
        store.encryption_master_key()


def test_nothing_is_written_to_files_or_logs(
    memory: MemoryKeyring, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def no_open(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"secrets module opened a file: {args!r}")

    caplog.set_level(logging.DEBUG)
    monkeypatch.setattr(builtins, "open", no_open)
    store = SecretStore({"LOGIN_FEED_ENCRYPTION_MASTER_KEY": MASTER}, backend=memory)
    store.set_pusher_secret("key1", SECRET)
    assert store.pusher_secret("key1") == SECRET
    assert store.encryption_master_key() == MASTER
    store.delete_pusher_secret("key1")
    assert caplog.records, "expected debug logging of what happened"
    assert SECRET not in caplog.text
    assert MASTER not in caplog.text


def test_a_keyring_that_never_answers_fails_clearly_within_the_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    import desktop.secrets

    monkeypatch.setattr(desktop.secrets, "KEYRING_TIMEOUT", 0.2)
    ring = HangingKeyring(hang=10)
    store = SecretStore(env={}, backend=ring)
    started = time.monotonic()
    try:
        with pytest.raises(SecretsUnavailable, match=r"did not answer within 0\.2 s") as raised:
            store.pusher_secret("app-key")
    finally:
        ring.release()
    assert time.monotonic() - started < 5  # not the keyring's 10 s hang (room for a loaded machine)
    assert "LOGIN_FEED_PUSHER_SECRET" in str(raised.value)
