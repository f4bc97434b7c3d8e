"""One error root per domain, each carrying a message fit for a person (issue 10)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import desktop.authserver
import desktop.pusher
from desktop.authserver.errors import AuthServerError
from desktop.pusher.errors import PusherError


def exception_classes(package: object) -> dict[str, type[BaseException]]:
    found: dict[str, type[BaseException]] = {}
    for info in pkgutil.iter_modules(package.__path__, package.__name__ + "."):  # type: ignore[attr-defined]
        if info.name.endswith("qtbridge"):
            continue  # Qt only; raises nothing of its own
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if (inspect.isclass(value) and issubclass(value, BaseException)
                    and value.__module__ == module.__name__ and not name.startswith("_")):
                found[f"{module.__name__}.{name}"] = value
    return found


def test_every_engine_error_is_a_pusher_error() -> None:
    classes = exception_classes(desktop.pusher)
    assert {name.rsplit(".", 1)[1] for name in classes} >= {
        "ProtocolError", "FrameError", "DecryptError", "ClientEventError", "AuthorizationError", "PusherError"}
    assert [name for name, cls in classes.items() if not issubclass(cls, PusherError)] == []


def test_every_server_error_is_an_auth_server_error() -> None:
    classes = exception_classes(desktop.authserver)
    assert [name for name, cls in classes.items() if not issubclass(cls, AuthServerError)] == []
    assert len(classes) >= 6


def test_the_engine_errors_that_were_value_errors_still_are() -> None:
    from desktop.pusher.channels import DecryptError
    from desktop.pusher.protocol import ProtocolError, decode_frame
    from desktop.pusher.types import ClientEventError
    from desktop.pusher.wsframes import FrameError

    for cls in (ProtocolError, FrameError, DecryptError, ClientEventError):
        assert issubclass(cls, ValueError)
    with pytest.raises(PusherError, match="frame is not JSON"):
        decode_frame(b"{nope")


def test_server_errors_carry_their_answer_and_a_sentence() -> None:
    from desktop.authserver.params import ApiError
    from desktop.authserver.policy import Forbidden
    from desktop.authserver.tokens import KeySetUnavailable, TokenRejected

    cases = [(ApiError(413, "payload_too_large", "the body is too large"), 413, "payload_too_large"),
             (TokenRejected("the token has expired"), 401, "invalid_token"),
             (Forbidden("not allowed on this channel"), 403, "forbidden"),
             (KeySetUnavailable("the key set could not be fetched"), 503, "temporarily_unavailable")]
    for exc, status, error in cases:
        assert (exc.status, exc.error, exc.description) == (status, error, str(exc))


def test_the_keyring_failure_is_one_class() -> None:
    from desktop.auth.store import KeyringUnavailable as SignInKeyring
    from desktop.secrets import KeyringUnavailable, SecretsUnavailable

    assert SignInKeyring is KeyringUnavailable is SecretsUnavailable
