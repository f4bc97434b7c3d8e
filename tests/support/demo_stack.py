"""`make demo`: the whole Login Feed stack on this machine, no internet needed.

Starts soketi (Pusher), a local OpenID provider with the device flow and demo users, `login-feed server`
(remote authorization and the tenant log), `login-feed simulate --source log-stream` (a gentle stream of
Auth0 log-stream deliveries, failures included, into the server) and the window in remote mode, which
catches up what was published while it waited for the sign-in. Sign in from the window: open the code's
page in a browser (the local provider accepts any user name), or type the code into this terminal to
approve it as Ada Lovelace. Ctrl+C or closing the window stops everything. Without a display, the feed
is tailed in the terminal instead (local mode, the Action's sample events).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from support.oidc_provider import OidcProvider
from support.server_process import free_loopback_port
from support.soketi import APP_ID, APP_KEY, APP_SECRET, Soketi

ROOT = Path(__file__).resolve().parents[2]
LOGIN_FEED = str(ROOT / ".venv" / "bin" / "login-feed")
DEMO_USER = "auth0|demo-ada"


def say(text: str) -> None:
    print(f"demo: {text}", file=sys.stderr, flush=True)


def write_config(path: Path, soketi: Soketi, provider: OidcProvider | None, authserver_port: int) -> None:
    lines = [
        "[pusher]", f'key = "{APP_KEY}"', 'host = "127.0.0.1"', f"port = {soketi.port}", "tls = false",
        f'app_id = "{APP_ID}"', "",
        "[feed]", 'channel = "private-login-feed"', "",
    ]
    if provider is None:
        lines += ["[authorization]", 'mode = "local"', ""]
    else:
        base = f"http://127.0.0.1:{authserver_port}"
        lines += [
            "[auth0]", f'issuer = "{provider.issuer}"', f'client_id = "{provider.client_id}"',
            f'audience = "{provider.audience}"', "",
            "[authorization]", 'mode = "remote"', f'endpoint = "{base}/pusher/auth"',
            f'user_endpoint = "{base}/pusher/user-auth"', "",
            "[chat]", 'send = "endpoint"', f'message_endpoint = "{base}/message"', "",
        ]
    path.write_text("\n".join(lines))


def wait_healthy(url: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(requests.RequestException):
            if requests.get(url, timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up within {timeout:g} s")


def approve_from_terminal(provider: OidcProvider, stop: threading.Event) -> None:
    """Each line typed here is taken as a user code and approved as the demo user."""
    for line in sys.stdin:
        if stop.is_set():
            return
        code = line.strip()
        if not code:
            continue
        try:
            provider.approve(code, sub=DEMO_USER)
            say(f"approved {code} as Ada Lovelace")
        except Exception as exc:  # a typo: say so and keep listening
            say(f"could not approve {code!r}: {exc}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=2.0, help="sample events per second (default 2)")
    parser.add_argument("--headless", action="store_true", help="tail the feed in the terminal, no window")
    args = parser.parse_args()
    headless = args.headless or not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    if headless and not args.headless:
        say("no display found: tailing the feed in this terminal instead of opening the window")
    processes: list[subprocess.Popen[bytes]] = []
    stop = threading.Event()
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` or a closing terminal stops everything too, like Ctrl+C
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="login-feed-demo-")))
        soketi = stack.enter_context(Soketi())
        provider = None if headless else stack.enter_context(OidcProvider(interval=2, device_code_ttl=900))
        authserver_port = free_loopback_port()
        config = tmp / "config.toml"
        write_config(config, soketi, provider, authserver_port)
        env = dict(os.environ, LOGIN_FEED_PUSHER_SECRET=APP_SECRET,
                   LOGIN_FEED_LOG_STREAM_TOKEN=f"Bearer {secrets.token_urlsafe(24)}",
                   # The demo signs in afresh each time and stores nothing in your real keyring.
                   PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring")
        say(f"soketi on 127.0.0.1:{soketi.port}; configuration in {config}")

        def spawn(*argv: str, log: str | None = None) -> subprocess.Popen[bytes]:
            """Start one part; with ``log`` its output goes to that file in the demo folder, not this terminal
            (where the sign-in code is typed)."""
            output = stack.enter_context((tmp / log).open("wb")) if log else None
            process = subprocess.Popen([LOGIN_FEED, "--config", str(config), *argv], env=env,
                                       stdout=output, stderr=output)
            processes.append(process)
            return process

        try:
            if provider is not None:
                spawn("--data-dir", str(tmp / "server"), "server", "--port", str(authserver_port), log="server.log")
                wait_healthy(f"http://127.0.0.1:{authserver_port}/healthz")
                say(f"OpenID provider at {provider.issuer}, server on 127.0.0.1:{authserver_port}")
                # Auth0's log stream (successes and failures) into the server, which stores and publishes it.
                spawn("simulate", "--source", "log-stream", "--rate", str(args.rate),
                      "--url", f"http://127.0.0.1:{authserver_port}/auth0/log-stream", log="simulate.log")
                say(f"the server's and the simulator's logs: {tmp / 'server.log'}, {tmp / 'simulate.log'}")
            else:
                spawn("simulate", "--rate", str(args.rate))  # the Action's v1 events: no server in local mode
            if provider is None:
                main_process = spawn("tail", "--format", "text")
            else:
                main_process = spawn("--data-dir", str(tmp / "data"))
                say("the window asks you to sign in: open the page it shows in a browser (any user name works "
                    "there), or type the code here and press Enter to approve it as Ada Lovelace")
                threading.Thread(target=approve_from_terminal, args=(provider, stop), daemon=True).start()
            return main_process.wait() or 0
        except KeyboardInterrupt:
            return 0
        finally:
            stop.set()
            for process in reversed(processes):
                if process.poll() is None:
                    process.terminate()
            for process in processes:
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
            say("stopped everything")


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
