"""``login-feed simulate``: publish realistic sample events, for demos and load.

Two sources: ``--source pusher`` (the default) publishes v1 feed events (:mod:`desktop.simulate.people`)
through the Pusher HTTP API, paced by :mod:`desktop.simulate.pacing` and sent by
:mod:`desktop.simulate.publisher`; ``--source log-stream`` POSTs Auth0 log-stream deliveries to a login-feed
server (:mod:`desktop.simulate.logstream`). :func:`main` wires them to the configuration, the secret store and
the signals. Nothing here logs or prints a secret, a master key or a request signature.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import sys
import threading
from collections.abc import Callable
from typing import TextIO

import requests

from desktop import __version__
from desktop.config_checks import MASTER_KEY_ENV, PUSHER_SECRET_ENV
from desktop.config_schema import Config
from desktop.secrets import SecretStore
from desktop.signing.names import ChannelKind, channel_kind, validate_channel_name
from desktop.signing.pusher_http import ChannelEncryptor, PusherHttpApi
from desktop.signing.signatures import decode_master_key
from desktop.simulate.pacing import DEFAULT_CONCURRENCY, Progress, run
from desktop.simulate.people import SampleEvents
from desktop.simulate.publisher import Publisher
from desktop.util.http import HttpClient
from desktop.util.signals import stop_signals

__all__ = ["DEFAULT_RATE", "MAX_CONCURRENCY", "main"]

DEFAULT_RATE = 5.0
MAX_CONCURRENCY = 64
_TIMEOUT = 10.0  # the total deadline of one request
_MAX_ANSWER_BYTES = 64 * 1024


class _Usage(Exception):
    """A problem with the command line or the set-up: exit 2 with this message."""


def _options(args: argparse.Namespace) -> tuple[float, int | None, int, float]:
    rate = getattr(args, "rate", None)
    rate = DEFAULT_RATE if rate is None else rate
    if not math.isfinite(rate) or rate < 0:
        raise _Usage("--rate must be a number of events per second, 0 or more (0: as fast as possible)")
    count = getattr(args, "count", None)
    if count is not None and count < 1:
        raise _Usage("--count must be at least 1 (leave it out to run until Ctrl+C)")
    concurrency = getattr(args, "concurrency", None) or DEFAULT_CONCURRENCY
    if not 1 <= concurrency <= MAX_CONCURRENCY:
        raise _Usage(f"--concurrency must be between 1 and {MAX_CONCURRENCY}")
    ratio = getattr(args, "signup_ratio", None)
    ratio = 0.1 if ratio is None else ratio
    if not 0.0 <= ratio <= 1.0:
        raise _Usage("--signup-ratio must be between 0 and 1")
    return rate, count, concurrency, ratio


def _channel(args: argparse.Namespace, config: Config) -> str:
    channel = getattr(args, "channel", None) or config.feed.channel
    try:
        return validate_channel_name(channel)
    except ValueError as exc:
        raise _Usage(f"--channel: {exc}") from None


def _encryptor(channel: str, store: SecretStore) -> ChannelEncryptor:
    b64 = store.encryption_master_key()
    if not b64:
        raise _Usage(f"simulate: {channel} is an encrypted channel and needs the encryption master key: "
                     f"set {MASTER_KEY_ENV} or store it in the keyring")
    try:
        return ChannelEncryptor(channel, decode_master_key(b64))
    except ValueError as exc:
        raise _Usage(f"simulate: {exc}") from None


def _http(api_base: str, concurrency: int) -> HttpClient:
    """Keep-alive connections, one per request in flight (soketi 1.6.1 closes every HTTP API connection
    after the answer anyway; Pusher keeps them open).

    requests re-reads the environment (proxies, CA bundle, .netrc) on every request, which costs more CPU
    than the rest of a request at high rates: it is read once here instead.
    """
    session = requests.Session()
    proxies = requests.utils.get_environ_proxies(api_base)
    session.trust_env = False
    session.proxies.update(proxies)
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if bundle:
        session.verify = bundle
    session.headers["User-Agent"] = f"login-feed-simulate/{__version__}"
    return HttpClient("the Pusher HTTP API", timeout=_TIMEOUT, max_bytes=_MAX_ANSWER_BYTES, session=session,
                      pool_size=concurrency)


def _stop_handler(stop: threading.Event, received: list[str]) -> Callable[[str], None]:
    """The first SIGINT/SIGTERM stops after the requests in flight; a second one quits at once."""

    def handler(name: str) -> None:
        if received:
            print("simulate: stopping now, without waiting for the requests in flight", file=sys.stderr, flush=True)
            os._exit(130)
        received.append(name)
        stop.set()

    return handler


def main(config: Config, args: argparse.Namespace, *, stderr: TextIO | None = None) -> int:
    """``login-feed simulate``: 0 when done or stopped by a signal, 1 on a refusal or failed events, 2 on set-up."""
    if getattr(args, "source", "pusher") == "log-stream":
        from desktop.simulate import logstream  # noqa: PLC0415 - only for this source

        return logstream.main(config, args, stderr=stderr)
    return publish(config, args, stderr=stderr)


def publish(config: Config, args: argparse.Namespace, *, stderr: TextIO | None = None) -> int:
    """``--source pusher``: 0 when done or stopped by a signal, 1 on a refusal or failed events, 2 on set-up."""
    err = stderr if stderr is not None else sys.stderr
    try:
        rate, count, concurrency, ratio = _options(args)
        pusher = config.require_pusher()
        if not pusher.app_id:
            where = str(config.path) if config.path else "the config file"
            raise _Usage(f"simulate needs [pusher] app_id (the app's id from the Pusher dashboard): set it in "
                         f"{where} or LOGIN_FEED_PUSHER_APP_ID")
        channel = _channel(args, config)
        store = SecretStore(os.environ)
        secret = store.pusher_secret(pusher.key)
        if not secret:
            raise _Usage(f"simulate needs the Pusher app secret: set {PUSHER_SECRET_ENV} or store it in the keyring")
        kind = channel_kind(channel)
        encrypt = _encryptor(channel, store) if kind is ChannelKind.ENCRYPTED else None
    except _Usage as exc:
        print(f"login-feed: {exc}", file=err, flush=True)
        return 2
    if kind is ChannelKind.PUBLIC:
        print(f"simulate: warning: {channel} is a public channel: anyone who has the app key can read it",
              file=err, flush=True)

    stop = threading.Event()
    received: list[str] = []
    progress = Progress(err)
    events = SampleEvents(getattr(args, "seed", None), signup_ratio=ratio)
    what = f"{count} events" if count is not None else "events until Ctrl+C"
    pace = f"{rate:g} events/s" if rate > 0 else "as fast as possible"
    progress.line(f"simulate: publishing {what} to {channel} via {pusher.http_api_base} (app {pusher.app_id}), "
                  f"{pace}, {concurrency} requests in flight")
    http = _http(pusher.http_api_base, concurrency)
    api = PusherHttpApi(pusher.http_api_base, pusher.app_id, pusher.key, secret, http=http, timeout=_TIMEOUT,
                        what="the Pusher HTTP API", refusal_log_level=logging.DEBUG)
    try:
        with stop_signals(_stop_handler(stop, received)):
            publisher = Publisher(api, stop=stop)
            outcome = run(events, publisher, channel, stop=stop, rate=rate, count=count, concurrency=concurrency,
                          encrypt=encrypt, progress=progress)
    finally:
        http.close()
    totals = (f"{outcome.sent} events sent to {channel} in {outcome.elapsed:.2f} s "
              f"({outcome.rate:.0f} events/s), {outcome.failed} failed")
    if outcome.error is not None:
        progress.line(f"simulate: stopped: {totals}")
        progress.line(f"login-feed: {outcome.error}")
        return 1
    if received:
        progress.line(f"simulate: stopped by {received[0]}: {totals}")
        return 0
    progress.line(f"simulate: done: {totals}")
    return 1 if outcome.failed else 0
