"""The one task helper: results on the GUI thread, stale ones dropped, futures followed without blocking."""

from __future__ import annotations

import threading
from concurrent.futures import Future

import shiboken6
from PySide6.QtCore import QObject

from desktop.util.tasks import follow, run_task, to_main


def test_a_task_result_arrives_on_the_gui_thread(qtbot) -> None:
    got: list[tuple[int, str]] = []
    worker = run_task(lambda: threading.current_thread().name, lambda name: got.append(
        (1, name) if threading.current_thread() is threading.main_thread() else (0, name)), name="probe")
    worker.join(5)
    qtbot.waitUntil(lambda: bool(got))
    assert got == [(1, "login-feed-probe")]


def test_a_failure_goes_to_on_error(qtbot) -> None:
    errors: list[BaseException] = []

    def fail() -> None:
        raise OSError("the keyring did not answer")

    run_task(fail, lambda _: None, errors.append)
    qtbot.waitUntil(lambda: bool(errors))
    assert isinstance(errors[0], OSError)


def test_a_stale_result_is_dropped(qtbot) -> None:
    generation = [1]
    got: list[str] = []
    release = threading.Event()
    worker = run_task(lambda: release.wait(5) and "old", got.append, current=lambda: generation[0] == 1)
    generation[0] = 2  # new settings while the task ran
    release.set()
    worker.join(5)
    run_task(lambda: "new", got.append)
    qtbot.waitUntil(lambda: got == ["new"])


def test_a_result_for_a_deleted_owner_is_dropped(qtbot) -> None:
    owner = QObject()
    got: list[str] = []
    release = threading.Event()
    worker = run_task(lambda: release.wait(5) and "late", got.append, owner=owner)
    shiboken6.delete(owner)  # the window closed while the task ran
    release.set()
    worker.join(5)
    to_main(got.append, "after")
    qtbot.waitUntil(lambda: got == ["after"])


def test_to_main_from_another_thread_keeps_the_order(qtbot) -> None:
    got: list[tuple[int, bool]] = []
    main = threading.main_thread()

    def post() -> None:
        for i in range(5):
            to_main(lambda n: got.append((n, threading.current_thread() is main)), i)

    worker = threading.Thread(target=post)
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: len(got) == 5)
    assert got == [(i, True) for i in range(5)]


def test_follow_delivers_a_future_without_blocking_a_thread(qtbot) -> None:
    future: Future[list[int]] = Future()
    got: list[object] = []
    follow(future, got.append, got.append, timeout_ms=60_000)
    threading.Thread(target=lambda: future.set_result([1, 2])).start()
    qtbot.waitUntil(lambda: got == [[1, 2]])


def test_follow_gives_up_after_its_timeout_once(qtbot) -> None:
    future: Future[int] = Future()
    got: list[object] = []
    follow(future, got.append, got.append, timeout_ms=1)
    qtbot.waitUntil(lambda: bool(got))
    future.set_result(3)  # too late: not delivered as well
    seen: list[int] = []
    to_main(seen.append, 1)
    qtbot.waitUntil(lambda: seen == [1])
    assert len(got) == 1 and isinstance(got[0], TimeoutError)


def test_the_sign_in_domain_does_not_import_the_screen() -> None:
    import subprocess
    import sys

    code = ("import sys, desktop.auth.qtflow; "
            "print(sorted(m for m in sys.modules if m.startswith('desktop.ui')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "[]"
