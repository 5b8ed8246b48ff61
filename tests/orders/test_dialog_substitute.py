"""Out of stock, by voice: the store's substitution offer is asked in the conversation and the
shopper's answer swaps the line or cancels the order (orders.dialog_substitute)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from catalog.model import Catalog
from orders import tables
from orders.queue import open_orders, tickets
from orders.staff import StaffIdentity, StaffRole
from orders.staff_tables import Notification, Substitution, SubstitutionStatus
from orders.substitutes import accept_substitute, offer_substitutes
from tests.orders.dialog_fixtures import (  # noqa: F401  (fixtures)
    Talk,
    bench_fixture,
    bench_index_fixture,
    talk_fixture,
)

BARISTA = StaffIdentity(1, "anna@example.com", "Anna", {"main": StaffRole.BARISTA}, "t")


def placed_croissant(talk: Talk) -> int:
    """A croissant ordered by voice for pickup at Main Street; the order id."""
    talk.say("a croissant")
    talk.say("check out")
    reply = talk.say("yes")
    assert reply.kind == "placed", reply
    assert reply.order is not None
    return reply.order.order_id


def out_of_croissants(
    sessions: sessionmaker[Session], catalog: Catalog, talk: Talk, offered: Sequence[str] | None
) -> int:
    """Staff mark the croissant out of stock and offer substitutes; the order id."""
    order_id = placed_croissant(talk)
    with sessions() as session:
        [ticket] = [
            t for t in tickets(session, open_orders(session, "main")) if t["order_id"] == order_id
        ]
        line = ticket["lines"][0]
        offer_substitutes(
            session, BARISTA, order_id, line["id"], offered, catalog=catalog, clock=talk.clock
        )
    return order_id


def asked_about_croissants(sessions: sessionmaker[Session], catalog: Catalog, talk: Talk) -> int:
    """Out of croissants (both muffins offered); the next turn asks. The order id."""
    order_id = out_of_croissants(sessions, catalog, talk, None)
    assert talk.say("what's in my cart").kind == "substitute_offer"
    return order_id


def stored(sessions: sessionmaker[Session], order_id: int) -> tuple[tables.Order, Substitution]:
    with sessions() as session:
        order = session.scalars(
            select(tables.Order)
            .where(tables.Order.id == order_id)
            .options(selectinload(tables.Order.lines))
        ).one()
        offer = session.scalars(select(Substitution).where(Substitution.order_id == order_id))
        return order, offer.one()


def test_the_next_turn_asks_and_a_name_takes_that_substitute(
    talk: Talk, sessions: sessionmaker[Session], bench: Catalog
) -> None:
    order_id = out_of_croissants(sessions, bench, talk, None)
    asked = talk.say("add a mocha")
    assert asked.kind == "substitute_offer"
    assert asked.expects_answer
    assert asked.speech.startswith("Added a Mocha.")
    assert f"Sorry, Main Street is out of the Croissant for order {order_id}." in asked.speech
    assert "Blueberry Muffin or Chocolate Muffin instead?" in asked.speech

    taken = talk.say("the chocolate muffin please")
    assert taken.kind == "substitute_taken"
    assert "Chocolate Muffin instead of the Croissant" in taken.speech, taken.speech
    assert taken.speech.endswith("The new total is 3 dollars and 68 cents."), taken.speech
    order, offer = stored(sessions, order_id)
    assert [line.product_id for line in order.lines] == ["chocolate-muffin"]
    assert order.subtotal == 350
    assert taken.order is not None
    assert taken.order.total == order.total
    assert offer.status is SubstitutionStatus.ACCEPTED
    with sessions() as session:
        events = session.scalars(
            select(Notification.event).where(Notification.order_id == order_id)
        )
        assert "substitution.accepted" in set(events)


def test_no_cancels_the_order_as_the_question_says(
    talk: Talk, sessions: sessionmaker[Session], bench: Catalog
) -> None:
    order_id = out_of_croissants(sessions, bench, talk, None)
    assert "If not, I'll cancel the order." in talk.say("where is my order").speech
    declined = talk.say("no")
    assert declined.kind == "substitute_declined"
    assert declined.speech == f"OK, I cancelled order {order_id}."
    order, offer = stored(sessions, order_id)
    assert order.status is tables.OrderStatus.CANCELLED
    assert offer.status is SubstitutionStatus.DECLINED


def test_yes_takes_the_only_substitute_but_not_one_of_two(
    talk: Talk, sessions: sessionmaker[Session], bench: Catalog
) -> None:
    order_id = out_of_croissants(sessions, bench, talk, ["blueberry-muffin"])
    assert talk.say("where is my order").kind == "substitute_offer"
    assert talk.say("yes").kind == "substitute_taken"
    order, _ = stored(sessions, order_id)
    assert [line.product_id for line in order.lines] == ["blueberry-muffin"]

    other = Talk(sessions, bench, talk.index, talk.clock, talk.customer_id, session_id="s-2")
    order_id = out_of_croissants(sessions, bench, other, None)
    assert other.say("what's in my cart").kind == "substitute_offer"
    again = other.say("yes")
    assert again.kind == "substitute_offer"
    assert again.speech.startswith("Which would you like instead of the Croissant")
    assert other.say("the first one").kind == "substitute_taken"
    order, _ = stored(sessions, order_id)
    assert [line.product_id for line in order.lines] == ["blueberry-muffin"]


def test_asked_once_unprompted_and_again_when_the_shopper_asks_about_the_order(
    talk: Talk, sessions: sessionmaker[Session], bench: Catalog
) -> None:
    out_of_croissants(sessions, bench, talk, None)
    assert talk.say("add a mocha").kind == "substitute_offer"
    moved_on = talk.say("add a latte")
    assert moved_on.kind == "added"
    assert "out of" not in moved_on.speech
    assert "out of" not in talk.say("what's in my cart").speech
    status = talk.say("where is my order")
    assert status.kind == "substitute_offer"
    assert status.speech.startswith("Order ")
    assert status.order is not None


def test_leaving_keeps_the_offer_waiting_and_a_new_conversation_asks_again(
    talk: Talk, sessions: sessionmaker[Session], bench: Catalog
) -> None:
    order_id = asked_about_croissants(sessions, bench, talk)
    assert talk.say("goodbye").kind == "goodbye"
    order, offer = stored(sessions, order_id)
    assert order.status is tables.OrderStatus.PLACED
    assert offer.status is SubstitutionStatus.OFFERED
    talk.session_id = "next-visit"
    assert talk.say("what's in my cart").kind == "substitute_offer"


def test_an_offer_answered_in_the_app_meanwhile_is_not_answered_twice(
    talk: Talk, sessions: sessionmaker[Session], bench: Catalog
) -> None:
    order_id = asked_about_croissants(sessions, bench, talk)
    with sessions() as session:
        accept_substitute(
            session,
            talk.customer_id,
            order_id,
            product_id="blueberry-muffin",
            catalog=bench,
            clock=talk.clock,
        )
    late = talk.say("the chocolate muffin")
    assert late.kind == "nothing_pending"
    assert "already been answered" in late.speech
    order, _ = stored(sessions, order_id)
    assert [line.product_id for line in order.lines] == ["blueberry-muffin"]


def test_no_offer_no_question(talk: Talk) -> None:
    placed_croissant(talk)
    assert talk.say("add a mocha").kind == "added"
    assert talk.say("where is my order").kind == "order_status"


def test_wait_keeps_the_offer_and_cancel_in_words_cancels_the_order(
    talk: Talk, sessions: sessionmaker[Session], bench: Catalog
) -> None:
    order_id = asked_about_croissants(sessions, bench, talk)
    again = talk.say("wait")
    assert again.kind == "substitute_offer"
    assert again.speech.endswith(f"Or say cancel, and I'll cancel order {order_id}.")
    assert stored(sessions, order_id)[0].status is tables.OrderStatus.PLACED
    cancelled = talk.say("cancel the order")
    assert cancelled.kind == "substitute_declined"
    assert cancelled.end_session
    assert cancelled.speech == f"OK, I cancelled order {order_id}. Goodbye!"
    assert stored(sessions, order_id)[0].status is tables.OrderStatus.CANCELLED
