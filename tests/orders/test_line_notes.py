"""Special requests: a note on a cart line travels to the order, the ticket and a reorder."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from catalog.model import Catalog
from catalog.request import OptionValue
from orders.carts import add_to_cart, read_cart, set_note, set_quantity
from orders.checkout import CheckoutRequest, checkout
from orders.errors import FieldInvalid, LineNotFound, QuantityInvalid
from orders.pricing import MAX_QUANTITY
from orders.queue import tickets
from orders.reorders import reorder_last
from orders.tables import NOTE_LENGTH, Fulfilment
from tests.orders.factories import new_customer

DELIVERY = CheckoutRequest(fulfilment=Fulfilment.DELIVERY, address="1 Main St")
SMALL = {"size": OptionValue("small")}


def test_the_same_note_merges_and_another_note_is_a_line_of_its_own(
    session: Session, catalog: Catalog
) -> None:
    ada = new_customer(session)
    add_to_cart(session, ada, catalog=catalog, product_id="latte", options=SMALL)
    add_to_cart(session, ada, catalog=catalog, product_id="latte", options=SMALL, note="extra hot")
    add_to_cart(
        session, ada, catalog=catalog, product_id="latte", options=SMALL, note="  extra   hot "
    )
    cart = add_to_cart(session, ada, catalog=catalog, product_id="latte", options=SMALL, note=" ")
    assert [(line.quantity, line.note) for line in cart.lines] == [(2, None), (2, "extra hot")]


def test_a_lines_request_is_set_changed_and_cleared(session: Session, catalog: Catalog) -> None:
    ada = new_customer(session)
    [line] = add_to_cart(session, ada, catalog=catalog, product_id="latte", options=SMALL).lines
    cart = set_note(session, ada, line.id, " no  lid ", catalog=catalog)
    assert [(x.id, x.quantity, x.note) for x in cart.lines] == [(line.id, 1, "no lid")]
    # The line now is what adding the drink with that request makes: a second one joins it.
    cart = add_to_cart(
        session, ada, catalog=catalog, product_id="latte", options=SMALL, note="no lid"
    )
    assert [(x.id, x.quantity, x.note) for x in cart.lines] == [(line.id, 2, "no lid")]
    cart = set_note(session, ada, line.id, None, catalog=catalog)
    assert [(x.id, x.quantity, x.note) for x in cart.lines] == [(line.id, 2, None)]


def test_a_request_that_makes_two_lines_equal_joins_them(
    session: Session, catalog: Catalog
) -> None:
    ada = new_customer(session)
    add_to_cart(session, ada, catalog=catalog, product_id="latte", options=SMALL, note="no lid")
    cart = add_to_cart(session, ada, catalog=catalog, product_id="latte", options=SMALL, quantity=2)
    kept, plain = cart.lines
    cart = set_note(session, ada, plain.id, "no lid", catalog=catalog)
    assert [(x.id, x.quantity, x.note) for x in cart.lines] == [(kept.id, 3, "no lid")]


def test_a_join_past_the_most_of_one_item_is_refused_and_changes_nothing(
    session: Session, catalog: Catalog
) -> None:
    ada = new_customer(session)
    add_to_cart(session, ada, catalog=catalog, product_id="latte", options=SMALL, note="no lid")
    plain = add_to_cart(session, ada, catalog=catalog, product_id="latte", options=SMALL).lines[1]
    set_quantity(session, ada, plain.id, MAX_QUANTITY, catalog=catalog)
    with pytest.raises(QuantityInvalid):
        set_note(session, ada, plain.id, "no lid", catalog=catalog)
    session.rollback()
    lines = read_cart(session, ada, catalog=catalog).lines
    assert [(x.quantity, x.note) for x in lines] == [(1, "no lid"), (MAX_QUANTITY, None)]


def test_another_customers_line_is_not_found(session: Session, catalog: Catalog) -> None:
    ada, bob = new_customer(session), new_customer(session)
    [line] = add_to_cart(session, ada, catalog=catalog, product_id="latte").lines
    session.commit()
    with pytest.raises(LineNotFound):
        set_note(session, bob, line.id, "no lid", catalog=catalog)
    session.rollback()
    assert read_cart(session, ada, catalog=catalog).lines[0].note is None


@pytest.mark.parametrize(
    ("note", "reason"),
    [("x" * (NOTE_LENGTH + 1), "at most 140"), ("no\x00lid", "printable")],
)
def test_an_unfit_note_is_refused_and_the_cart_keeps_what_it_had(
    session: Session, catalog: Catalog, note: str, reason: str
) -> None:
    ada = new_customer(session)
    add_to_cart(session, ada, catalog=catalog, product_id="croissant")
    with pytest.raises(FieldInvalid, match=reason) as refused:
        add_to_cart(session, ada, catalog=catalog, product_id="latte", note=note)
    assert refused.value.field == "note"
    session.rollback()
    assert [line.product_id for line in read_cart(session, ada, catalog=catalog).lines] == [
        "croissant"
    ]


def test_the_note_reaches_the_order_the_ticket_and_a_reorder(
    session: Session, catalog: Catalog
) -> None:
    ada = new_customer(session)
    add_to_cart(session, ada, catalog=catalog, product_id="latte", note="no lid, please")
    add_to_cart(session, ada, catalog=catalog, product_id="croissant")
    order, _ = checkout(
        session, ada, DELIVERY, catalog=catalog, idempotency_key="k1", confirmed=True
    )
    assert [line.note for line in order.lines] == ["no lid, please", None]
    [ticket] = tickets(session, [order])
    assert [line["note"] for line in ticket["lines"]] == ["no lid, please", None]
    result = reorder_last(session, ada, catalog=catalog)
    assert result is not None
    assert [(line.product_id, line.note) for line in result.cart.lines] == [
        ("latte", "no lid, please"),
        ("croissant", None),
    ]
