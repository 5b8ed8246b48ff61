"""Special requests: a note on a cart line travels to the order, the ticket and a reorder."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from catalog.model import Catalog
from catalog.request import OptionValue
from orders.carts import add_to_cart, read_cart
from orders.checkout import CheckoutRequest, checkout
from orders.errors import FieldInvalid
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
