"""Run the ``login-feed`` command as a subprocess and read its output while it runs.

Both pipes are drained by threads into line lists (so the child never blocks on a full pipe), waits have
deadlines, and :meth:`CliProcess.close` always kills and reaps the child and closes the pipes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Self

from support.soketi import REPO_ROOT
from support.waiting import DEFAULT_TIMEOUT, wait_until

LOGIN_FEED = REPO_ROOT / ".venv" / "bin" / "login-feed"


def cli_environment(extra: Mapping[str, str] | None = None, *, drop: Sequence[str] = ()) -> dict[str, str]:
    """The test's environment without any ``LOGIN_FEED_*`` variable, with no real keyring, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOGIN_FEED_")}
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    for name in drop:
        env.pop(name, None)
    return env


class CliProcess:
    def __init__(self, args: Sequence[str | Path], env: Mapping[str, str], *, cwd: Path | None = None) -> None:
        self.args = [str(LOGIN_FEED), *map(str, args)]
        self._lock = threading.Lock()
        self._stdout: list[str] = []
        self._stderr: list[str] = []
        self.process = subprocess.Popen(
            self.args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=dict(env), cwd=cwd, text=True, encoding="utf-8", errors="replace",
        )
        assert self.process.stdout is not None and self.process.stderr is not None
        self._readers = [
            threading.Thread(target=self._drain, args=(self.process.stdout, self._stdout), daemon=True),
            threading.Thread(target=self._drain, args=(self.process.stderr, self._stderr), daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def _drain(self, pipe: IO[str], into: list[str]) -> None:
        for line in pipe:
            with self._lock:
                into.append(line.rstrip("\n"))

    @property
    def stdout_lines(self) -> list[str]:
        with self._lock:
            return list(self._stdout)

    @property
    def stderr_lines(self) -> list[str]:
        with self._lock:
            return list(self._stderr)

    def describe(self) -> str:
        return (f"exit code {self.process.poll()}\n--- stderr ---\n" + "\n".join(self.stderr_lines)
                + "\n--- stdout ---\n" + "\n".join(self.stdout_lines))

    def wait_for_stderr(self, text: str, timeout: float = DEFAULT_TIMEOUT) -> None:
        wait_until(lambda: any(text in line for line in self.stderr_lines) or self.process.poll() is not None,
                   timeout, message=lambda: f"{text!r} on stderr\n{self.describe()}")
        assert any(text in line for line in self.stderr_lines), f"exited before {text!r}\n{self.describe()}"

    def wait_for_stdout_lines(self, count: int, timeout: float = DEFAULT_TIMEOUT) -> list[str]:
        wait_until(lambda: len(self.stdout_lines) >= count, timeout,
                   message=lambda: f"{count} lines on stdout\n{self.describe()}")
        return self.stdout_lines

    def send_signal(self, signum: signal.Signals) -> None:
        self.process.send_signal(signum)

    def wait(self, timeout: float = DEFAULT_TIMEOUT) -> int:
        """Wait for the process to end by itself, then for its output to be read completely."""
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"login-feed still running after {timeout:g} s\n{self.describe()}") from None
        for reader in self._readers:
            reader.join(5)
        return code

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(10)
        for reader in self._readers:
            reader.join(5)
        for pipe in (self.process.stdout, self.process.stderr):
            if pipe is not None:
                pipe.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
