"""Staff accounts, passwords, sessions and store switches, on real databases."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.model import Catalog
from orders import staff
from orders.carts import CartItem, add_items
from orders.checkout import place_pickup_order
from orders.errors import FieldInvalid, LoginFailed, NotPermitted, PickupPaused, StoreNotFound
from orders.pickup import quote_pickup
from orders.staff_tables import StaffSession, StaffUser
from orders.switches import read_switches, set_switches
from tests.orders.factories import FakeClock, new_customer

PASSWORD = "correct horse battery"


def add_barista(session: Session, email: str) -> None:
    """A barista of the café who can log in with PASSWORD."""
    staff.add_staff(
        session, email=email, store_id="cafe", role=staff.StaffRole.BARISTA, password=PASSWORD
    )


def test_passwords_are_argon2_hashes_that_verify() -> None:
    hashed = staff.hash_password(PASSWORD)
    assert hashed.startswith("$argon2id$")
    assert PASSWORD not in hashed
    assert staff.verify_password(hashed, PASSWORD)
    assert not staff.verify_password(hashed, PASSWORD + "!")
    assert not staff.verify_password("not a hash", PASSWORD)
    with pytest.raises(FieldInvalid):
        staff.hash_password("short")


def test_add_staff_then_more_stores_and_a_new_role(
    session: Session, catalog: Catalog, clock: FakeClock
) -> None:
    user = staff.add_staff(
        session,
        email=" Anna@Example.COM ",
        store_id="cafe",
        role=staff.StaffRole.BARISTA,
        password=PASSWORD,
        clock=clock,
    )
    assert user.email == "anna@example.com"
    assert user.name == "anna"
    staff.add_staff(
        session, email="anna@example.com", store_id="market", role=staff.StaffRole.MANAGER
    )
    staff.add_staff(
        session, email="anna@example.com", store_id="cafe", role=staff.StaffRole.MANAGER
    )
    _, who = staff.log_in(session, "ANNA@example.com", PASSWORD, clock=clock)
    assert who.roles == {"cafe": staff.StaffRole.MANAGER, "market": staff.StaffRole.MANAGER}
    assert [m.store_id for m in staff.list_staff(session, store_id="market")[0].memberships] == [
        "cafe",
        "market",
    ]
    with pytest.raises(StoreNotFound):
        staff.add_staff(
            session,
            email="x@example.com",
            store_id="nowhere",
            role="barista",  # type: ignore[arg-type]
            password=PASSWORD,
        )
    with pytest.raises(FieldInvalid, match="needs a password"):
        staff.add_staff(
            session, email="new@example.com", store_id="cafe", role=staff.StaffRole.BARISTA
        )
    with pytest.raises(FieldInvalid, match="email"):
        staff.add_staff(
            session,
            email="not-an-email",
            store_id="cafe",
            role=staff.StaffRole.BARISTA,
            password=PASSWORD,
        )


def test_login_sessions_expire_and_end(
    session: Session, catalog: Catalog, clock: FakeClock
) -> None:
    add_barista(session, "bo@example.com")
    with pytest.raises(LoginFailed):
        staff.log_in(session, "bo@example.com", "wrong password!", clock=clock)
    with pytest.raises(LoginFailed):
        staff.log_in(session, "nobody@example.com", PASSWORD, clock=clock)
    token, who = staff.log_in(session, "bo@example.com", PASSWORD, clock=clock)
    stored = session.scalars(select(StaffSession)).one()
    assert stored.id != token  # only a hash is kept
    assert token not in stored.id
    assert staff.identify(session, token, clock=clock) == who
    assert staff.identify(session, token + "x", clock=clock) is None
    assert staff.check_csrf(who, who.csrf_token)
    assert not staff.check_csrf(who, None)
    last = who.csrf_token[-1]
    assert not staff.check_csrf(who, who.csrf_token[:-1] + ("B" if last == "A" else "A"))
    clock.advance(hours=13)
    assert staff.identify(session, token, clock=clock) is None
    assert staff.prune_sessions(session, clock=clock) == 1
    token, _ = staff.log_in(session, "bo@example.com", PASSWORD, clock=clock)
    staff.log_out(session, token)
    assert staff.identify(session, token, clock=clock) is None


def test_deactivated_accounts_and_removed_memberships(
    session: Session, catalog: Catalog, clock: FakeClock
) -> None:
    add_barista(session, "cy@example.com")
    staff.add_staff(
        session, email="cy@example.com", store_id="market", role=staff.StaffRole.BARISTA
    )
    token, _ = staff.log_in(session, "cy@example.com", PASSWORD, clock=clock)
    assert staff.remove_staff(session, "cy@example.com", store_id="market")
    who = staff.identify(session, token, clock=clock)
    assert who is not None
    assert who.store_ids == ["cafe"]
    assert staff.remove_staff(session, "cy@example.com")
    assert staff.identify(session, token, clock=clock) is None
    assert session.scalars(select(StaffUser.active)).one() is False
    with pytest.raises(LoginFailed):
        staff.log_in(session, "cy@example.com", PASSWORD, clock=clock)
    assert not staff.remove_staff(session, "ghost@example.com")


def test_require_store_by_role(session: Session, catalog: Catalog, clock: FakeClock) -> None:
    add_barista(session, "di@example.com")
    _, who = staff.log_in(session, "di@example.com", PASSWORD, clock=clock)
    assert staff.require_store(who, "cafe") is staff.StaffRole.BARISTA
    with pytest.raises(NotPermitted, match="do not work"):
        staff.require_store(who, "market")
    with pytest.raises(NotPermitted, match="manager"):
        staff.require_store(who, "cafe", manager=True)


def _cart(session: Session, catalog: Catalog, clock: FakeClock) -> int:
    customer = new_customer(session, clock=clock)
    add_items(session, customer, [CartItem("latte", 1)], catalog=catalog, clock=clock)
    return customer


def test_paused_store_refuses_pickup_orders_and_quotes(
    session: Session, catalog: Catalog, clock: FakeClock
) -> None:
    customer = _cart(session, catalog, clock)
    set_switches(session, "cafe", pickup_paused=True, by="max@example.com", clock=clock)
    assert read_switches(session, "cafe").pickup_paused
    with pytest.raises(PickupPaused, match="Bench Cafe is not taking pickup orders"):
        quote_pickup(
            session, customer, catalog=catalog, store_id="cafe", pickup_at=None, clock=clock
        )
    session.rollback()
    with pytest.raises(PickupPaused) as refused:
        place_pickup_order(
            session,
            customer,
            catalog=catalog,
            store_id="cafe",
            pickup_at=None,
            idempotency_key="k",
            confirmed=True,
            clock=clock,
        )
    assert refused.value.status_code == 409
    session.rollback()
    set_switches(session, "cafe", pickup_paused=False, by="max@example.com", clock=clock)
    order, _ = place_pickup_order(
        session,
        customer,
        catalog=catalog,
        store_id="cafe",
        pickup_at=None,
        idempotency_key="k",
        confirmed=True,
        clock=clock,
    )
    assert order.promised_at == clock.now + timedelta(minutes=3)


def test_extra_prep_minutes_move_the_promise(
    session: Session, catalog: Catalog, clock: FakeClock
) -> None:
    customer = _cart(session, catalog, clock)
    set_switches(session, "cafe", extra_prep_minutes=15, by="max@example.com", clock=clock)
    _, estimate = quote_pickup(
        session, customer, catalog=catalog, store_id="cafe", pickup_at=None, clock=clock
    )
    assert estimate.ready_at == clock.now + timedelta(minutes=3 + 15)
    session.rollback()
    with pytest.raises(FieldInvalid):
        set_switches(session, "cafe", extra_prep_minutes=-1, by="max@example.com", clock=clock)
    assert read_switches(session, "market").extra_prep_minutes == 0
