"""Run the app's keyring operations in a child process and report each outcome as one JSON line.

The test process keeps the null keyring (tests/conftest.py); this script runs with whatever
``PYTHON_KEYRING_BACKEND`` and ``DBUS_SESSION_BUS_ADDRESS`` it is given (tests/support/secret_service.py),
through the app's own stores: :class:`desktop.auth.store.RefreshTokenStore` and
:class:`desktop.secrets.SecretStore`. Operations come on stdin as a JSON list, for example
``[{"op": "token.save", "value": "..."}, {"op": "secret.get"}]``; each result carries the value or the
error (type and message) and the seconds it took.

Usage from a test: :func:`run_keyring_ops`.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

ISSUER = "https://tenant.example.com/"
CLIENT_ID = "keyring-test-client"
APP_KEY = "app-key-1"
RUN_TIMEOUT = 60.0


def _operations() -> dict[str, Callable[[dict[str, Any]], object]]:
    from desktop.auth.store import RefreshTokenStore  # only in the child process
    from desktop.secrets import SecretStore

    tokens = RefreshTokenStore(ISSUER, CLIENT_ID)
    secrets = SecretStore(env={})  # nothing from the environment: the keyring or nothing
    return {
        "token.backend": lambda _: tokens.backend_name(),
        "token.save": lambda op: tokens.save(op["value"]),
        "token.load": lambda _: tokens.load(),
        "token.delete": lambda _: tokens.delete(),
        "secret.set": lambda op: secrets.set_pusher_secret(APP_KEY, op["value"]),
        "secret.get": lambda _: secrets.pusher_secret(APP_KEY),
        "secret.delete": lambda _: secrets.delete_pusher_secret(APP_KEY),
    }


def main() -> int:
    operations = _operations()
    for op in json.load(sys.stdin):
        started = time.monotonic()
        result: dict[str, object] = {"op": op["op"]}
        try:
            result["value"] = operations[op["op"]](op)
        except Exception as exc:  # reported to the test, which decides
            result["error"] = type(exc).__name__
            result["message"] = str(exc)
        result["seconds"] = round(time.monotonic() - started, 3)
        print(json.dumps(result), flush=True)
    return 0


def run_keyring_ops(ops: Sequence[Mapping[str, str]], env: Mapping[str, str]) -> list[dict[str, Any]]:
    """Run ``ops`` in a fresh Python process with ``env``; one result dict per operation, in order."""
    done = subprocess.run([sys.executable, str(Path(__file__).resolve())], input=json.dumps(list(ops)),
                          capture_output=True, text=True, env=dict(env), timeout=RUN_TIMEOUT, check=False)
    results = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert done.returncode == 0 and len(results) == len(ops), (
        f"keyring_ops exited {done.returncode}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}")
    return results


if __name__ == "__main__":
    sys.exit(main())
