"""The one-line explanations: what happened, what it probably is, what a person can do about it.

Each function returns an :data:`~desktop.alerts.episodes.Explain`, called when the alert is emitted so that
updates tell the totals so far. Names and addresses are remote text: the window shows them as plain text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from desktop.alerts.episodes import Episode, Explain, counted, listing
from desktop.alerts.stuffing import Verdict
from desktop.alerts.travel import Journey

__all__ = ["brute_force", "instant", "signup_burst", "span", "stuffing", "travel"]


def span(seconds: float) -> str:
    """``"45 seconds"``, ``"5 minutes"``, ``"2.5 hours"``."""
    seconds = max(0.0, seconds)
    if seconds < 90:
        return _plural(round(seconds), "second")
    if seconds < 90 * 60:
        return _plural(round(seconds / 60), "minute")
    return f"{seconds / 3600:.1f} hours"


def stuffing(verdict: Verdict, window: float) -> Explain:
    def say(e: Episode) -> str:
        block = _block(e.ips or verdict.ips)
        if verdict.surge is not None:
            failures, usual = verdict.surge
            against = f"{failures / usual:.0f} times the usual {usual:,.0f}" if usual >= 1 else "usually almost none"
            head = f"{failures:,} failed logins in {span(window)}, {against}"
        else:
            head = (f"{verdict.accounts:,} accounts failed to log in from {_plural(len(verdict.ips), 'IP')} "
                    f"in {span(max(60.0, verdict.hits[-1].at - verdict.hits[0].at))}")
        if e.updates:
            head = f"{e.count:,} failed logins in {span(e.last_at - e.first_at)} (it began with {head})"
        return f"{head} — likely credential stuffing; {block}"
    return say


def brute_force(event: Mapping[str, Any]) -> Explain:
    who = _who(event)

    def say(e: Episode) -> str:
        head = f"{_plural(e.count, 'failed login')} for {who} in {span(e.last_at - e.first_at)}"
        why = "likely password guessing on this account"
        if not e.ips:
            return (f"{head} from an unknown IP — {why}; look for the addresses in the events and ask the person "
                    "to change their password")
        them = "it" if len(e.ips) == 1 else "them"
        return (f"{head} from {counted(e.ips, 'IP')} ({listing(e.ips)}) — {why}; consider blocking {them} and asking "
                "the person to change their password")
    return say


def signup_burst(e: Episode) -> str:
    ip = e.subject
    return (f"{_plural(e.count, 'signup')} from {ip} in {span(e.last_at - e.first_at)} — likely a bot creating "
            f"accounts; consider blocking {ip} or turning on Auth0's bot detection")


def travel(event: Mapping[str, Any], journey: Journey) -> Explain:
    who = _who(event)
    now = _place(event.get("country"), event.get("city"))
    before = _place(*journey.before_place)

    ip_now = _clip(str(event.get("ip") or "unknown IP"))
    ip_before = _clip(journey.before_ip or "unknown IP")

    def say(e: Episode) -> str:
        more = f" ({e.count} logins involved so far)" if e.count > 2 else ""
        return (f"{who} logged in from {before} ({ip_before}) and "
                f"{span(journey.hours * 3600)} later from {now} ({ip_now}), at least "
                f"{journey.km:,.0f} km apart — faster than any flight{more}; the account may be compromised: "
                "consider revoking its sessions and resetting its password")
    return say


_INSTANT = {
    "limit_wc": "Auth0 blocked {who} after too many failed logins{from_ip} — if it was not them, reset the "
                "password before unblocking",
    "limit_sul": "Auth0 blocked {who} after too many logins{from_ip} — check for a script or shared account "
                 "before unblocking",
    "limit_mu": "Auth0 blocked {ip} after too many attempts across accounts — likely an attack from that "
                "address; keep it blocked unless it is a known office or proxy",
    "pwd_leak": "{who} tried to log in with a password found in a data breach{from_ip} — Auth0 stopped it; ask "
                "them to reset their password",
    "signup_pwd_leak": "{who} tried to sign up with a password found in a data breach{from_ip} — Auth0 refused "
                       "it; nothing else to do unless it repeats",
    "reset_pwd_leak": "{who} tried to set a password found in a data breach{from_ip} — Auth0 refused it; help "
                      "them choose another",
}


def instant(code: str, event: Mapping[str, Any]) -> Explain:
    ip = _clip(str(event.get("ip") or "an unknown IP"))
    text = _INSTANT[code].format(who=_who(event), ip=ip, from_ip=f" (from {ip})" if event.get("ip") else "")

    def say(e: Episode) -> str:
        return text if e.count <= 1 else f"{text} ({e.count} times since {_clock(e.first_at)} UTC)"
    return say


def _who(event: Mapping[str, Any]) -> str:
    for key in ("email", "user_name", "user_id"):
        value = event.get(key)
        if isinstance(value, str) and value:
            return _clip(value)
    return "an unknown account"


def _place(country: Any, city: Any) -> str:
    country = country if isinstance(country, str) else None
    city = city if isinstance(city, str) else None
    if city and country:
        return _clip(f"{city}, {country}")
    return _clip(country or city or "an unknown place")


def _clip(text: str, limit: int = 256) -> str:
    """Remote text in an explanation stays short (the server already clips fields; this holds without it)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _block(ips: list[str]) -> str:
    return f"consider blocking {listing(ips)}" if ips else "look for the addresses in the events"


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


def _clock(epoch: float) -> str:
    total = int(epoch % 86400)
    return f"{total // 3600:02d}:{total % 3600 // 60:02d}"
