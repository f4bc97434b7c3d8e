"""``SignInManager`` against a real OpenID provider (oidc-provider, Auth0-shaped): the device flow end to end.

Approve, deny, expiry, cancel and slow_down; then staying signed in: refresh with rotation, reuse of a used
refresh token (which kills the whole token family), revocation on logout, restore from the keyring, and a
keyring that hangs. The user's side (the verification page) is played through the provider's test routes.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import time
from collections.abc import Iterator

import pytest
from support.oidc_provider import OidcProvider as OidcTestServer
from support.signin_helpers import HangingKeyring, LoginRun, MemoryKeyring, closing_manager
from support.waiting import wait_until

from desktop.auth import deviceflow
from desktop.auth.session import RefreshError
from desktop.auth.signin import NotSignedIn, SignInFailed, SignInManager

pytestmark = pytest.mark.integration

ADA = "auth0|demo-ada"


@pytest.fixture
def keyring_backend() -> MemoryKeyring:
    return MemoryKeyring()


@pytest.fixture
def manager(oidc_provider: OidcTestServer, keyring_backend: MemoryKeyring) -> Iterator[SignInManager]:
    with closing_manager(oidc_provider.issuer, oidc_provider.client_id, oidc_provider.audience,
                         keyring_backend) as signin:
        yield signin


@pytest.fixture
def runs() -> Iterator[list[LoginRun]]:
    """Every LoginRun a test starts is cancelled and joined at teardown."""
    started: list[LoginRun] = []
    yield started
    for run in started:
        run.stop()


def start_login(runs: list[LoginRun], manager: SignInManager) -> LoginRun:
    run = LoginRun(manager)
    runs.append(run)
    return run


def sign_in(oidc_provider: OidcTestServer, runs: list[LoginRun], manager: SignInManager, sub: str = ADA):
    run = start_login(runs, manager)
    oidc_provider.approve(run.code().user_code, sub=sub)
    return run.result()


# ---------------------------------------------------------------------------------------------- device flow


def test_approve_signs_in_and_keeps_the_refresh_token(oidc_provider, manager, keyring_backend, runs) -> None:
    run = start_login(runs, manager)
    authorization = run.code()
    assert authorization.user_code
    assert authorization.verification_uri.startswith(oidc_provider.base_url)
    assert authorization.interval == oidc_provider.interval  # Auth0 sends it; the provider mimics that
    oidc_provider.approve(authorization.user_code, sub=ADA)
    session = run.result()

    assert session.profile.sub == ADA
    assert session.profile.name == "Ada Lovelace"
    assert session.profile.email == "ada@example.com"
    assert manager.profile == session.profile
    assert session.refresh_token
    assert keyring_backend.only_value() == session.refresh_token
    assert manager.keyring_warning == ""
    # The access token is usable right away, and is the one of the session (no refresh needed yet).
    assert manager.access_token() == session.access_token


def test_deny_fails_with_reason_denied(oidc_provider, manager, keyring_backend, runs) -> None:
    run = start_login(runs, manager)
    oidc_provider.deny(run.code().user_code)
    error = run.error()
    assert isinstance(error, SignInFailed)
    assert error.reason == "denied"
    assert "denied" in error.message
    assert manager.session is None
    assert keyring_backend.only_value() is None


def test_expired_code_fails_with_reason_expired(oidc_provider, manager, keyring_backend, runs) -> None:
    run = start_login(runs, manager)
    oidc_provider.expire(run.code().user_code)
    error = run.error()
    assert isinstance(error, SignInFailed)
    assert error.reason == "expired"
    assert "expired" in error.message
    assert manager.session is None
    assert keyring_backend.only_value() is None


def test_cancel_ends_the_flow_quickly(oidc_provider, manager, keyring_backend, runs) -> None:
    run = start_login(runs, manager)
    user_code = run.code().user_code
    cancelled_at = time.monotonic()
    run.cancelled.set()
    error = run.error(timeout=5)
    assert isinstance(error, SignInFailed)
    assert error.reason == "cancelled"
    assert run.finished_at is not None
    # Cancelling does not wait out the polling interval (1 s here).
    assert run.finished_at - cancelled_at < 0.8
    assert manager.session is None
    # Approving the abandoned code afterwards signs nobody in here.
    oidc_provider.approve(user_code, sub=ADA)
    assert manager.session is None
    assert keyring_backend.only_value() is None


def test_slow_down_grows_the_interval_for_good(oidc_provider, manager, runs, monkeypatch) -> None:
    # The provider advertises 1 s and answers slow_down to polls < 0.5 s apart. Make the client poll every
    # 0.1 s (as a client with a drifting clock would), with a small step so the test stays fast.
    step = 0.5
    monkeypatch.setattr(deviceflow, "SLOW_DOWN_STEP", step)
    real_parse = deviceflow.parse_device_authorization

    def too_fast(body: object, now: float) -> deviceflow.DeviceAuthorization:
        return dataclasses.replace(real_parse(body, now), interval=0.1)

    monkeypatch.setattr(deviceflow, "parse_device_authorization", too_fast)
    outcomes: list[tuple[float, float, deviceflow.Outcome]] = []  # (now, interval after, outcome)

    class RecordingFlow(deviceflow.DeviceFlow):
        def on_response(self, status: int, body: object, now: float) -> deviceflow.Outcome:
            outcome = super().on_response(status, body, now)
            outcomes.append((now, self.interval, outcome))
            return outcome

    monkeypatch.setattr(deviceflow, "DeviceFlow", RecordingFlow)

    run = start_login(runs, manager)
    user_code = run.code().user_code
    wait_until(lambda: any(isinstance(o, deviceflow.SlowDown) for _, _, o in outcomes), 5,
               message=lambda: f"no slow_down; outcomes: {outcomes}")
    # One more poll after the slow_down, at the grown interval, before approving.
    wait_until(lambda: len(outcomes) >= 2 and not isinstance(outcomes[-1][2], deviceflow.SlowDown), 5,
               message=lambda: f"no poll after the slow_down; outcomes: {outcomes}")
    oidc_provider.approve(user_code, sub=ADA)
    session = run.result()
    assert session.profile.name == "Ada Lovelace"

    kinds = [type(o).__name__ for _, _, o in outcomes]
    first_slow = kinds.index("SlowDown")
    assert kinds[-1] == "Authorized"
    slow = outcomes[first_slow][2]
    assert isinstance(slow, deviceflow.SlowDown)
    assert slow.interval == pytest.approx(0.1 + step)
    # Exactly one slow_down: at the grown interval the client is slow enough; and the interval stays grown.
    assert kinds.count("SlowDown") == 1, kinds
    assert all(interval == pytest.approx(0.1 + step) for _, interval, _ in outcomes[first_slow:]), outcomes
    for now, _, outcome in outcomes[first_slow:]:
        if isinstance(outcome, deviceflow.Pending | deviceflow.SlowDown):
            assert outcome.next_poll_at - now == pytest.approx(0.1 + step)
    # The answers after the slow_down arrived at least the grown interval apart.
    answer_times = [now for now, _, _ in outcomes[first_slow:]]
    assert all(b - a >= 0.1 + step - 0.01 for a, b in itertools.pairwise(answer_times))


# ---------------------------------------------------------------------------------------------- staying signed in


def test_refresh_rotates_and_reuse_kills_the_family(oidc_provider, manager, keyring_backend, runs) -> None:
    session = sign_in(oidc_provider, runs, manager)
    old, first_access = session.refresh_token, session.access_token
    assert old

    # A forced refresh (as after a 401) rotates: new access token, new refresh token stored at once.
    access = manager.access_token(force_refresh=True)
    assert access != first_access
    current = keyring_backend.only_value()
    assert current and current != old
    assert manager.session is not None
    assert manager.session.refresh_token == current
    assert manager.session.access_token == access
    assert manager.profile is not None and manager.profile.name == "Ada Lovelace"
    assert keyring_backend.writes == [old, current]  # stored once per rotation
    assert manager.access_token() == access  # no refresh when none is due

    # Someone replays the used token (a stolen copy): refused...
    status, body = manager.provider.refresh(old)
    assert status in (400, 401, 403)
    assert body["error"] == "invalid_grant"
    # ... and reuse detection revoked the whole family: the current token is dead too.
    with pytest.raises(RefreshError) as refused:
        manager.access_token(force_refresh=True)
    assert refused.value.kind == "reauth"
    assert "Sign in again" in str(refused.value)
    assert keyring_backend.only_value() is None
    assert manager.session is None
    with pytest.raises(NotSignedIn):
        manager.access_token()


def test_logout_revokes_and_forgets(oidc_provider, manager, keyring_backend, runs) -> None:
    session = sign_in(oidc_provider, runs, manager)
    refresh_token = session.refresh_token
    assert refresh_token

    result = manager.logout()
    assert result.revoked
    assert result.message == "Signed out."
    assert keyring_backend.only_value() is None
    assert manager.session is None
    # The provider no longer honours the revoked token.
    status, body = manager.provider.refresh(refresh_token)
    assert status != 200
    assert body["error"] == "invalid_grant"
    with pytest.raises(NotSignedIn):
        manager.access_token()


def test_restore_from_the_keyring_in_a_fresh_manager(oidc_provider, manager, keyring_backend, runs) -> None:
    first = sign_in(oidc_provider, runs, manager, sub="auth0|demo-grace")
    stored = keyring_backend.only_value()

    with closing_manager(oidc_provider.issuer, oidc_provider.client_id, oidc_provider.audience,
                         keyring_backend) as later:
        restored = later.restore()
        assert restored is not None
        assert restored.profile == first.profile
        assert restored.profile.name == "Grace Hopper"
        assert restored.profile.email == "grace@example.com"
        assert later.access_token() == restored.access_token
        # Restoring is a refresh: the keyring holds the rotated token now.
        assert keyring_backend.only_value() not in (None, stored)


def test_restore_with_an_empty_keyring_is_nobody(oidc_provider, keyring_backend) -> None:
    with closing_manager(oidc_provider.issuer, oidc_provider.client_id, oidc_provider.audience,
                         keyring_backend) as fresh:
        assert fresh.restore() is None
        assert fresh.session is None
        assert fresh.keyring_warning == ""


def test_hanging_keyring_signs_in_for_this_session_only(oidc_provider, runs, tmp_path, monkeypatch) -> None:
    # Every place a fallback could write to is a fresh, empty directory.
    places = {name: tmp_path / name for name in ("home", "data", "config", "cache", "cwd")}
    for place in places.values():
        place.mkdir()
    monkeypatch.setenv("HOME", str(places["home"]))
    monkeypatch.setenv("XDG_DATA_HOME", str(places["data"]))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(places["config"]))
    monkeypatch.setenv("XDG_CACHE_HOME", str(places["cache"]))
    monkeypatch.chdir(places["cwd"])
    hanging = HangingKeyring(hang=2.0)
    try:
        with closing_manager(oidc_provider.issuer, oidc_provider.client_id, oidc_provider.audience, hanging,
                             keyring_timeout=0.3) as manager:
            run = start_login(runs, manager)
            oidc_provider.approve(run.code().user_code, sub=ADA)
            session = run.result()
            assert session.profile.name == "Ada Lovelace"
            assert hanging.calls == ["set"]
            # The keyring's timeout (0.3 s), not its hang (2 s), bounded the wait.
            assert run.finished_at is not None
            assert run.finished_at - hanging.call_started[0] < 1.8  # well below the hang, on a loaded machine too
            assert "keyring" in manager.keyring_warning
            assert "this session only" in manager.keyring_warning
            assert "0.3 s" in manager.keyring_warning
            # Signed in for now: the access token works without the keyring.
            assert manager.access_token() == session.access_token
    finally:
        hanging.release()
    leftovers = sorted(str(p.relative_to(tmp_path)) for place in places.values() for p in place.rglob("*"))
    assert leftovers == []
    assert not [name for name in os.listdir(tmp_path) if name not in places]
