"""Special requests said by voice ("a grande latte with no lid") become the line's note."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session, sessionmaker

from catalog.demo import load_demo_catalog
from catalog.match import ProductIndex
from orders.carts import PricedLine, read_cart
from orders.catalog_store import CatalogCache, load_catalog_into
from orders.checkout import CheckoutRequest, checkout
from orders.tables import Fulfilment
from tests.orders.dialog_fixtures import Talk, new_shopper
from tests.orders.factories import FakeClock

CAFE = "cafe-main-street"
OPEN_HOURS = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)
"""9:00 at the cafe (Pacific time)."""


@pytest.fixture(name="cafe")
def cafe_fixture(session: Session, sessions: sessionmaker[Session], clock: FakeClock) -> Talk:
    """A shopper of the demo coffee menu whose home store is the Main Street cafe."""
    load_catalog_into(session, load_demo_catalog("coffee"), source="demo", clock=clock)
    catalog = CatalogCache().get(session).catalog
    session.commit()  # SQLite: end the read transaction so the dialogue's sessions can write
    customer = new_shopper(session, clock, home=CAFE)
    return Talk(sessions, catalog, ProductIndex.from_catalog(catalog), clock, customer)


def cart_lines(talk: Talk) -> tuple[PricedLine, ...]:
    """The shopper's cart lines, read in a session of their own."""
    with talk.sessions() as db:
        return read_cart(db, talk.customer_id, catalog=talk.catalog).lines


def test_a_spoken_request_is_added_and_read_back(cafe: Talk) -> None:
    reply = cafe.say("a grande latte with no lid")
    [line] = cart_lines(cafe)
    assert (line.product_id, line.note) == ("latte", "no lid")
    assert "no lid" in reply.speech
    assert "no lid" in cafe.say("what's in my cart").speech


def test_the_same_drink_without_the_request_is_a_line_of_its_own(cafe: Talk) -> None:
    cafe.say("a grande latte with no lid")
    cafe.say("a grande latte")
    cafe.say("a grande latte with no lid")
    lines = sorted(cart_lines(cafe), key=lambda line: line.id)
    assert [(line.quantity, line.note) for line in lines] == [(2, "no lid"), (1, None)]


def test_an_option_changed_by_voice_keeps_the_request(cafe: Talk) -> None:
    cafe.say("a grande latte with no lid")
    reply = cafe.say("with oat milk instead")
    [line] = cart_lines(cafe)
    assert {o.group: o.choice for o in line.options}["milk"] == "oat"
    assert line.note == "no lid"
    assert "no lid" in reply.speech


def test_a_voice_reorder_keeps_the_request(cafe: Talk) -> None:
    cafe.clock.now = OPEN_HOURS
    cafe.say("a grande latte with no lid")
    with cafe.sessions() as db:
        pickup = CheckoutRequest(fulfilment=Fulfilment.PICKUP, store_id=CAFE)
        checkout(
            db,
            cafe.customer_id,
            pickup,
            catalog=cafe.catalog,
            idempotency_key="first",
            confirmed=True,
            clock=cafe.clock,
        )
        db.commit()
    assert cart_lines(cafe) == ()
    question = cafe.say("reorder my last order")
    assert "no lid" in question.speech
    cafe.say("yes")
    [line] = cart_lines(cafe)
    assert (line.product_id, line.note) == ("latte", "no lid")


def test_a_request_alone_adds_nothing(cafe: Talk) -> None:
    cafe.say("no lid")
    assert cart_lines(cafe) == ()


def test_the_request_waits_through_a_question(cafe: Talk) -> None:
    question = cafe.say("a muffin, no bag")  # blueberry or chocolate chip?
    assert question.expects_answer, question.speech
    assert cart_lines(cafe) == ()
    cafe.say("chocolate chip")
    [line] = cart_lines(cafe)
    assert (line.product_id, line.note) == ("chocolate-chip-muffin", "no bag")


def test_a_request_said_next_goes_with_the_last_drink(cafe: Talk) -> None:
    cafe.say("a grande latte")
    reply = cafe.say("oh, and no lid please")
    [line] = cart_lines(cafe)
    assert (line.product_id, line.quantity, line.note) == ("latte", 1, "no lid")
    assert reply.kind == "request_noted"
    assert "no lid" in reply.speech


def test_a_second_request_is_added_to_the_first(cafe: Talk) -> None:
    cafe.say("a grande latte with no lid")
    cafe.say("and without the sleeve")
    cafe.say("no lid")
    [line] = cart_lines(cafe)
    assert line.note == "no lid, without the sleeve"


def test_a_request_said_next_joins_an_equal_line(cafe: Talk) -> None:
    cafe.say("a grande latte with no lid")
    cafe.say("a grande latte")
    cafe.say("no lid")
    [line] = cart_lines(cafe)
    assert (line.quantity, line.note) == (2, "no lid")
    assert "no lid" in cafe.say("add another one").speech
    [line] = cart_lines(cafe)
    assert line.quantity == 3


def test_a_request_said_while_asked_which_goes_with_that_item(cafe: Talk) -> None:
    question = cafe.say("a muffin")
    assert question.expects_answer, question.speech
    again = cafe.say("no bag")
    assert again.kind == question.kind
    assert again.expects_answer
    cafe.say("chocolate chip")
    [line] = cart_lines(cafe)
    assert (line.product_id, line.note) == ("chocolate-chip-muffin", "no bag")


@pytest.mark.parametrize("words", ["no, that's all", "no more", "no thanks", "no problem"])
def test_a_no_that_is_no_request_changes_no_line(cafe: Talk, words: str) -> None:
    cafe.say("a grande latte")
    reply = cafe.say(words)
    [line] = cart_lines(cafe)
    assert line.note is None
    assert reply.kind != "request_noted"


def test_a_request_at_the_summary_is_noted_and_the_summary_asked_again(cafe: Talk) -> None:
    cafe.clock.now = OPEN_HOURS
    cafe.say("a grande latte")
    assert cafe.say("check out").kind == "confirm_order"
    again = cafe.say("and no lid")
    assert again.kind == "confirm_order"
    assert again.expects_answer
    assert again.speech.startswith("Got it")
    assert again.speech.count("no lid") == 2  # the line, then the summary
    assert cafe.say("yes").kind == "placed"


def test_a_request_that_names_its_item_goes_with_that_line(cafe: Talk) -> None:
    cafe.say("a grande latte")
    cafe.say("a blueberry muffin")
    reply = cafe.say("and no lid on the latte")
    assert reply.kind == "request_noted"
    notes = {line.product_id: line.note for line in cart_lines(cafe)}
    assert notes == {"latte": "no lid", "blueberry-muffin": None}
    cafe.say("no bag for the muffin")  # "muffin" alone could be either: the one in the cart
    notes = {line.product_id: line.note for line in cart_lines(cafe)}
    assert notes == {"latte": "no lid", "blueberry-muffin": "no bag"}


def test_a_request_for_an_item_not_in_the_cart_changes_nothing(cafe: Talk) -> None:
    cafe.say("a grande latte")
    reply = cafe.say("no bag for the croissant")
    assert reply.kind == "not_in_cart"
    [line] = cart_lines(cafe)
    assert line.note is None
