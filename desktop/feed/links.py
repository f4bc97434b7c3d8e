"""Deep links into the Auth0 dashboard for an event and a user (pure).

The dashboard addresses a tenant as ``/dashboard/<region>/<tenant>/``: for ``example.eu.auth0.com`` that is
``eu/example``, for ``example.auth0.com`` (the oldest US tenants) ``us/example``. A custom domain (``[auth0]
issuer`` only) does not name its tenant, so the links fall back to ``https://manage.auth0.com/#/logs/<log_id>`` and
``#/users/<user_id>``, which the dashboard opens in the tenant last used. Ids are percent-encoded (``auth0|123``
becomes ``auth0%7C123``), so a hostile id cannot leave the dashboard's path.
"""

from __future__ import annotations

from urllib.parse import quote

__all__ = ["DASHBOARD", "event_link", "tenant_path", "user_link"]

DASHBOARD = "https://manage.auth0.com"


def tenant_path(domain: str | None) -> str | None:
    """``<region>/<tenant>`` of an ``*.auth0.com`` domain, else None."""
    if not domain:
        return None
    labels = domain.strip().rstrip(".").lower().split(".")
    if len(labels) < 3 or labels[-2:] != ["auth0", "com"] or not all(label.isalnum() or "-" in label
                                                                        for label in labels[:-2]):
        return None
    if len(labels) == 3:
        return f"us/{labels[0]}"
    if len(labels) == 4:
        return f"{labels[1]}/{labels[0]}"
    return None


def _link(domain: str | None, what: str, ident: str) -> str:
    path = tenant_path(domain)
    encoded = quote(ident, safe="")
    if path is None:
        return f"{DASHBOARD}/#/{what}/{encoded}"
    return f"{DASHBOARD}/dashboard/{path}/{what}/{encoded}"


def event_link(domain: str | None, log_id: str) -> str:
    return _link(domain, "logs", log_id)


def user_link(domain: str | None, user_id: str) -> str:
    return _link(domain, "users", user_id)
