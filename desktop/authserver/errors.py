"""The reference server's one error root: :class:`AuthServerError`.

Every failure the server raises on purpose is one: a request it answers with an error (``ApiError``), a
token it does not trust (``TokenRejected``), a caller without the permission (``Forbidden``), the issuer's
keys out of reach (``KeySetUnavailable``), and a set-up it cannot start with (``AuthServerSetupError``).
``description`` (also ``str(exc)``) is a sentence fit for a person and never quotes a token or a secret;
``status`` and ``error`` are the HTTP answer it becomes (``{"error", "error_description"}``).
"""

from __future__ import annotations


class AuthServerError(Exception):
    """Root of the server's errors (see the module); subclasses set their own ``status`` and ``error``."""

    status: int = 500
    error: str = "server_error"

    def __init__(self, description: str, *, status: int | None = None, error: str | None = None) -> None:
        super().__init__(description)
        self.description = description
        if status is not None:
            self.status = status
        if error is not None:
            self.error = error
