"""One login shown once (v1 from the Action, v2 from the tenant log), and what deserves a notification."""

from __future__ import annotations

from support.v2_events import v2_payload

from desktop.feed.events import FeedEvent, normalise
from desktop.feed.fold import LoginFolder
from desktop.feed.notify import notifications

CHANNEL = "private-login-feed"
RECEIVED = 1_795_237_400.0
USER = "auth0|618223a4e3f49e006948565c"  # the sample "s" record's user


def v1(second: int, kind: str = "login", user: str = USER) -> FeedEvent:
    return normalise("user-signedUp" if kind == "signup" else "user-loggedIn", CHANNEL,
                     {"v": 1, "type": kind, "user_id": user, "at": f"2026-11-21T05:01:{second:02d}.000Z"}, RECEIVED)


def v2(second: int, code: str = "s", n: int = 1, **changes: object) -> FeedEvent:
    payload = v2_payload(code, n, at=f"2026-11-21T05:01:{second:02d}.000Z", sample="s", user_id=USER, **changes)
    return normalise("log-event", CHANNEL, payload, RECEIVED)


def test_v1_first_then_v2_the_v2_takes_its_row() -> None:
    folder = LoginFolder()
    first = v1(0)
    assert folder.fold([first]) == ([first], [])
    second = v2(2)
    assert folder.fold([second]) == ([], [(first, second)])


def test_v2_first_then_v1_the_v1_is_folded() -> None:
    folder = LoginFolder()
    login = v2(2)
    assert folder.fold([login]) == ([login], [])
    assert folder.fold([v1(3)]) == ([], [])
    assert folder.folded == 1


def test_both_in_one_batch_leave_one_row_the_v2() -> None:
    login, action = v2(2), v1(1)
    assert LoginFolder().fold([action, login]) == ([login], [])


def test_what_does_not_fold() -> None:
    far = [v2(0, n=1), v1(59)]  # 59 s apart: two logins
    other_user = [v2(10, n=2), v1(10, user="auth0|someone-else")]
    kinds = [v2(20, n=3), v1(20, kind="signup")]  # a login and a signup are two events
    failed = [v2(30, "fp", n=4), v1(30)]  # a failed login is not the Action's login
    for pair in (far, other_user, kinds, failed):
        assert folder_rows(LoginFolder(), pair) == pair
    twice = [v1(40), v1(41), v2(42, n=5)]  # two v1 logins, one v2: one folds, one stays
    rows, replaced = LoginFolder().fold(twice)
    assert rows == [twice[2], twice[1]] and replaced == []


def folder_rows(folder: LoginFolder, batch: list[FeedEvent]) -> list[FeedEvent]:
    rows, replaced = folder.fold(batch)
    assert replaced == []
    return rows


def test_notifications_for_signups_blocks_and_breached_passwords() -> None:
    blocked = normalise("log-event", CHANNEL, v2_payload("limit_wc", 9, sample="fp"), RECEIVED)
    breached = normalise("log-event", CHANNEL, v2_payload("pwd_leak", 10, sample="fp"), RECEIVED)
    signup = v1(0, kind="signup")
    failed = normalise("log-event", CHANNEL, v2_payload("fp", 11), RECEIVED)
    shown = notifications([signup, blocked, breached, failed])
    assert [title for title, _ in shown] == ["New signup", "Blocked", "Breached password"]
    assert shown[1][1] == "Blocked account (too many failed logins): new@test.com, from 81.2.69.143"
    assert notifications([signup, blocked], blocks=False) == [shown[0]]
    assert notifications([signup, blocked], signups=False, blocks=False) == []
    assert notifications([blocked, blocked])[0] == ("Blocked", "2 blocks")
