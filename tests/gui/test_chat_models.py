"""The chat's Qt models: checked by Qt's model tester while they change, plus caps, roles and order."""

from __future__ import annotations

from desktop.chat.messages import ChatMessage
from desktop.chat.model import ChatModel, ChatRole
from desktop.chat.presence import PresenceModel, PresenceRole

NOW = 1_700_000_000.0


def _message(n: int, **kwargs: object) -> ChatMessage:
    return ChatMessage(f"id{n}", f"Person {n}", f"text {n}", NOW + n, **kwargs)  # type: ignore[arg-type]


def test_chat_model_passes_the_model_tester_while_it_changes(qtmodeltester) -> None:
    model = ChatModel(cap=10)
    qtmodeltester.check(model, force_py=False)
    model.add_incoming([_message(n) for n in range(4)])
    model.add_own_pending(_message(100))
    model.mark_sent("id100")
    model.add_own_pending(_message(101))
    model.mark_failed("id101", "Not sent: no connection.")
    model.add_incoming([_message(n) for n in range(4, 20)])  # past the cap: the oldest go
    model.clear()
    model.add_incoming([_message(1)])
    qtmodeltester.check(model, force_py=True)


def test_chat_model_keeps_the_newest_up_to_the_cap_oldest_first() -> None:
    model = ChatModel(cap=5)
    inserted: list[tuple[int, int]] = []
    model.rowsInserted.connect(lambda _parent, first, last: inserted.append((first, last)))
    assert model.add_incoming([_message(n) for n in range(8)]) == 8
    assert inserted == [(0, 7)]  # one range insert for the batch
    assert [m.id for m in model.messages()] == [f"id{n}" for n in range(3, 8)]
    # A dropped id may come back (it is no longer shown); one still shown is not added twice.
    assert model.add_incoming([_message(7), _message(0)]) == 1


def test_chat_model_roles() -> None:
    model = ChatModel()
    model.add_incoming([ChatMessage("x", "<img src=x onerror=alert(1)>", "<b>bold</b>", NOW)])
    index = model.index(0, 0)
    assert index.data() == "<img src=x onerror=alert(1)>: <b>bold</b>"
    assert index.data(ChatRole.NAME) == "<img src=x onerror=alert(1)>"
    assert index.data(ChatRole.TEXT) == "<b>bold</b>"
    assert index.data(ChatRole.AT) == NOW
    assert index.data(ChatRole.OWN) is False
    assert index.data(ChatRole.PENDING) is False
    assert index.data(ChatRole.FAILED) is None
    assert model.roleNames()[ChatRole.FAILED] == b"failed"


def test_own_messages_go_from_pending_to_sent_or_failed() -> None:
    model = ChatModel()
    changed: list[int] = []
    model.dataChanged.connect(lambda top, _bottom, _roles=None: changed.append(top.row()))
    model.add_incoming([_message(1)])
    model.add_own_pending(_message(2))
    assert model.message("id2") == _message(2, own=True, pending=True)
    model.mark_sent("id2")
    assert model.message("id2") == _message(2, own=True)
    model.mark_sent("id2")  # nothing changes: no signal
    model.mark_failed("id2", "Not sent: offline.")
    assert model.message("id2") == _message(2, own=True, failed="Not sent: offline.")
    model.mark_pending("id2")
    assert model.message("id2") == _message(2, own=True, pending=True)
    model.mark_sent("unknown")
    assert changed == [1, 1, 1]


def _presence(*members: tuple[str, object], me: str | None = None) -> dict[str, object]:
    entries = [{"id": member_id, "info": info} for member_id, info in members]
    mine = next((e for e in entries if e["id"] == me), None)
    return {"count": len(entries), "me": mine, "members": entries}


def test_presence_model_passes_the_model_tester_while_it_changes(qtmodeltester) -> None:
    model = PresenceModel()
    qtmodeltester.check(model, force_py=False)
    model.handle_event("pusher:subscription_succeeded",
                       _presence(("u1", {"name": "Ada"}), ("u2", {"name": "bob"}), me="u1"))
    model.handle_event("pusher:member_added", {"id": "u3", "info": {"name": "Carol"}})
    model.handle_event("pusher:member_added", {"id": "u3", "info": {"name": "Caroline"}})
    model.handle_event("pusher:member_removed", {"id": "u2", "info": None})
    model.handle_event("pusher:member_removed", {"id": "nobody"})
    model.clear()
    qtmodeltester.check(model, force_py=True)


def test_presence_members_me_first_then_by_name() -> None:
    model = PresenceModel()
    model.handle_event("pusher:subscription_succeeded", _presence(
        ("u9", {"name": "zoe"}), ("u2", {"name": "Bob"}), ("u1", {"name": "Yves"}), ("u7", None),
        ("u5", {"name": ["not", "text"]}), ("u6", {"name": "<b>bold</b>"}), me="u1"))
    shown = [model.index(row, 0).data() for row in range(model.rowCount())]
    assert shown == ["Yves (you)", "<b>bold</b>", "Bob", "u5", "u7", "zoe"]
    assert model.index(0, 0).data(PresenceRole.ME) is True
    assert model.index(2, 0).data(PresenceRole.ID) == "u2"

    model.handle_event("pusher:member_added", {"id": "u3", "info": {"name": "Carol"}})
    model.handle_event("pusher:member_removed", {"id": "u2", "info": {"name": "Bob"}})
    assert [m.name for m in model.members()] == ["Yves", "<b>bold</b>", "Carol", "u5", "u7", "zoe"]


def test_presence_ignores_other_events_and_odd_data() -> None:
    model = PresenceModel()
    assert not model.handle_event("message-added", {"id": "u1"})
    assert model.handle_event("pusher:subscription_succeeded", "garbage")
    assert model.handle_event("pusher:member_added", {"info": {"name": "no id"}})
    assert model.handle_event("pusher:member_removed", ["u1"])
    assert model.rowCount() == 0
