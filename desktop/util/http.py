"""The one HTTP boundary: every HTTP request the app makes goes through :class:`HttpClient`.

Why one place: ``requests``' ``timeout`` bounds each socket read, not the request (an answer dripped a byte at
a time never times out), and ``response.content`` reads the whole body before anyone can check its size. Here
each request has a total deadline (connect, send, headers and body; :mod:`desktop.util.deadline` shuts the
socket down when it passes) and the body is streamed up to a byte cap. Every failure is one type,
:class:`HttpError`, whose message is fit for a person and names the service, never a header, a token or a URL
with its query. TLS verification stays on (``requests``' default; ``REQUESTS_CA_BUNDLE`` is honoured),
redirects are never followed (a bearer token must not travel to another host), and answers are asked for
uncompressed (a gzip bomb is no way around the cap; a server that compresses anyway is decoded within it).
"""

from __future__ import annotations

import http.client
import json
import ssl
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
import urllib3

from desktop.util.deadline import deadline
from desktop.util.http_pool import DeadlineAdapter
from desktop.util.text import clean_text, json_detail

__all__ = ["ERROR_BODY_BYTES", "Answer", "HttpClient", "HttpError", "error_detail", "shown_url"]

ERROR_BODY_BYTES = 4096
"""Of an answer that is not 2xx only this much is read: enough for the error text, nothing to hoard."""
_CHUNK = 16 * 1024


class HttpError(Exception):
    """A request failed; ``status`` is the HTTP status when the server answered. The message says what to a
    person (who did not answer, how) and carries no header, token or query string."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True, slots=True)
class Answer:
    """What the server said: status, headers and the body (at most the cap; an error body at most 4 KB)."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    what: str

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except (ValueError, RecursionError):
            raise HttpError(f"{self.what}'s answer is not JSON", self.status) from None

    def json_object(self) -> dict[str, Any]:
        value = self.json()
        if not isinstance(value, dict):
            raise HttpError(f"{self.what}'s answer is not a JSON object", self.status)
        return value

    def error_detail(self) -> str:
        return error_detail(self.body)


def error_detail(body: bytes) -> str:
    """``": <text>"`` from a JSON error body (``error_description``, ``error``, ``message``, or ``error.message``),
    one printable line of at most 200 characters; ``""`` when there is none."""
    try:
        answer = json.loads(body)
    except (ValueError, RecursionError):
        return ""
    return json_detail(answer)


def shown_url(url: str) -> str:
    """``url`` fit for a message or a log: scheme, host, port and path; no user, password, query or fragment."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "(a malformed URL)"
    host = f"[{host}]" if ":" in host else host
    return clean_text(urlunsplit((parts.scheme, host + port, parts.path, "", "")), 300)


class HttpClient:
    """Blocking requests to one service (``what`` names it in messages), thread-safe, keep-alive pooled.

    ``timeout`` is the total deadline of one request; ``max_bytes`` the largest successful body accepted;
    ``pool_size`` the keep-alive connections kept per host (one per request in flight for a busy sender).
    """

    def __init__(self, what: str, *, timeout: float = 10.0, max_bytes: int = 64 * 1024,
                 session: requests.Session | None = None, pool_size: int = 10) -> None:
        self.what = what
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.session = session if session is not None else requests.Session()
        adapter = DeadlineAdapter(max_retries=0, pool_maxsize=pool_size)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        if self.session.verify is False:  # TLS verification is never off
            self.session.verify = True

    def close(self) -> None:
        self.session.close()

    def get(self, url: str, **kwargs: Any) -> Answer:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> Answer:
        return self.request("POST", url, **kwargs)

    def request(self, method: str, url: str, *, data: Any = None, params: Mapping[str, str] | None = None,
                headers: Mapping[str, str] | None = None, what: str | None = None,
                timeout: float | None = None, max_bytes: int | None = None) -> Answer:
        """One request within the deadline; :class:`HttpError` if there is no complete answer in time."""
        what = what or self.what
        seconds = self.timeout if timeout is None else timeout
        cap = self.max_bytes if max_bytes is None else max_bytes
        sent_headers = {"Accept": "application/json", "Accept-Encoding": "identity", **(headers or {})}
        with deadline(seconds) as window:
            try:
                response = self.session.request(method, url, data=data, params=params, headers=sent_headers,
                                                timeout=(seconds, seconds), allow_redirects=False, stream=True)
                with response:
                    answer = _read(response, what, cap)
            except HttpError:
                if window.expired:
                    raise _timeout(what, seconds) from None
                raise
            except (requests.RequestException, urllib3.exceptions.HTTPError, http.client.HTTPException,
                    OSError) as exc:
                raise (_timeout(what, seconds) if window.expired else _failure(exc, what, seconds)) from None
            if window.expired:  # the watchdog ended the body early: what we have may look complete but is not
                raise _timeout(what, seconds)
        return answer


def _read(response: requests.Response, what: str, cap: int) -> Answer:
    status = response.status_code
    ok = 200 <= status < 300
    limit = cap if ok else min(cap, ERROR_BODY_BYTES)
    length = response.headers.get("Content-Length", "")
    if ok and length.isdigit() and int(length) > cap:
        raise _too_large(what, cap, status)
    body = bytearray()
    while len(body) <= limit:
        chunk = response.raw.read(min(_CHUNK, limit + 1 - len(body)), decode_content=False)
        if not chunk:
            break
        body += chunk
    if len(body) > limit and ok:
        raise _too_large(what, cap, status)
    decoded = _decode(bytes(body[:limit]), response.headers.get("Content-Encoding", ""), limit, what, status)
    if len(decoded) > limit and ok:
        raise _too_large(what, cap, status)
    return Answer(status, response.headers, decoded[:limit], what)


def _decode(body: bytes, encoding: str, limit: int, what: str, status: int) -> bytes:
    """Undo a gzip/deflate encoding the server used though we asked for none, never past ``limit`` + 1 bytes."""
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding in ("gzip", "x-gzip", "deflate"):
        try:
            return zlib.decompressobj(zlib.MAX_WBITS | 32).decompress(body, limit + 1)
        except zlib.error:
            raise HttpError(f"{what}'s answer could not be decompressed", status) from None
    raise HttpError(f"{what} answered in an encoding it was not asked for ({clean_text(encoding, 40)})", status)


def _too_large(what: str, cap: int, status: int) -> HttpError:
    size = f"{cap // 1024} KB" if cap >= 1024 else f"{cap} bytes"
    return HttpError(f"{what}'s answer is too large (over {size})", status)


def _timeout(what: str, seconds: float) -> HttpError:
    return HttpError(f"{what} did not answer within {seconds:g} s")


def _failure(exc: BaseException, what: str, seconds: float) -> HttpError:
    """The person-sized reason for a network failure: the exception's kind, never its text (it holds the URL)."""
    causes = list(_causes(exc))
    refused = any(isinstance(c, urllib3.exceptions.NewConnectionError) for c in causes)  # a "timeout" in urllib3
    if not refused and any(isinstance(c, requests.Timeout | urllib3.exceptions.TimeoutError | TimeoutError)
                           for c in causes):
        return _timeout(what, seconds)
    if any(isinstance(c, requests.exceptions.SSLError | ssl.SSLError | ssl.CertificateError) for c in causes):
        return HttpError(f"the TLS certificate of {what} could not be verified")
    if any(isinstance(c, http.client.RemoteDisconnected) for c in causes):
        return HttpError(f"{what} closed the connection without answering")
    if any(isinstance(c, http.client.IncompleteRead) for c in causes):
        return HttpError(f"{what} closed the connection in the middle of its answer")
    if any(isinstance(c, http.client.HTTPException) for c in causes):
        return HttpError(f"{what} did not answer in HTTP")
    return HttpError(f"could not reach {what} ({type(exc).__name__})")


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and what it wraps (``requests`` and ``urllib3`` nest the real reason in args and ``reason``)."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo and len(seen) < 20:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        linked = [current.__cause__, current.__context__, getattr(current, "reason", None), *current.args]
        todo.extend(item for item in linked if isinstance(item, BaseException))
