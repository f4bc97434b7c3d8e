"""What kind of row an event is, for the eye (pure: no Qt): its badge label, its colour family, its outcome, and
the choices of the kind and outcome filters. Failures first: a failure is red, a warning or a block amber,
successes keep the colours they always had (signups green, logins blue) and the tenant log's other successful
kinds (MFA, password, logout, account, other) a quiet neutral.
"""

from __future__ import annotations

from desktop.feed.events import FeedEvent

__all__ = ["KIND_CHOICES", "OUTCOME_CHOICES", "TYPE_LABELS", "colour_key", "outcome_of"]

TYPE_LABELS = {
    "signup": "Sign up", "login": "Log in", "login_failed": "Failed", "signup_failed": "Failed",
    "blocked": "Blocked", "mfa": "MFA", "password": "Password", "logout": "Log out", "account": "Account",
    "alert": "Alert", "other": "Other", "unrecognised": "Unrecognised",
}
"""The badge's text per ``FeedEvent.type``."""

KIND_CHOICES = (
    ("All kinds", None), ("Sign ups", "signup"), ("Log ins", "login"), ("Failed logins", "login_failed"),
    ("Failed signups", "signup_failed"), ("Blocks", "blocked"), ("MFA", "mfa"), ("Password", "password"),
    ("Log outs", "logout"), ("Account", "account"), ("Alerts", "alert"), ("Other", "other"),
    ("Unrecognised", "unrecognised"),
)
OUTCOME_CHOICES = (("All outcomes", None), ("Failures", "failure"), ("Warnings", "warning"),
                   ("Successes", "success"))
COLOUR_KEYS = ("signup", "login", "failure", "warning", "neutral", "unrecognised")


def outcome_of(ev: FeedEvent) -> str:
    """``success``, ``failure`` or ``warning``; a v1 signup or login is a success, an unrecognised event none."""
    if ev.type == "unrecognised":
        return "unknown"
    return ev.outcome or "success"


def colour_key(ev: FeedEvent) -> str:
    """The badge's colour family: ``failure`` (red), ``warning`` (amber: warnings and blocks), the success colours
    ``signup``/``login``, ``neutral`` for other successes, ``unrecognised``."""
    if ev.type == "unrecognised":
        return "unrecognised"
    if ev.type == "blocked" or ev.outcome == "warning":
        return "warning"
    if ev.outcome == "failure":
        return "failure"
    return ev.type if ev.type in ("signup", "login") else "neutral"
