"""The refresh token and the app secret in a real Secret Service (gnome-keyring), unlocked and locked.

Every other keyring test uses keyrings.alt or an in-memory backend; here keyring's own ``SecretService``
backend talks D-Bus to ``gnome-keyring-daemon`` on a private session bus (tests/support/secret_service.py).
The app runs in child processes (the ``login-feed`` CLI, or tests/support/keyring_ops.py driving the
app's two stores); the test checks the keyring itself over the bus.

A locked collection comes in two kinds: no prompter at all (a server or CI without a desktop: the daemon
refuses the unlock at once) and an unlock dialog nobody answers (a desktop whose user is away: only the
app's 5 s deadline ends the wait). Either way the user reads that the keyring is locked and stays signed
in for this session only.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from support.cli_process import CliProcess, cli_environment
from support.keyring_ops import APP_KEY, CLIENT_ID, ISSUER, run_keyring_ops
from support.oidc_provider import OidcProvider as OidcTestServer
from support.secret_service import SECRET_SERVICE_BACKEND, SecretService, secret_service_fixture  # noqa: F401
from support.waiting import wait_until

from desktop import APP_NAME
from desktop.secrets import KEYRING_TIMEOUT

pytestmark = pytest.mark.integration

USER_CODE_LINE = re.compile(r"^    [A-Z]{4}-[A-Z]{4}$")
TOKEN_ACCOUNT = f"refresh-token:{ISSUER.rstrip('/')}|{CLIENT_ID}"
SECRET_ACCOUNT = f"pusher-secret:{APP_KEY}"


def stored(service: SecretService, account: str) -> list[bytes]:
    return [secret for _, secret in service.items(service=APP_NAME, username=account)]


def test_refresh_token_store_read_delete(secret_service: SecretService) -> None:
    token = "rt-secret-service-0123456789"
    results = run_keyring_ops([{"op": "token.backend"}, {"op": "token.save", "value": token},
                               {"op": "token.load"}], secret_service.environment())
    assert [r.get("error") for r in results] == [None, None, None], results
    assert results[0]["value"] == SECRET_SERVICE_BACKEND
    assert results[2]["value"] == token
    assert stored(secret_service, TOKEN_ACCOUNT) == [token.encode()]
    assert not secret_service.files_contain(token)  # the keyring file on disk is encrypted

    # A new process (a restart of the app) reads it back, then signing out deletes it.
    results = run_keyring_ops([{"op": "token.load"}, {"op": "token.delete"}, {"op": "token.load"},
                               {"op": "token.delete"}], secret_service.environment())
    assert [(r["op"], r.get("value"), r.get("error")) for r in results] == [
        ("token.load", token, None), ("token.delete", None, None), ("token.load", None, None),
        ("token.delete", None, None)]  # deleting what is already gone is fine
    assert stored(secret_service, TOKEN_ACCOUNT) == []


def test_app_secret_store_read_delete(secret_service: SecretService) -> None:
    secret = "pusher-app-secret-abcdef"
    results = run_keyring_ops([{"op": "secret.get"}, {"op": "secret.set", "value": secret},
                               {"op": "secret.get"}], secret_service.environment())
    assert [(r.get("value"), r.get("error")) for r in results] == [(None, None), (None, None), (secret, None)]
    assert stored(secret_service, SECRET_ACCOUNT) == [secret.encode()]
    assert not secret_service.files_contain(secret)

    results = run_keyring_ops([{"op": "secret.delete"}, {"op": "secret.get"}, {"op": "secret.delete"}],
                              secret_service.environment())
    assert [(r.get("value"), r.get("error")) for r in results] == [(None, None)] * 3, results
    assert stored(secret_service, SECRET_ACCOUNT) == []


def _assert_locked_messages(results: list[dict[str, object]]) -> None:
    for result in results:
        print(f"{result['op']}: {result['seconds']} s (deadline {KEYRING_TIMEOUT:g} s): {result.get('message')}")
    for result in results:
        message = str(result.get("message", ""))
        assert result.get("error") in ("KeyringUnavailable", "SecretsUnavailable"), results
        assert "locked" in message, result
    for result in results:
        if result["op"].startswith("token."):  # type: ignore[union-attr]
            assert str(result["message"]).endswith("you stay signed in for this session only"), result
        else:
            assert "LOGIN_FEED_PUSHER_SECRET" in str(result["message"]), result


LOCKED_OPS = [{"op": "token.save", "value": "rt-new"}, {"op": "token.load"}, {"op": "token.delete"},
              {"op": "secret.set", "value": "new-secret"}, {"op": "secret.get"}, {"op": "secret.delete"}]


def test_locked_collection_without_a_prompter(secret_service: SecretService) -> None:
    """No desktop (no prompter): the unlock is refused at once and every call says the keyring is locked."""
    run_keyring_ops([{"op": "token.save", "value": "rt-old"}, {"op": "secret.set", "value": "old-secret"}],
                    secret_service.environment())
    secret_service.lock()
    _assert_locked_messages(run_keyring_ops(LOCKED_OPS, secret_service.environment()))
    assert secret_service.is_locked()


def test_locked_collection_with_an_unanswered_prompt(secret_service: SecretService) -> None:
    """An unlock dialog nobody answers: the app's deadline ends each call and says the keyring may be locked."""
    secret_service.lock()
    with secret_service.unanswered_unlock_prompt():
        _assert_locked_messages(run_keyring_ops([{"op": "token.load"}, {"op": "secret.get"}],
                                                secret_service.environment()))


# -- the real CLI: login, whoami, logout ----------------------------------------------------------------------
@pytest.fixture
def config(tmp_path: Path, oidc_provider: OidcTestServer) -> Path:
    path = tmp_path / "login-feed.toml"
    path.write_text(f'[auth0]\nissuer = "{oidc_provider.issuer}"\nclient_id = "{oidc_provider.client_id}"\n'
                    f'audience = "{oidc_provider.audience}"\n\n[pusher]\nkey = "k"\n', encoding="utf-8")
    return path


def cli(secret_service: SecretService) -> dict[str, str]:
    return cli_environment({**secret_service.environment(), "BROWSER": "false"})


def login(oidc_provider: OidcTestServer, config: Path, env: dict[str, str]) -> CliProcess:
    with CliProcess(["--config", config, "login", "--no-browser"], env) as process:
        wait_until(lambda: any(USER_CODE_LINE.match(line) for line in process.stdout_lines)
                   or process.process.poll() is not None, 15, message=process.describe)
        code = next((line.strip() for line in process.stdout_lines if USER_CODE_LINE.match(line)), None)
        assert code is not None, process.describe()
        oidc_provider.approve(code, sub="auth0|demo-ada")
        assert process.wait(30) == 0, process.describe()
    return process


def run(args: list[str | Path], env: dict[str, str]) -> CliProcess:
    with CliProcess(args, env) as process:
        process.wait(30)
    return process


def refresh_tokens(service: SecretService, oidc_provider: OidcTestServer) -> list[bytes]:
    return stored(service, f"refresh-token:{oidc_provider.issuer.rstrip('/')}|{oidc_provider.client_id}")


def test_cli_login_whoami_logout(secret_service: SecretService, oidc_provider: OidcTestServer,
                                 config: Path) -> None:
    env = cli(secret_service)
    signed_in = login(oidc_provider, config, env)
    assert "Signed in as Ada Lovelace <ada@example.com>." in signed_in.stdout_lines
    assert signed_in.stderr_lines == [], signed_in.describe()
    [token] = refresh_tokens(secret_service, oidc_provider)
    assert not secret_service.files_contain(token.decode())

    whoami = run(["--config", config, "whoami"], env)
    assert whoami.stdout_lines == ["Ada Lovelace <ada@example.com>"], whoami.describe()
    logout = run(["--config", config, "logout"], env)
    assert logout.stdout_lines == ["Signed out."], logout.describe()
    assert refresh_tokens(secret_service, oidc_provider) == []


def test_cli_login_with_a_locked_keyring_stays_signed_in_for_the_session(
        secret_service: SecretService, oidc_provider: OidcTestServer, config: Path) -> None:
    env = cli(secret_service)
    secret_service.lock()
    signed_in = login(oidc_provider, config, env)
    assert "Signed in as Ada Lovelace <ada@example.com>." in signed_in.stdout_lines, signed_in.describe()
    warnings = [line for line in signed_in.stderr_lines if "locked" in line]
    assert warnings and all("this session only" in line for line in warnings), signed_in.describe()

    whoami = run(["--config", config, "whoami"], env)  # nothing was kept: the next process is signed out
    assert whoami.process.returncode == 1, whoami.describe()
    assert any("locked" in line for line in whoami.stderr_lines), whoami.describe()
    assert secret_service.is_locked()
