"""The dialogue's state: a typed JSON document per session, in the database, with expiry."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from catalog.request import Intent, Request
from orders import tables
from orders.dialog_pin import set_voice_pin
from orders.dialog_reply import Reply
from orders.dialog_state import (
    DialogState,
    Pending,
    PendingKind,
    Picked,
    Wanted,
    purge_idle_sessions,
)
from orders.dialog_tables import DialogSession, UnmatchedPhrase
from orders.errors import FieldInvalid
from tests.orders.dialog_fixtures import (  # noqa: F401  (fixtures)
    Talk,
    bench_fixture,
    bench_index_fixture,
    new_shopper,
    talk_fixture,
)


def test_state_round_trips_through_json() -> None:
    wanted = Wanted("latte", 2, [Picked("milk", "oat", "extra")], ["latte", "mocha"], "two lattes")
    state = DialogState(
        pending=Pending(PendingKind.DISAMBIGUATE, item=wanted, queue=[Wanted("croissant")]),
        last_line=7,
        misses=1,
        store_id="main",
        pickup_at="2025-03-04T08:30:00-08:00",
        checkout_key="abc",
        offer_asked=3,
    )
    assert DialogState.from_json(state.to_json()) == state
    offer = Pending(PendingKind.SUBSTITUTE, item=wanted, store_id="main", order_id=12)
    assert DialogState.from_json(DialogState(pending=offer).to_json()).pending == offer


@pytest.mark.parametrize(
    "stored",
    [{"version": 999, "misses": 1}, {"version": 1, "pending": {"kind": "bogus"}}, {}],
)
def test_an_unreadable_state_starts_over(stored: dict[str, object]) -> None:
    assert DialogState.from_json(stored) == DialogState()


def _row(session: Session, session_id: str = "session-1") -> DialogSession:
    session.expire_all()
    row = session.get(DialogSession, session_id)
    assert row is not None
    session.commit()
    return row


def test_the_open_question_is_kept_in_the_database(talk: Talk, session: Session) -> None:
    talk.say("a muffin")
    row = _row(session)
    assert row.turns == 1
    assert row.state["pending"]["kind"] == "disambiguate"
    assert row.state["pending"]["item"]["candidates"] == ["blueberry-muffin", "chocolate-muffin"]
    talk.say("the first one")
    row = _row(session)
    assert (row.turns, row.state["pending"]) == (2, None)
    assert row.state["last_line"] is not None


def test_another_customer_on_the_same_session_id_starts_fresh(talk: Talk, session: Session) -> None:
    talk.say("a muffin")
    talk.customer_id = new_shopper(session, talk.clock)
    reply = talk.say("the first one")
    assert reply.kind == "reprompt"
    assert _row(session).customer_id == talk.customer_id


def test_idle_sessions_are_purged(talk: Talk, session: Session) -> None:
    talk.say("a croissant")
    talk.session_id = "session-2"
    talk.clock.advance(minutes=5)
    talk.say("a croissant")
    removed = purge_idle_sessions(session, now=talk.clock.now + timedelta(minutes=6))
    session.commit()
    assert removed == 1
    assert session.scalars(select(DialogSession.id)).all() == ["session-2"]
    session.commit()


def test_a_retried_yes_finds_the_same_order(talk: Talk, session: Session) -> None:
    # A worker that placed the order but died before saving the state: the next worker sees
    # the old state (summary pending, same idempotency key) and must not order twice.
    talk.say("a croissant")
    talk.say("check out")
    before = dict(_row(session).state)
    first = talk.say("yes")
    row = _row(session)
    row.state = before
    session.commit()
    again = talk.say("yes")
    assert (first.kind, again.kind) == ("placed", "placed")
    assert first.order is not None
    assert again.order is not None
    assert again.order.order_id == first.order.order_id
    count = session.scalar(select(func.count()).select_from(tables.Order))
    session.commit()
    assert count == 1


def test_the_pin_is_never_stored_or_logged(
    talk: Talk, session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    set_voice_pin(session, talk.customer_id, "4821")
    talk.say("a croissant")
    talk.say("check out")
    talk.say("yes")
    with caplog.at_level(logging.DEBUG):
        wrong = talk.say("four eight two two")
        right = talk.say("four eight two one")
    assert (wrong.kind, right.kind) == ("pin_wrong", "placed")
    assert "482" not in caplog.text
    assert "four eight" not in caplog.text
    assert "482" not in str(_row(session).state)
    phrases = session.scalars(select(UnmatchedPhrase.utterance)).all()
    session.commit()
    assert not any("four" in p for p in phrases)


@pytest.mark.parametrize("pin", ["12a4", "123", "123456789"])
def test_a_pin_must_be_four_to_eight_digits(talk: Talk, session: Session, pin: str) -> None:
    with pytest.raises(FieldInvalid, match="pin: must be 4 to 8 digits"):
        set_voice_pin(session, talk.customer_id, pin)


def test_an_unknown_channel_is_refused(talk: Talk) -> None:
    talk.channel = "fax"
    with pytest.raises(ValueError, match="'fax' is not a valid Channel"):
        talk.send(Request(Intent.HELP))


def test_replies_combine() -> None:
    first = Reply("Added a Latte.", "Added", False, False, None, None, "added")
    second = Reply("Bounty or Viva?", "Bounty or Viva?", True, False, None, None, "disambiguate")
    both = first.then(second)
    assert both.speech == "Added a Latte. Bounty or Viva?"
    assert (both.kind, both.expects_answer) == ("disambiguate", True)
