"""Authorizing several channels in one request: after a reconnect the engine renews every subscription at once
(feed, chat, presence), and an endpoint that signs batches (``login-feed server``; pusher-js-auth's format, see
:meth:`desktop.pusher.auth.HttpAuthorizer.authorize_channels`) answers them all in one round trip and one token
check. Elsewhere (an endpoint that answers a batch with an error or in another shape, or the local signer, which
has nothing to save) each channel is asked alone, as always; an endpoint found not to batch is not asked again.

Either way a request that may block (HTTP) runs on one of the engine's workers and its answer goes onto the
engine's queue (:func:`submit_batch`, :func:`submit_one`): the engine thread never waits for the network.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

from desktop.pusher.auth import AuthorizationError, Authorizer
from desktop.pusher.channels import AuthFailure
from desktop.pusher.types import Authorize, Effect

__all__ = ["answer_batch", "ask_one", "batchable", "submit_batch", "submit_one"]

Reply = Callable[[tuple[Any, ...]], None]

log = logging.getLogger("desktop.pusher")


def batchable(authorizer: Authorizer | None, effects: list[Effect]) -> list[Authorize]:
    """The channel authorizations among ``effects`` to ask in one request: two or more for one socket, with an
    authorizer that can batch (and has not found that its endpoint cannot); else none."""
    asks = [effect for effect in effects if isinstance(effect, Authorize)]
    if (len(asks) < 2 or not hasattr(authorizer, "authorize_channels")
            or getattr(authorizer, "batching", None) is False or len({a.socket_id for a in asks}) != 1):
        return []
    return asks


def answer_batch(authorizer: Authorizer | None, asks: list[Authorize]) -> list[tuple[Any, ...]]:
    """The engine's ``("auth", channel, request, answer)`` replies for ``asks``: from one batched request, and for
    whatever it did not answer, one request per channel. Blocking: run it on a worker."""
    answers: dict[str, Any] = {}
    try:
        answers = authorizer.authorize_channels(asks[0].socket_id, [a.channel for a in asks])  # type: ignore[union-attr]
    except AuthorizationError as exc:
        log.info("batched channel authorization failed (%s); asking one channel at a time", exc.message)
    except Exception:  # an authorizer bug: the channels are still asked one by one
        log.exception("batched channel authorization failed")
    replies = []
    for ask in asks:
        answer = answers.get(ask.channel)
        if answer is None:
            answer = ask_one(authorizer, lambda a, ask=ask: a.authorize_channel(ask.socket_id, ask.channel))
        elif isinstance(answer, AuthorizationError):
            answer = AuthFailure(answer.message, answer.status)
        replies.append(("auth", ask.channel, ask.request, answer))
    return replies


def ask_one(authorizer: Authorizer | None,
            ask: Callable[[Authorizer], dict[str, Any]]) -> dict[str, Any] | AuthFailure:
    """One authorization: the answer, or why it failed (never an exception: the channel fails, not the engine)."""
    if authorizer is None:
        return AuthFailure("no authorizer is configured")
    try:
        return ask(authorizer)
    except AuthorizationError as exc:
        return AuthFailure(exc.message, exc.status)
    except Exception as exc:  # an authorizer bug must fail the channel, not the engine
        log.exception("the authorizer failed")
        return AuthFailure(f"authorization failed: {type(exc).__name__}")


def submit_batch(workers: Executor, authorizer: Authorizer | None, asks: list[Authorize], put: Reply) -> None:
    """One request for ``asks`` on a worker; each channel's reply onto the engine's queue (``put``)."""
    def run() -> None:
        for reply in answer_batch(authorizer, asks):
            put(reply)

    with contextlib.suppress(RuntimeError):  # the pool is shut down: the engine is closing
        workers.submit(run)


def submit_one(workers: Executor, authorizer: Authorizer | None, ask: Callable[[Authorizer], dict[str, Any]],
               reply: Callable[[dict[str, Any] | AuthFailure], tuple[Any, ...]], put: Reply) -> None:
    """One authorization: on a worker when the authorizer blocks (HTTP), at once when it does not (local
    signing); ``reply(answer)`` onto the engine's queue (``put``)."""
    def run() -> None:
        put(reply(ask_one(authorizer, ask)))

    if authorizer is not None and authorizer.blocking:
        with contextlib.suppress(RuntimeError):  # the pool is shut down: the engine is closing
            workers.submit(run)
    else:
        run()
