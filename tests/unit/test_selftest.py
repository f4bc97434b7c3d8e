"""`login-feed --self-test` from source: passes here, and says why when a check fails."""

import os
import subprocess
import sys
from pathlib import Path

LOGIN_FEED = Path(sys.executable).with_name("login-feed")
NULL_KEYRING = "keyring.backends.null.Keyring"


def run(**env):
    return subprocess.run([str(LOGIN_FEED), "--self-test"], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen", **env})


def test_self_test_passes_and_reports_each_check():
    result = run(PYTHON_KEYRING_BACKEND=NULL_KEYRING)
    assert result.returncode == 0, result.stdout + result.stderr
    for check in ("resources", "imports", "main window", "keyring", "TLS"):
        assert f"ok   {check}:" in result.stdout
    assert "(source)" in result.stdout
    assert "(Qt 6." in result.stdout
    assert "keyring.backends.null.Keyring (chosen by PYTHON_KEYRING_BACKEND)" in result.stdout
    if sys.platform.startswith("linux"):  # the real backend must be there even when another one is chosen
        assert "keyring.backends.SecretService.Keyring is present" in result.stdout
    assert "desktop modules and uvicorn's run-time imports" in result.stdout
    assert result.stdout.strip().endswith("self-test passed")


def test_a_fail_keyring_fails_the_self_test_with_the_reason():
    result = run(PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
    assert result.returncode == 1
    assert "FAIL keyring: no usable OS keyring (keyring.backends.fail.Keyring)" in result.stdout
    assert "PYTHON_KEYRING_BACKEND" in result.stdout
    assert "self-test failed: 1 check(s)" in result.stdout


def test_missing_resources_fail_the_self_test_naming_them(tmp_path):
    code = ("import sys, pathlib, desktop.resources as r; r.root = lambda: pathlib.Path(sys.argv[1]); "
            "from desktop.cli import main; sys.exit(main(['--self-test']))")
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True,
                            timeout=120, env={**os.environ, "QT_QPA_PLATFORM": "offscreen",
                                              "PYTHON_KEYRING_BACKEND": NULL_KEYRING})
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"FAIL resources: missing under {tmp_path}: icons/login-feed.svg" in result.stdout
    assert "auth0/login-feed-action.js" in result.stdout
    assert "ok   main window:" in result.stdout  # the other checks still run and report


def test_no_system_ca_certificates_fail_the_tls_check(tmp_path):
    result = run(PYTHON_KEYRING_BACKEND=NULL_KEYRING, SSL_CERT_FILE=str(tmp_path / "none.pem"),
                 SSL_CERT_DIR=str(tmp_path))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAIL TLS: no system CA certificates" in result.stdout
    assert "SSL_CERT_FILE" in result.stdout
