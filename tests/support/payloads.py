"""The sample feed payload: what our Auth0 Action publishes (contract v1), in one place for every test.

:func:`action_payload` is Ada's signup as the Action sends it; ``overrides`` change or add fields (a login,
another user, a hostile name). Each call returns a fresh copy, so a test may edit it.
"""

from __future__ import annotations

import copy
from typing import Any

ADA_SIGNUP: dict[str, Any] = {
    "v": 1,
    "type": "signup",
    "user_id": "auth0|6560a1b2c3d4e5f6a7b8c9d0",
    "email": "ada@example.com",
    "name": "Ada Lovelace",
    "nickname": "ada",
    "picture": "https://s.gravatar.com/avatar/0f1e2d.png",
    "connection": "Username-Password-Authentication",
    "client_name": "My App",
    "country": "GB",
    "city": "London",
    "ip": "203.0.113.7",
    "logins_count": 1,
    "at": "2026-11-21T05:01:02.123Z",
    "updated_at": "2026-11-21T05:01:02.123Z",
    "app_metadata": {"signedUp": True},
}


def action_payload(**overrides: Any) -> dict[str, Any]:
    """Ada's signup payload with ``overrides`` applied (a fresh copy)."""
    payload = copy.deepcopy(ADA_SIGNUP)
    payload.update(overrides)
    return payload


def login_payload(user_id: str, **overrides: Any) -> dict[str, Any]:
    """A returning user's login (17 logins so far) as the Action sends it, for ``user_id``."""
    number = user_id.rpartition("|")[2].lstrip("0") or "0"
    login = {"type": "login", "user_id": user_id, "email": f"user{number}@example.com", "logins_count": 17,
             "app_metadata": {"signedUp": False}}
    return action_payload(**{**login, **overrides})
