"""A raw-socket HTTP server on 127.0.0.1 that misbehaves on demand: what no real server does when asked.

Each connection's request is read and recorded, then answered by the current :class:`Play`: :class:`Reply` a
normal answer, :class:`Drip` a normal answer one slice at a time, :class:`Flood` an endless or huge body,
:class:`Garbage` bytes that are not HTTP, :class:`Hang` nothing at all until the client gives up,
:class:`Hangup` a close without a word. The connection is closed after the play, unless ``keep_alive`` and
the play was a :class:`Reply`. ``stub.play`` may also be a function of the request (to sign one channel and
refuse another). :attr:`HttpStub.bytes_sent` counts what the server managed to send, so a test can assert
that a client stopped reading early without timing anything. ``tls=`` serves HTTPS (:func:`self_signed_tls`).

Example::

    with HttpStub(Drip(Reply(200, b'{"ok": true}'), interval=0.2)) as stub:
        HttpClient("the test server", timeout=1).get(stub.url("/x"))  # HttpError: did not answer within 1 s
"""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import json
import select
import socket
import ssl
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from requests.structures import CaseInsensitiveDict

from support.waiting import wait_until

_POLL = 0.05
_MAX_REQUEST_HEAD = 64 * 1024


@dataclass(frozen=True, slots=True)
class StubRequest:
    method: str
    path: str
    headers: Mapping[str, str]  # names as sent, looked up in any case
    body: bytes

    @property
    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode(), keep_blank_values=True).items()}


class _Conn:
    """What a play may do with the connection: send (counted), wait (ends when the client or the stub leaves)."""

    def __init__(self, sock: socket.socket, stub: HttpStub) -> None:
        self.sock = sock
        self._stub = stub
        self.keep_alive = stub.keep_alive

    def send(self, data: bytes) -> bool:
        try:
            self.sock.sendall(data)
        except OSError:
            return False
        self._stub._count(len(data))
        return True

    def wait(self, seconds: float | None = None) -> bool:
        """Wait ``seconds`` (or until the end); False once the client closed or the stub is stopping."""
        left = seconds
        while left is None or left > 0:
            if self._stub._stopping.is_set():
                return False
            step = _POLL if left is None else min(_POLL, left)
            readable, _, _ = select.select([self.sock], [], [], step)
            if readable:
                try:
                    if not self.sock.recv(4096):
                        return False
                except OSError:
                    return False
            if left is not None:
                left -= step
        return True


class Play:
    def __call__(self, conn: _Conn) -> None:
        raise NotImplementedError


@dataclass(frozen=True)
class Reply(Play):
    status: int
    body: bytes | Mapping[str, Any] = b""
    headers: Mapping[str, str] = field(default_factory=dict)

    def wire(self, keep_alive: bool = False) -> bytes:
        body = json.dumps(self.body).encode() if isinstance(self.body, Mapping) else self.body
        headers = {"Content-Type": "application/json", "Content-Length": str(len(body)),
                   "Connection": "keep-alive" if keep_alive else "close", **self.headers}
        head = f"HTTP/1.1 {self.status} Stub\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        return head.encode("latin-1") + b"\r\n" + body

    def __call__(self, conn: _Conn) -> None:
        conn.send(self.wire(conn.keep_alive))


@dataclass(frozen=True)
class Drip(Play):
    """``reply`` sent ``size`` bytes every ``interval`` seconds (each gap shorter than any read timeout)."""

    reply: Reply
    interval: float = 0.1
    size: int = 1

    def __call__(self, conn: _Conn) -> None:
        wire = self.reply.wire()
        for start in range(0, len(wire), self.size):
            if not conn.send(wire[start:start + self.size]) or not conn.wait(self.interval):
                return


@dataclass(frozen=True)
class Flood(Play):
    """A 200 whose body is ``total`` bytes of JSON-ish filler (``None``: without end), announced or chunked."""

    total: int | None = 100 * 1024 * 1024
    announce_length: bool = True

    def __call__(self, conn: _Conn) -> None:
        length = f"Content-Length: {self.total}\r\n" if self.announce_length and self.total is not None else ""
        framing = length or "Connection: close\r\n"
        if not conn.send(f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n{framing}\r\n".encode()):
            return
        chunk = b" " * (64 * 1024)
        sent = 0
        while self.total is None or sent < self.total:
            piece = chunk if self.total is None else chunk[: self.total - sent]
            if not conn.send(piece):
                return
            sent += len(piece)


@dataclass(frozen=True)
class Garbage(Play):
    data: bytes = b"\x16\x03\x01 this is not HTTP at all\r\n\r\n"

    def __call__(self, conn: _Conn) -> None:
        conn.send(self.data)


class Hang(Play):
    """Read the request, then say nothing until the client gives up (or the stub stops)."""

    def __call__(self, conn: _Conn) -> None:
        conn.wait()


class Hangup(Play):
    def __call__(self, conn: _Conn) -> None:
        return


PlayFor = Play | Callable[[StubRequest], Play]


class HttpStub:
    """``with HttpStub(play) as stub:`` serve on a free loopback port; change ``stub.play`` at any time."""

    def __init__(self, play: PlayFor = Reply(200, {"ok": True}), *, tls: ssl.SSLContext | None = None,
                 keep_alive: bool = False) -> None:
        self.play = play
        #: A :class:`Reply` keeps the connection open for the next request (any other play still ends it).
        self.keep_alive = keep_alive
        self._tls = tls
        self._lock = threading.Lock()
        self._requests: list[StubRequest] = []
        self._sent = 0
        self._open = 0
        self._accepted = 0
        self._stopping = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(_POLL)
        self.port: int = self._listener.getsockname()[1]
        self._threads: list[threading.Thread] = []
        self._live: set[socket.socket] = set()
        self._acceptor = threading.Thread(target=self._accept, name="test-http-stub", daemon=True)

    def url(self, path: str = "/") -> str:
        scheme = "https" if self._tls is not None else "http"
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    @property
    def requests(self) -> list[StubRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def connections(self) -> int:
        """How many connections were accepted so far."""
        with self._lock:
            return self._accepted

    @property
    def bytes_sent(self) -> int:
        with self._lock:
            return self._sent

    def wait_idle(self) -> None:
        """Wait until every connection has been answered and closed (the client gave up or read it all)."""
        wait_until(lambda: self._open_connections() == 0, message="the stub's connections did not end")

    def __enter__(self) -> Self:
        self._acceptor.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self._stopping.set()
        if self._acceptor.is_alive():
            self._acceptor.join(5)
        self._listener.close()
        with self._lock:  # a keep-alive connection the client still holds: end it rather than wait it out
            for sock in self._live:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
        for thread in list(self._threads):
            thread.join(5)

    def _open_connections(self) -> int:
        with self._lock:
            return self._open

    def _count(self, sent: int) -> None:
        with self._lock:
            self._sent += sent

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                sock, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self._open += 1
                self._accepted += 1
            thread = threading.Thread(target=self._serve, args=(sock,), name="test-http-stub-conn", daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, sock: socket.socket) -> None:
        with self._lock:
            self._live.add(sock)
        try:
            sock.settimeout(5)
            if self._tls is not None:
                try:
                    sock = self._tls.wrap_socket(sock, server_side=True)
                except OSError:  # the client refused our certificate
                    sock.close()
                    return
            with sock:
                while True:
                    sock.settimeout(5)
                    request = _read_request(sock)
                    if request is None:
                        return
                    with self._lock:
                        self._requests.append(request)
                    play = self.play
                    if not isinstance(play, Play):
                        play = play(request)
                    sock.settimeout(None)
                    play(_Conn(sock, self))
                    if not (self.keep_alive and isinstance(play, Reply)):
                        break
                # A lingering close: let the client read what was sent before the connection goes.
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_WR)
                _Conn(sock, self).wait(1.0)
        finally:
            with self._lock:
                self._open -= 1
                self._live.discard(sock)


def _read_request(sock: socket.socket) -> StubRequest | None:
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk or len(data) > _MAX_REQUEST_HEAD:
                return None
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, path, _ = lines[0].split(" ", 2)
        headers = CaseInsensitiveDict({k.strip(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])})
        length = int(headers.get("content-length", "0") or 0)
        while len(body) < length:
            chunk = sock.recv(min(65536, length - len(body)))
            if not chunk:
                return None
            body += chunk
    except (OSError, ValueError):
        return None
    return StubRequest(method, path, headers, body)


def self_signed_tls(directory: Path) -> tuple[ssl.SSLContext, Path]:
    """A server context for ``127.0.0.1`` with a fresh self-signed certificate, and that certificate's PEM file
    (give it to a client as its CA to trust the stub; without it, the client must refuse the stub)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    cert_pem = directory / "stub-cert.pem"
    key_pem = directory / "stub-key.pem"
    cert_pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_pem.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_pem, key_pem)
    return context, cert_pem


def closed_port() -> int:
    """A loopback port nothing listens on (bound for a moment, then freed): connecting to it is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class StubService:
    """A stand-in served by its :class:`HttpStub` (``self._stub``): ``start()``/``stop()``, or a ``with`` block."""

    _stub: HttpStub

    def start(self) -> Self:
        self._stub.__enter__()
        return self

    def stop(self) -> None:
        self._stub.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
