"""The RFC 8628 device authorization grant as a state machine: the driver polls, this decides.

Pure: the driver does the HTTP and the timers, and tells the flow what happened and when (``now``, on any
monotonic clock). Decisions rest on the JSON ``error`` field, never on the HTTP status: Auth0 answers
pending and denied with 403 and slow_down with 429, oidc-provider and authlib use 400 for all of them.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

from desktop.auth.common import AuthError, check_url, optional_seconds, optional_str, require_str
from desktop.auth.tokens import TokenResponse, TokenResponseError, parse_token_response
from desktop.util.backoff import doubling
from desktop.util.text import clean_text

__all__ = [
    "DEFAULT_INTERVAL", "MAX_BACKOFF", "SLOW_DOWN_STEP", "Authorized", "DeviceAuthorization", "DeviceFlow",
    "DeviceFlowError", "Failed", "FailureReason", "Outcome", "Pending", "SlowDown", "TokenResponse",
    "parse_device_authorization", "parse_token_response",
]

DEFAULT_INTERVAL = 5.0
"""RFC 8628 §3.2: a client MUST use 5 s when the server sends no ``interval`` (oidc-provider never does)."""
SLOW_DOWN_STEP = 5.0
"""RFC 8628 §3.5: each ``slow_down`` adds 5 s to the interval for every later poll."""
MAX_BACKOFF = 60.0
"""Cap on the doubled wait after consecutive network errors (never below the polling interval)."""
MAX_USER_CODE_CHARS = 64

EXPIRED_MESSAGE = "The code expired before it was approved. Start again to get a new code."
DENIED_MESSAGE = (
    "Sign-in was denied. The request was declined on the confirmation page (or by a rule of your "
    "organisation). Start again if that was a mistake."
)
CANCELLED_MESSAGE = "Sign-in was cancelled."
_WHAT = "The sign-in service's device authorization answer"


class DeviceFlowError(AuthError):
    """The device authorization answer cannot be used; no flow can start."""


@dataclass(frozen=True, slots=True)
class DeviceAuthorization:
    """What to show the user (``user_code``, ``verification_uri``) and the secret to poll with."""

    device_code: str = field(repr=False)
    user_code: str
    verification_uri: str
    verification_uri_complete: str | None
    expires_at: float
    interval: float = DEFAULT_INTERVAL


def parse_device_authorization(body: object, now: float) -> DeviceAuthorization:
    """Parse the device endpoint's 200 answer; ``now`` is when it arrived (expiry counts from there)."""
    if not isinstance(body, Mapping):
        raise DeviceFlowError(f"{_WHAT} is not a JSON object.")
    user_code = require_str(body, "user_code", _WHAT, DeviceFlowError)
    if len(user_code) > MAX_USER_CODE_CHARS or not user_code.isprintable():
        raise DeviceFlowError(f"{_WHAT} has a 'user_code' that cannot be shown to a person.")
    uri = check_url(require_str(body, "verification_uri", _WHAT, DeviceFlowError), "The verification_uri",
                    DeviceFlowError)
    complete = optional_str(body, "verification_uri_complete", _WHAT, DeviceFlowError)
    expires_in = optional_seconds(body, "expires_in", _WHAT, DeviceFlowError)
    if expires_in is None:
        raise DeviceFlowError(f"{_WHAT} has no 'expires_in'")
    return DeviceAuthorization(
        device_code=require_str(body, "device_code", _WHAT, DeviceFlowError),
        user_code=user_code,
        verification_uri=uri,
        verification_uri_complete=None if complete is None else check_url(
            complete, "The verification_uri_complete", DeviceFlowError),
        expires_at=now + expires_in,
        interval=optional_seconds(body, "interval", _WHAT, DeviceFlowError) or DEFAULT_INTERVAL,
    )


class FailureReason(enum.Enum):
    """Why a flow ended without tokens; the UI picks its wording and its Try again button from this."""

    DENIED = "denied"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    PROVIDER_ERROR = "provider_error"
    BAD_RESPONSE = "bad_response"


@dataclass(frozen=True, slots=True)
class Pending:
    """Keep waiting: poll again at ``next_poll_at``."""

    next_poll_at: float


@dataclass(frozen=True, slots=True)
class SlowDown:
    """The server asked for slower polling; ``interval`` is the new (permanent) interval."""

    next_poll_at: float
    interval: float


@dataclass(frozen=True, slots=True)
class Authorized:
    """The user approved: the flow is finished and these are the tokens."""

    tokens: TokenResponse


@dataclass(frozen=True, slots=True)
class Failed:
    """The flow is finished without tokens; ``message`` is written for the person at the screen."""

    reason: FailureReason
    message: str


Outcome = Pending | SlowDown | Authorized | Failed


class DeviceFlow:
    """One sign-in attempt. Poll at :attr:`next_poll_at`, report each answer; stop at the first terminal outcome.

    Driver loop: wait until ``next_poll_at`` (and arm a timer for ``expires_at`` that calls
    :meth:`check_expired`), call :meth:`check_expired`, POST the poll, then feed the answer to
    :meth:`on_response` or the failure to :meth:`on_network_error`. After a terminal outcome
    (:class:`Authorized` or :class:`Failed`) every call raises ``RuntimeError``; check :attr:`finished`
    to drop late answers. A new attempt is a new ``DeviceFlow``, started only when the user asks.
    """

    def __init__(self, authorization: DeviceAuthorization, now: float) -> None:
        self.authorization = authorization
        self._interval = authorization.interval
        self._network_errors = 0
        self._finished = False
        self.next_poll_at = now + self._interval

    @property
    def interval(self) -> float:
        """The current polling interval (grows by 5 s with every ``slow_down``)."""
        return self._interval

    @property
    def expires_at(self) -> float:
        """When the device code dies; polling stops there."""
        return self.authorization.expires_at

    @property
    def finished(self) -> bool:
        """True once a terminal outcome was returned."""
        return self._finished

    def on_response(self, status: int, body: object, now: float) -> Outcome:
        """Decide on an answer from the token endpoint that arrived at ``now`` (body: the parsed JSON, if any).

        The ``error`` field decides. Only without one does the status matter: 200 carries tokens, 429 and
        5xx (a proxy or gateway hiccup) count like a network error, anything else is a bad response.
        """
        self._check_running()
        error = body.get("error") if isinstance(body, Mapping) else None
        if error is None:
            if status == 429 or status >= 500:
                return self.on_network_error(now)
            self._network_errors = 0
            if status != 200:
                return self._fail(FailureReason.BAD_RESPONSE,
                                  f"The sign-in service answered HTTP {status} without an error code.")
            return self._authorized(body, now)
        self._network_errors = 0
        if error == "authorization_pending":
            return self._pending(now)
        if error == "slow_down":
            self._interval += SLOW_DOWN_STEP
            pending = self._pending(now)
            return pending if isinstance(pending, Failed) else SlowDown(pending.next_poll_at, self._interval)
        if error == "expired_token":
            return self._fail(FailureReason.EXPIRED, EXPIRED_MESSAGE)
        if error == "access_denied":
            return self._fail(FailureReason.DENIED, DENIED_MESSAGE)
        if not isinstance(error, str) or not error.strip():
            return self._fail(FailureReason.BAD_RESPONSE, "The sign-in service answered with an unreadable error.")
        assert isinstance(body, Mapping)
        description = body.get("error_description")
        message = f"The sign-in service answered {clean_text(error, 80)}"
        if isinstance(description, str) and description.strip():
            message += f": {clean_text(description)}"
        return self._fail(FailureReason.PROVIDER_ERROR, message)

    def on_network_error(self, now: float) -> Pending:
        """No usable answer (timeout, connection refused): back off, doubling the wait each time in a row."""
        self._check_running()
        self._network_errors += 1
        wait = doubling(self._interval, self._network_errors, MAX_BACKOFF)
        self.next_poll_at = now + max(wait, self._interval)
        return Pending(self.next_poll_at)

    def check_expired(self, now: float) -> Failed | None:
        """``Failed(EXPIRED)`` once ``expires_at`` has passed, else None; call it before each poll."""
        self._check_running()
        if now >= self.authorization.expires_at:
            return self._fail(FailureReason.EXPIRED, EXPIRED_MESSAGE)
        return None

    def cancel(self) -> Failed:
        """The user gave up (Cancel button, window closed)."""
        self._check_running()
        return self._fail(FailureReason.CANCELLED, CANCELLED_MESSAGE)

    def _pending(self, now: float) -> Pending | Failed:
        # A "keep waiting" that arrives after the deadline ends the flow: the code is dead anyway.
        expired = self.check_expired(now)
        if expired is not None:
            return expired
        self.next_poll_at = now + self._interval
        return Pending(self.next_poll_at)

    def _authorized(self, body: object, now: float) -> Authorized | Failed:
        try:
            tokens = parse_token_response(body, now)
        except TokenResponseError as exc:
            return self._fail(FailureReason.BAD_RESPONSE, str(exc))
        self._finished = True
        return Authorized(tokens)

    def _fail(self, reason: FailureReason, message: str) -> Failed:
        self._finished = True
        return Failed(reason, message)

    def _check_running(self) -> None:
        if self._finished:
            raise RuntimeError("this sign-in attempt is finished; start a new DeviceFlow")
