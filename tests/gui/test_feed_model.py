"""FeedModel (newest on top, ranged inserts, the cap) and FeedFilterProxy (type, country, text)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QModelIndex, Qt

from desktop.feed.events import FeedEvent
from desktop.feed.filters import FeedFilterProxy
from desktop.feed.model import FeedModel, plain_line

RECEIVED = "2026-11-21T13:30:20.000Z"


def ev(n: int, kind: str = "login", **fields: object) -> FeedEvent:
    values: dict = {"user_id": f"auth0|{n}", "email": f"user{n}@example.com", "name": f"User {n}",
                    "country": "FR", "city": "Paris", "connection": "Username-Password-Authentication",
                    "client_name": "Console", "ip": "192.0.2.1"}
    values.update(fields)
    return FeedEvent(event="user-loggedIn", channel="private-login-feed", type=kind, received_at=RECEIVED,
                     data={"n": n}, **values)


def names(model) -> list[str]:
    return [model.index(row, 0).data(FeedModel.EventRole).name for row in range(model.rowCount())]


@pytest.fixture
def model(qtmodeltester) -> FeedModel:
    model = FeedModel(max_rows=10)
    qtmodeltester.check(model)  # attached from here on: every later insert and removal is checked too
    return model


def test_newest_on_top_with_one_ranged_insert_per_batch(model: FeedModel, qtmodeltester) -> None:
    inserted: list[tuple[int, int]] = []
    model.rowsInserted.connect(lambda parent, first, last: inserted.append((first, last)))
    model.add_events([ev(1), ev(2), ev(3)])  # arrival order: 3 is the newest
    model.add_events([ev(4), ev(5)])
    assert names(model) == ["User 5", "User 4", "User 3", "User 2", "User 1"]
    assert inserted == [(0, 2), (0, 1)]
    assert model.event_at(0).name == "User 5"
    qtmodeltester.check(model)


def test_the_cap_trims_the_oldest_at_the_bottom(model: FeedModel, qtmodeltester) -> None:
    removed: list[tuple[int, int]] = []
    model.rowsRemoved.connect(lambda parent, first, last: removed.append((first, last)))
    model.add_events([ev(n) for n in range(8)])
    model.add_events([ev(n) for n in range(8, 13)])
    assert model.rowCount() == 10
    assert names(model) == [f"User {n}" for n in range(12, 2, -1)]
    assert removed == [(5, 7)]  # one ranged removal of the three oldest, before the insert
    qtmodeltester.check(model)


def test_a_batch_larger_than_the_cap_keeps_its_newest(model: FeedModel, qtmodeltester) -> None:
    model.add_events([ev(100)])
    model.add_events([ev(n) for n in range(25)])
    assert names(model) == [f"User {n}" for n in range(24, 14, -1)]
    model.clear()
    assert model.rowCount() == 0
    qtmodeltester.check(model)


def test_roles(model: FeedModel) -> None:
    model.add_events([ev(1, "signup", name="Zoë", country="DE", at="2026-11-21T13:30:00.000Z")])
    index = model.index(0, 0)
    assert index.data(FeedModel.TypeRole) == "signup"
    assert index.data(FeedModel.CountryRole) == "DE"
    assert index.data(FeedModel.SortRole) == pytest.approx(1_795_267_800.0)
    assert "zoë" in index.data(FeedModel.SearchRole)
    assert index.data(Qt.ItemDataRole.ToolTipRole).startswith("Sat 21 Nov 2026")
    assert index.data(Qt.ItemDataRole.DisplayRole).startswith("Sign up · Zoë · user1@example.com · DE · Paris")
    assert model.data(QModelIndex()) is None
    with pytest.raises(IndexError):
        model.event_at(5)


def test_markup_and_control_characters_stay_literal(model: FeedModel) -> None:
    model.add_events([ev(1, name="<img src=x onerror=alert(1)>"), ev(2, name="<b>bold</b>\nEmail: fake\u202e")])
    assert model.index(1, 0).data().startswith("Log in · <img src=x onerror=alert(1)> · ")
    shown = model.index(0, 0).data()
    assert shown.startswith("Log in · <b>bold</b> Email: fake\ufffd · ")
    assert "\n" not in shown
    assert plain_line("a\tb\x00c\u2066") == "a b\ufffdc\ufffd"


# -- the proxy ------------------------------------------------------------------------------------------------
@pytest.fixture
def proxy(qtmodeltester) -> FeedFilterProxy:
    source = FeedModel(max_rows=100)
    proxy = FeedFilterProxy()
    proxy.setSourceModel(source)
    source.add_events([
        ev(1, "signup", name="Ada Lovelace", country="GB", city="London"),
        ev(2, "login", name="Grace Hopper", country="US", city="Arlington", email="grace@navy.example"),
        ev(3, "login", name="Zoë Müller", country="DE", city="Berlin", ip="203.0.113.9"),
        FeedEvent(event="client-odd", channel="private-login-feed", type="unrecognised", received_at=RECEIVED,
                  data="?", reason="not a feed event"),
        ev(5, "signup", name="Søren Kierkegaard", country="DK", connection="github", client_name="Support Portal"),
    ])
    qtmodeltester.check(proxy)
    return proxy


def shown(proxy: FeedFilterProxy) -> list[str | None]:
    return [proxy.index(row, 0).data(FeedModel.EventRole).name for row in range(proxy.rowCount())]


def test_filter_by_type(proxy: FeedFilterProxy) -> None:
    proxy.set_type_filter("signup")
    assert shown(proxy) == ["Søren Kierkegaard", "Ada Lovelace"]
    proxy.set_type_filter("unrecognised")
    assert shown(proxy) == [None]
    proxy.set_type_filter("all")
    assert len(shown(proxy)) == 5
    with pytest.raises(ValueError, match="unknown event type"):
        proxy.set_type_filter("log-out")  # "logout" is a tenant-log kind


def test_filter_by_country(proxy: FeedFilterProxy) -> None:
    assert proxy.countries() == ["DE", "DK", "GB", "US"]
    proxy.set_country_filter("US")
    assert shown(proxy) == ["Grace Hopper"]
    proxy.set_country_filter(None)
    assert len(shown(proxy)) == 5


@pytest.mark.parametrize(("text", "expected"), [
    ("lovelace", ["Ada Lovelace"]),  # name, any case
    ("NAVY", ["Grace Hopper"]),  # email
    ("auth0|3", ["Zoë Müller"]),  # user id
    ("203.0.113", ["Zoë Müller"]),  # IP
    ("berlin", ["Zoë Müller"]),  # city
    ("github", ["Søren Kierkegaard"]),  # connection
    ("support portal", ["Søren Kierkegaard"]),  # application, both words
    ("ZOË", ["Zoë Müller"]),  # non-ASCII case folding
    ("grace london", []),  # every word must match the same event
    ("  ", ["Søren Kierkegaard", None, "Zoë Müller", "Grace Hopper", "Ada Lovelace"]),
])
def test_text_search(proxy: FeedFilterProxy, text: str, expected: list) -> None:
    proxy.set_search_text(text)
    assert shown(proxy) == expected


def test_filters_combine_and_each_change_refilters_once(proxy: FeedFilterProxy, qtbot) -> None:
    changes: list[str] = []
    proxy.rowsRemoved.connect(lambda *a: changes.append("removed"))
    proxy.layoutChanged.connect(lambda *a: changes.append("layout"))
    proxy.modelReset.connect(lambda *a: changes.append("reset"))
    proxy.set_filters(kind="login", country="DE", text="müller")
    assert shown(proxy) == ["Zoë Müller"]
    assert "reset" not in changes and "layout" not in changes  # rows removed in place, no reset
    changes.clear()
    proxy.set_filters(kind="login", country="DE", text="MÜLLER ")  # the same filter: nothing happens
    assert changes == []
    # new events are filtered as they arrive
    proxy.sourceModel().add_events([ev(9, "login", name="Jörg Müller", country="DE"), ev(10, "signup", country="DE")])
    assert shown(proxy) == ["Jörg Müller", "Zoë Müller"]
    assert [e.name for e in proxy.visible_events()] == ["Jörg Müller", "Zoë Müller"]
