"""pytest fixtures for the local OpenID provider (``support.oidc_provider``).

Import them into ``tests/conftest.py`` (or into a test module) to make them available::

    from support.oidc_fixtures import oidc_provider  # noqa: F401
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from support.oidc_provider import OIDC_PROVIDER_PACKAGE, OidcProvider, oidc_provider_installed

__all__ = ["oidc_provider", "require_oidc_provider"]


def require_oidc_provider() -> None:
    """Fail (never skip) when the npm test stack is missing: integration tests must run."""
    if not oidc_provider_installed():
        pytest.fail(
            f"oidc-provider is not installed ({OIDC_PROVIDER_PACKAGE.parent} is missing). Run `make test`, which "
            "installs the npm test stack (package.json / package-lock.json) before running pytest.",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def oidc_provider() -> Iterator[OidcProvider]:
    """An Auth0-like OpenID provider shared by the whole session: interval 1 s, slow_down enforced.

    Client ``login-feed-desktop`` (public, device code + refresh token), audience
    ``https://login-feed.example.com/api``, permission ``read:login-feed``; approve user codes with
    ``oidc_provider.approve(user_code)``. Do not stop or restart it in a test: start your own ``OidcProvider``.
    """
    require_oidc_provider()
    provider = OidcProvider(interval=1)
    try:
        provider.start()
        yield provider
    finally:
        provider.close()
