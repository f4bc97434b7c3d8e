"""Slow, idle and too many clients against the authorization server's real listener (uvicorn on loopback).

The clients are raw sockets: they drip request headers or a body one byte at a time, or connect and say nothing,
and the server must close them and keep answering everyone else. The last test runs the real ``login-feed
authserver`` command with a small file-descriptor limit, so that ``accept()`` fails with EMFILE, and checks that
it says so in one line instead of writing megabytes of tracebacks, and answers again once clients go away.
Nothing here asserts how fast anything happens: drip loops are bounded by size, waits by generous deadlines.
"""

from __future__ import annotations

import json
import logging
import select
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests
from support.cli_process import LOGIN_FEED, cli_environment
from support.keys import public_jwk, rsa_private_key
from support.oidc_provider import OidcProvider
from support.waiting import wait_until

from desktop.authserver.app import create_app
from desktop.authserver.listener import build_server
from desktop.authserver.tokens import AccessTokenVerifier
from desktop.config_schema import Auth0Config, Config, PusherConfig

pytestmark = pytest.mark.integration

ISSUER = "https://tenant.example.auth0.com/"
AUDIENCE = "https://login-feed.example.com/api"
DEADLINE = 0.5  # the header and body deadlines of the served app: short, so that the drips below stay short
PAUSE = 0.02  # between two dripped bytes
WAIT = 30.0  # the most any test waits for the server to act (a loaded CI machine)
CAP = 6


class Served:
    """``create_app`` behind ``build_server`` in a thread, on a free loopback port."""

    def __init__(self, *, header_timeout: float, max_connections: int = CAP, **options: Any) -> None:
        key = rsa_private_key()
        jwks = {"keys": [public_jwk(key)]}
        now = int(time.time())
        self.token = jwt.encode({"iss": ISSUER, "aud": AUDIENCE, "sub": "auth0|ada", "iat": now, "exp": now + 3600,
                                 "permissions": ["read:login-feed"]}, key, algorithm="RS256", headers={"kid": "k1"})
        config = Config(auth0=Auth0Config(issuer=ISSUER, audience=AUDIENCE),
                        pusher=PusherConfig(key="app-key", host="127.0.0.1", tls=False))
        app = create_app(config, "app-secret", None, AccessTokenVerifier(ISSUER, AUDIENCE, lambda: jwks), None,
                         body_timeout=DEADLINE)
        self.server = build_server(app, "127.0.0.1", 0, max_connections=max_connections,
                                   header_timeout=header_timeout, keep_alive=DEADLINE, **options)
        self.thread = threading.Thread(target=self.server.run, name="test-authserver", daemon=True)
        self.thread.start()
        wait_until(lambda: self.server.started or not self.thread.is_alive(), message="uvicorn did not start")
        assert self.server.started
        self.port: int = self.server.servers[0].sockets[0].getsockname()[1]

    def healthz(self) -> int:
        with requests.get(f"http://127.0.0.1:{self.port}/healthz", timeout=WAIT) as response:
            return response.status_code

    def connections(self) -> int:
        return len(self.server.server_state.connections)

    def close(self) -> None:
        self.server.should_exit = True
        self.thread.join(WAIT)


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    server = Served(header_timeout=DEADLINE)
    try:
        yield server
    finally:
        server.close()


def read_until_closed(sock: socket.socket) -> bytes:
    sock.settimeout(WAIT)
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def drip(port: int, payload: bytes, *, head: bytes = b"") -> tuple[int, bytes]:
    """Send ``head`` at once, then ``payload`` a byte at a time until the server closes the connection or answers:
    how many payload bytes went out, and everything the server sent."""
    with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as sock:
        sock.sendall(head)
        sent = 0
        for byte in payload:
            try:
                sock.sendall(bytes([byte]))
            except OSError:  # reset by the server
                break
            sent += 1
            if select.select([sock], [], [], PAUSE)[0]:
                break
        try:
            return sent, read_until_closed(sock)
        except ConnectionResetError:
            return sent, b""


SLOW_HEADERS = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"".join(
    f"X-Padding-{i}: {'a' * 40}\r\n".encode() for i in range(60)) + b"\r\n"  # 60 s at the drip rate


def test_clients_dripping_headers_are_closed_while_others_are_served(served: Served) -> None:
    results: list[tuple[int, bytes]] = []
    threads = [threading.Thread(target=lambda: results.append(drip(served.port, SLOW_HEADERS)))
               for _ in range(CAP - 2)]
    for thread in threads:
        thread.start()
    assert served.healthz() == 200
    for thread in threads:
        thread.join(WAIT * 3)
    assert len(results) == CAP - 2
    for sent, answer in results:
        print(f"closed after {sent} of {len(SLOW_HEADERS)} header bytes")
        assert sent < len(SLOW_HEADERS)  # cut off long before the headers were complete
        assert answer == b""  # closed without an answer
    wait_until(lambda: served.connections() == 0, WAIT, message=lambda: f"{served.connections()} still open")
    assert served.healthz() == 200


def test_an_idle_connection_is_closed(served: Served) -> None:
    with socket.create_connection(("127.0.0.1", served.port), timeout=WAIT) as sock:
        assert read_until_closed(sock) == b""


def test_an_idle_keep_alive_connection_is_closed(served: Served) -> None:
    with socket.create_connection(("127.0.0.1", served.port), timeout=WAIT) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = read_until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 200 ")


def test_a_dripped_body_gets_408_and_the_connection_is_closed(served: Served) -> None:
    body = b"socket_id=1234.5678&channel_name=private-login-feed&padding=" + b"x" * 3000
    head = (b"POST /pusher/auth HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + served.token.encode()
            + b"\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: "
            + str(len(body)).encode() + b"\r\n\r\n")
    sent, answer = drip(served.port, body, head=head)
    print(f"answered after {sent} of {len(body)} body bytes")
    assert sent < len(body)
    status, _, rest = answer.partition(b"\r\n")
    assert status == b"HTTP/1.1 408 Request Timeout"
    headers, _, content = rest.partition(b"\r\n\r\n")
    assert b"connection: close" in headers.lower()
    assert json.loads(content)["error"] == "request_timeout"


def test_connections_over_the_cap_get_503_until_some_close() -> None:
    server = Served(header_timeout=WAIT * 4)  # the idle sockets below must stay open for this test
    idle: list[socket.socket] = []
    try:
        idle.extend(socket.create_connection(("127.0.0.1", server.port), timeout=WAIT) for _ in range(CAP))
        wait_until(lambda: server.connections() == CAP, WAIT, message=lambda: f"{server.connections()} open")
        assert server.healthz() == 503
        for sock in idle:
            sock.close()
        wait_until(lambda: server.connections() == 0, WAIT, message=lambda: f"{server.connections()} open")
        assert server.healthz() == 200
    finally:
        for sock in idle:
            sock.close()
        server.close()


@pytest.mark.parametrize(("options", "client"), [
    ({"proxy_headers": False}, "127.0.0.1"),
    ({"proxy_headers": True, "forwarded_allow_ips": "127.0.0.1"}, "203.0.113.9"),
    ({"proxy_headers": True, "forwarded_allow_ips": "10.0.0.1"}, "127.0.0.1"),  # not our proxy: not believed
])
def test_forwarded_headers_are_believed_only_from_the_configured_proxy(
    caplog: pytest.LogCaptureFixture, options: dict[str, Any], client: str
) -> None:
    caplog.set_level(logging.INFO, logger="desktop.authserver.access")
    server = Served(header_timeout=WAIT, **options)
    try:
        with requests.get(f"http://127.0.0.1:{server.port}/healthz", headers={"X-Forwarded-For": "203.0.113.9"},
                          timeout=WAIT) as response:
            assert response.status_code == 200

        def lines() -> list[str]:  # the line is written just after the answer has gone out
            return [r.getMessage() for r in caplog.records if r.name == "desktop.authserver.access"]

        wait_until(lines, WAIT, message="no access log line")
        assert lines()[-1].startswith(f"{client} GET /healthz 200 ")
    finally:
        server.close()


# ---------------------------------------------------------------------------------------------- out of files


def _health(url: str) -> int | None:
    try:
        with requests.get(url, timeout=2) as response:
            return response.status_code
    except requests.RequestException:
        return None


def test_out_of_file_descriptors_is_one_log_line_not_a_traceback_flood(
    tmp_path: Path, oidc_provider: OidcProvider
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = tmp_path / "config.toml"
    config.write_text(f'[auth0]\nissuer = "{oidc_provider.issuer}"\naudience = "{oidc_provider.audience}"\n\n'
                      '[pusher]\nkey = "app-key"\nhost = "127.0.0.1"\ntls = false\n', encoding="utf-8")
    log = tmp_path / "stderr.txt"
    url = f"http://127.0.0.1:{port}/healthz"
    clients: list[socket.socket] = []
    with log.open("wb") as stderr:
        process = subprocess.Popen(  # prlimit (util-linux): at most 64 open files, set before the command starts
            ["prlimit", "--nofile=64:64", "--", str(LOGIN_FEED), "--config", str(config), "authserver", "--port",
             str(port)],
            env=cli_environment({"LOGIN_FEED_PUSHER_SECRET": "app-secret"}), stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        wait_until(lambda: _health(url) == 200 or process.poll() is not None, WAIT,
                   message=lambda: log.read_text(errors="replace"))
        assert process.poll() is None, log.read_text(errors="replace")
        for _ in range(100):  # more than the 64 descriptors the server may hold; the rest wait in the backlog
            clients.append(socket.create_connection(("127.0.0.1", port), timeout=WAIT))
        wait_until(lambda: "cannot accept connections" in log.read_text(errors="replace"), WAIT,
                   message=lambda: log.read_text(errors="replace")[-2000:])
        # An observation window, not a timing assertion: before the fix these 3 s wrote ~10 MB of tracebacks.
        time.sleep(3)
        text = log.read_text(errors="replace")
        print(f"{len(text.encode())} bytes of log while out of file descriptors")
        assert "Traceback" not in text
        assert 1 <= text.count("cannot accept connections") <= 2  # once a minute at most
        assert len(text.encode()) < 20_000
        for client in clients:
            client.close()
        wait_until(lambda: _health(url) == 200, WAIT, message=lambda: log.read_text(errors="replace")[-2000:])
    finally:
        for client in clients:
            client.close()
        process.terminate()
        try:
            process.wait(WAIT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
