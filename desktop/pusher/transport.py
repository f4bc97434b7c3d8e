"""One websocket, read on its own thread as fast as the kernel hands bytes over.

websocket-client opens the connection (handshake, TLS with verification, proxies) and sends; the reader
thread then pulls large chunks from the raw socket, splits them into frames with :class:`FrameReader`,
and hands every chunk's text frames over as one message (:mod:`.engine_loop` runs the core on them right there
when it can, else queues them for the engine thread). It reads again as soon as that returns, so a burst
never backs up into the server (soketi silently drops events for slow readers).
"""

from __future__ import annotations

import contextlib
import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable
from typing import Any

import websocket

from desktop.pusher.protocol import MAX_FRAME_BYTES
from desktop.pusher.wsframes import OP_BINARY, OP_CLOSE, OP_PING, OP_TEXT, FrameError, FrameReader, close_code

log = logging.getLogger("desktop.pusher.transport")

RECV_CHUNK = 256 * 1024
CONNECT_TIMEOUT = 10.0

#: ``hand_over(transport, message)``: what the reader thread hands to the engine, in order. Messages are tuples:
#: ("open", gen, transport) · ("frames", gen, [bytes, ...], monotonic_time) · ("closed", gen, code, reason)
HandOver = Callable[["Transport", tuple[Any, ...]], None]


class Transport:
    """A websocket connection attempt and, once open, its reader thread."""

    def __init__(self, url: str, generation: int, hand_over: HandOver, *,
                 sslopt: dict[str, Any] | None = None) -> None:
        self.url = url
        self.generation = generation
        self._hand_over = hand_over
        #: Messages this reader queued for the engine thread, and how many of them that thread has handled: equal when
        #: none waits, so a later one may be handled at once without overtaking it. Each has one writer.
        self.queued = 0
        self.handled = 0
        self._sslopt = sslopt
        self._ws: websocket.WebSocket | None = None
        self._lock = threading.Lock()
        self._closed = False
        self.thread = threading.Thread(target=self._run, name=f"login-feed-ws-{generation}", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def send(self, text: str) -> bool:
        ws = self._ws
        if ws is None or self._closed:
            return False
        try:
            ws.send(text)
        except (OSError, websocket.WebSocketException) as exc:
            log.info("send failed: %s", exc)
            self.shutdown()
            return False
        return True

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Say goodbye (a close frame) and shut the socket; the reader thread then ends by itself."""
        ws = self._ws
        if ws is not None and not self._closed:
            with contextlib.suppress(OSError, websocket.WebSocketException):
                ws.send(code.to_bytes(2, "big") + reason.encode()[:120], websocket.ABNF.OPCODE_CLOSE)
        self.shutdown()

    def shutdown(self) -> None:
        """Wake a blocked ``recv`` and release the socket. Safe from any thread, any number of times."""
        with self._lock:
            self._closed = True
            ws = self._ws
        sock = None if ws is None else ws.sock
        if sock is None:
            return
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)

    def _run(self) -> None:
        try:
            ws = websocket.create_connection(self.url, timeout=CONNECT_TIMEOUT, skip_utf8_validation=True,
                                             enable_multithread=True, sslopt=self._sslopt)
        except websocket.WebSocketBadStatusException as exc:
            self._post(("closed", self.generation, None, f"the server refused the websocket: HTTP {exc.status_code}"))
            return
        except ssl.SSLError as exc:
            self._post(("closed", self.generation, None, f"TLS failed: {exc.reason or exc}"))
            return
        except (OSError, websocket.WebSocketException) as exc:
            self._post(("closed", self.generation, None, f"could not connect: {exc}"))
            return
        with self._lock:
            self._ws = ws
            abandoned = self._closed
        if abandoned:
            ws.shutdown()
            return
        ws.sock.settimeout(None)
        self._post(("open", self.generation, self))
        code, reason = self._read(ws)
        self._closed = True
        ws.shutdown()
        self._post(("closed", self.generation, code, reason))

    def _read(self, ws: websocket.WebSocket) -> tuple[int | None, str]:
        """Read until the connection ends; return its close code and reason."""
        sock = ws.sock
        reader = FrameReader(MAX_FRAME_BYTES)
        post = self._post
        generation = self.generation
        monotonic = time.monotonic
        while True:
            try:
                chunk = sock.recv(RECV_CHUNK)
            except (OSError, ValueError) as exc:
                return (1000, "closed by the client") if self._closed else (1006, f"connection lost: {exc}")
            if not chunk:
                if self._closed:
                    return 1000, "closed by the client"
                return 1006, "the server closed the connection without a close frame"
            try:
                messages = reader.feed(chunk)
            except FrameError as exc:
                return 1002, f"protocol error from the server: {exc}"
            texts = []
            for opcode, payload in messages:
                if opcode == OP_TEXT:
                    texts.append(payload)
                elif opcode == OP_PING:
                    self._pong(ws, payload or b"")
                elif opcode == OP_CLOSE:
                    if texts:
                        post(("frames", generation, texts, monotonic()))
                    code, reason = close_code(payload or b"")
                    self.close(1000)
                    return code, reason
                elif opcode == OP_BINARY and payload is None:
                    log.warning("dropped a message larger than %d bytes", MAX_FRAME_BYTES)
                else:
                    log.warning("dropped a binary frame (Pusher sends text only)")
            if texts:
                post(("frames", generation, texts, monotonic()))

    def _post(self, message: tuple[Any, ...]) -> None:
        self._hand_over(self, message)

    def _pong(self, ws: websocket.WebSocket, payload: bytes) -> None:
        with contextlib.suppress(OSError, websocket.WebSocketException):
            ws.pong(payload)
