"""``login-feed login / whoami / logout`` end to end: real processes against the real OpenID provider.

The refresh token persists between processes in a keyrings.alt plain-text keyring inside a temporary
``XDG_DATA_HOME``, so nothing touches the developer's keyring.
"""

from __future__ import annotations

import base64
import configparser
import re
import signal
from pathlib import Path

import pytest
import requests
from support.cli_process import CliProcess, cli_environment
from support.oidc_provider import OidcProvider as OidcTestServer
from support.waiting import wait_until

pytestmark = pytest.mark.integration

USER_CODE_LINE = re.compile(r"^    [A-Z]{4}-[A-Z]{4}$")
QR_BLOCKS = set("█▀▄")


@pytest.fixture
def home(tmp_path: Path) -> Path:
    for name in ("home", "data", "config"):
        (tmp_path / name).mkdir()
    return tmp_path


@pytest.fixture
def env(home: Path) -> dict[str, str]:
    return cli_environment({
        "PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring",
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "HOME": str(home / "home"),
        "BROWSER": "false",  # should anything try to open a browser, it fails quietly
    })


@pytest.fixture
def config(home: Path, oidc_provider: OidcTestServer) -> Path:
    path = home / "login-feed.toml"
    path.write_text(
        "[auth0]\n"
        f'issuer = "{oidc_provider.issuer}"\n'
        f'client_id = "{oidc_provider.client_id}"\n'
        f'audience = "{oidc_provider.audience}"\n'
        "\n[pusher]\n"
        'key = "k"\n',
        encoding="utf-8",
    )
    return path


def keyring_file(home: Path) -> Path:
    return home / "data" / "python_keyring" / "keyring_pass.cfg"


def stored_refresh_tokens(home: Path) -> list[str]:
    """The refresh tokens in the plain-text test keyring (keyrings.alt escapes names, base64-encodes values)."""
    file = keyring_file(home)
    if not file.exists():
        return []
    parser = configparser.RawConfigParser()
    parser.read(file, encoding="utf-8")
    return [base64.b64decode(value).decode() for section in parser.sections()
            for name, value in parser.items(section) if name.startswith("refresh_2dtoken")]


def run(args: list[str], env: dict[str, str], timeout: float = 15.0) -> CliProcess:
    """Run to the end (the caller reads the output); the process is closed either way."""
    with CliProcess(args, env) as process:
        process.wait(timeout)
    return process


def user_code_of(process: CliProcess, timeout: float = 15.0) -> str:
    def code() -> str | None:
        return next((line.strip() for line in process.stdout_lines if USER_CODE_LINE.match(line)), None)

    wait_until(lambda: code() is not None or process.process.poll() is not None, timeout,
               message=lambda: f"a user code line\n{process.describe()}")
    found = code()
    assert found is not None, f"exited without showing a user code\n{process.describe()}"
    return found


def test_login_whoami_logout_whoami(oidc_provider: OidcTestServer, config: Path, env, home: Path) -> None:
    with CliProcess(["--config", config, "login", "--no-browser"], env) as login:
        user_code = user_code_of(login)
        oidc_provider.approve(user_code, sub="auth0|demo-ada")
        assert login.wait(30) == 0, login.describe()
    out = login.stdout_lines
    assert "Signed in as Ada Lovelace <ada@example.com>." in out, login.describe()
    # The verification URL as text, the code, and a QR code block for a phone.
    url_lines = [line.strip() for line in out if line.startswith(f"    {oidc_provider.base_url}/")]
    assert url_lines, login.describe()
    assert all(" " not in url for url in url_lines)
    qr_lines = [line for line in out if set(line) & QR_BLOCKS]
    assert len(qr_lines) >= 10, login.describe()
    assert any("scan this QR code" in line for line in out)
    assert login.stderr_lines == [], login.describe()
    # The refresh token is in the (test) keyring, and nowhere in the output.
    [refresh_token] = stored_refresh_tokens(home)
    assert not any(refresh_token in line for line in out)

    whoami = run(["--config", config, "whoami"], env)
    assert whoami.process.returncode == 0, whoami.describe()
    assert whoami.stdout_lines == ["Ada Lovelace <ada@example.com>"]

    logout = run(["--config", config, "logout"], env)
    assert logout.process.returncode == 0, logout.describe()
    assert logout.stdout_lines == ["Signed out."]
    assert stored_refresh_tokens(home) == []

    again = run(["--config", config, "whoami"], env)
    assert again.process.returncode == 1, again.describe()
    assert again.stdout_lines == []
    assert again.stderr_lines == ["login-feed: not signed in: run `login-feed login`"]


def test_denied_login_exits_non_zero(oidc_provider: OidcTestServer, config: Path, env, home: Path) -> None:
    with CliProcess(["--config", config, "login", "--no-browser"], env) as login:
        oidc_provider.deny(user_code_of(login))
        code = login.wait(30)
    assert code == 1, login.describe()
    assert any("denied" in line for line in login.stderr_lines), login.describe()
    assert not any(line.startswith("Signed in") for line in login.stdout_lines)
    assert stored_refresh_tokens(home) == []


def test_ctrl_c_cancels_the_login(oidc_provider: OidcTestServer, config: Path, env) -> None:
    with CliProcess(["--config", config, "login", "--no-browser"], env) as login:
        user_code_of(login)
        wait_until(lambda: any(line.startswith("Waiting for you to approve") for line in login.stdout_lines), 30,
                   message=login.describe)
        login.send_signal(signal.SIGINT)
        code = login.wait(30)
    assert code == 130, login.describe()
    assert any("cancelled" in line for line in login.stderr_lines), login.describe()
    assert not any("Traceback" in line for line in login.stderr_lines), login.describe()


def test_login_without_auth0_section_exits_2(home: Path, env) -> None:
    config = home / "no-auth0.toml"
    config.write_text('[pusher]\nkey = "k"\n', encoding="utf-8")
    for command in ("login", "whoami", "logout"):
        process = run(["--config", config, command], env)
        assert process.process.returncode == 2, process.describe()
        assert process.stderr_lines == [
            "login-feed: signing in needs [auth0] domain (or issuer) and client_id in the configuration"
        ], process.describe()


def test_whoami_after_server_side_revocation(oidc_provider: OidcTestServer, config: Path, env, home: Path) -> None:
    with CliProcess(["--config", config, "login", "--no-browser"], env) as login:
        oidc_provider.approve(user_code_of(login), sub="auth0|demo-grace")
        assert login.wait(30) == 0, login.describe()
    [refresh_token] = stored_refresh_tokens(home)
    # The user removes this device from their authorized applications (a revocation elsewhere).
    with requests.post(oidc_provider.revocation_endpoint, timeout=5,
                       data={"client_id": oidc_provider.client_id, "token": refresh_token}) as revoked:
        assert revoked.status_code == 200

    whoami = run(["--config", config, "whoami"], env)
    assert whoami.process.returncode == 1, whoami.describe()
    assert whoami.stdout_lines == []
    assert whoami.stderr_lines == ["login-feed: your sign-in has ended (expired or revoked): run `login-feed login`"]
    assert stored_refresh_tokens(home) == []  # the dead token is forgotten


def test_login_against_a_wrong_issuer_fails_cleanly(oidc_provider: OidcTestServer, home: Path, env) -> None:
    """A mistyped issuer that still reaches a web server (discovery answers 404): one clear line, no traceback."""
    config = home / "wrong-issuer.toml"
    config.write_text(
        f'[auth0]\nissuer = "{oidc_provider.issuer}no-such-tenant/"\nclient_id = "{oidc_provider.client_id}"\n',
        encoding="utf-8")
    login = run(["--config", config, "login", "--no-browser"], env)
    assert not any("Traceback" in line for line in login.stderr_lines), login.describe()
    assert login.process.returncode == 1, login.describe()
    assert len(login.stderr_lines) == 1, login.describe()
    assert login.stderr_lines[0].startswith("login-feed: ")
    assert "404" in login.stderr_lines[0]
