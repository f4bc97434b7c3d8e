"""Who this person is to the operating system: the one look-up of the OS user name.

Before (or without) an Auth0 sign-in the app has no other name for its user: the local signer puts it on
presence channels (:func:`desktop.engine.local_identity`) and the chat sends as it, so both must agree, also
on the fallback when the system knows no user name.
"""

from __future__ import annotations

import getpass

__all__ = ["FALLBACK_NAME", "os_user_name"]

FALLBACK_NAME = "someone"


def os_user_name() -> str:
    """The login name from the environment or the password database, or :data:`FALLBACK_NAME`."""
    try:
        return getpass.getuser()
    except (ImportError, KeyError, OSError):  # no user name in the environment nor the password database
        return FALLBACK_NAME
