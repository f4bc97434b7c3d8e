"""`login-feed --self-test` from source: passes here, and says why when a check fails."""

import os
import subprocess
import sys
from pathlib import Path

LOGIN_FEED = Path(sys.executable).with_name("login-feed")


def run(**env):
    return subprocess.run([str(LOGIN_FEED), "--self-test"], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen", **env})


def test_self_test_passes_and_reports_each_check():
    result = run(PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring")
    assert result.returncode == 0, result.stdout + result.stderr
    for check in ("resources", "imports", "main window", "keyring", "TLS"):
        assert f"ok   {check}:" in result.stdout
    assert "(source)" in result.stdout
    assert "keyring.backends.null.Keyring (chosen by PYTHON_KEYRING_BACKEND)" in result.stdout
    assert result.stdout.strip().endswith("self-test passed")


def test_a_fail_keyring_fails_the_self_test_with_the_reason():
    result = run(PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
    assert result.returncode == 1
    assert "FAIL keyring: no usable OS keyring" in result.stdout
    assert "self-test failed: 1 check(s)" in result.stdout
