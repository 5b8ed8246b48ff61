"""Customers and identities: tokens stored hashed, lookups per channel, linking refused twice."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.model import Catalog
from orders import tables
from orders.customers import (
    create_customer,
    customer_for_identity,
    customer_for_token,
    hash_token,
    issue_token,
    link_identity,
    list_customers,
)
from orders.errors import FieldInvalid, IdentityTaken, StoreNotFound
from orders.tables import IdentityKind
from tests.orders.factories import FakeClock


def test_token_finds_its_customer_and_is_stored_hashed(
    session: Session, catalog: Catalog, clock: FakeClock
) -> None:
    customer, token = create_customer(session, name=" Ada ", home_store_id="cafe", clock=clock)
    assert customer.name == "Ada"
    assert token.startswith("vc_")
    assert len(token) > 40
    stored = session.scalars(select(tables.Identity.value)).all()
    assert token not in stored
    assert hash_token(token) in stored
    found = customer_for_token(session, token)
    assert found is not None
    assert found.id == customer.id
    assert customer_for_token(session, token + "x") is None
    assert customer_for_token(session, "") is None


def test_each_customer_gets_their_own_token(session: Session, catalog: Catalog) -> None:
    ada, ada_token = create_customer(session, name="Ada")
    bob, bob_token = create_customer(session, name="Bob")
    assert ada_token != bob_token
    assert [c.id for c in list_customers(session)] == [ada.id, bob.id]
    second = issue_token(session, ada.id)
    found = customer_for_token(session, second)
    assert found is not None
    assert found.id == ada.id


def test_bad_customer_input_is_refused(session: Session, catalog: Catalog) -> None:
    with pytest.raises(FieldInvalid, match="name"):
        create_customer(session, name="  ")
    with pytest.raises(StoreNotFound):
        create_customer(session, name="Eve", home_store_id="nowhere")
    session.rollback()
    assert list_customers(session) == []


def test_alexa_and_phone_identities(session: Session, catalog: Catalog) -> None:
    ada, _ = create_customer(session, name="Ada", phone="+15550100")
    bob, _ = create_customer(session, name="Bob")
    found = customer_for_identity(session, IdentityKind.PHONE, "+15550100")
    assert found is not None
    assert found.id == ada.id
    assert customer_for_identity(session, IdentityKind.ALEXA_USER, "amzn1.ask.account.X") is None
    link_identity(session, bob.id, kind=IdentityKind.ALEXA_USER, value="amzn1.ask.account.X")
    again = link_identity(
        session, bob.id, kind=IdentityKind.ALEXA_USER, value="amzn1.ask.account.X"
    )
    assert again.customer_id == bob.id
    with pytest.raises(IdentityTaken):
        link_identity(session, ada.id, kind=IdentityKind.ALEXA_USER, value="amzn1.ask.account.X")
    with pytest.raises(IdentityTaken):
        create_customer(session, name="Eve", phone="+15550100")
    session.rollback()
    with pytest.raises(FieldInvalid):
        link_identity(session, ada.id, kind=IdentityKind.APP_TOKEN, value="whatever")
    found = customer_for_identity(session, IdentityKind.ALEXA_USER, "amzn1.ask.account.X")
    assert found is not None
    assert found.id == bob.id
