"""Pickup orders: opening hours, the ready-time estimate, and the status machine."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from catalog.model import Catalog
from orders import tables
from orders.carts import add_to_cart
from orders.checkout import CheckoutRequest, checkout, place_pickup_order
from orders.errors import IllegalTransition, OrderNotFound, PickupUnavailable, StoreClosed
from orders.pickup import Actor, cancel_order, check_pickup, estimate_ready, is_open, transition
from orders.queries import get_order
from orders.tables import ActorKind, Fulfilment, OrderStatus
from tests.orders.factories import START, FakeClock, make_stores, new_customer

MARKET, CAFE = make_stores()
STAFF = Actor(ActorKind.STAFF, "anna")


def _order(
    session: Session,
    catalog: Catalog,
    clock: FakeClock,
    customer: int,
    *,
    lattes: int = 1,
    key: str = "k",
) -> tables.Order:
    add_to_cart(
        session, customer, catalog=catalog, product_id="latte", quantity=lattes, clock=clock
    )
    return _place(session, catalog, clock, customer, key=key)


def _place(
    session: Session, catalog: Catalog, clock: FakeClock, customer: int, *, key: str = "k"
) -> tables.Order:
    order, _ = place_pickup_order(
        session,
        customer,
        catalog=catalog,
        store_id="cafe",
        pickup_at=None,
        idempotency_key=key,
        confirmed=True,
        clock=clock,
    )
    return order


@pytest.mark.parametrize(
    ("at", "open_"),
    [
        (START, True),  # Tuesday 08:00 in Vancouver
        (datetime(2025, 3, 4, 14, 59, tzinfo=UTC), False),  # 06:59
        (datetime(2025, 3, 5, 1, 59, tzinfo=UTC), True),  # Tuesday 17:59
        (datetime(2025, 3, 5, 2, 0, tzinfo=UTC), False),  # Tuesday 18:00
        (datetime(2025, 3, 8, 18, 0, tzinfo=UTC), False),  # Saturday 10:00
        (datetime(2025, 3, 10, 15, 0, tzinfo=UTC), True),  # Monday 08:00 (after the DST change)
    ],
)
def test_opening_hours_use_the_store_time_zone(at: datetime, open_: bool) -> None:
    assert is_open(CAFE, at) is open_
    assert is_open(MARKET, at)


def test_pickups_the_store_cannot_take_are_refused() -> None:
    with pytest.raises(PickupUnavailable, match="does not take pickup"):
        check_pickup(MARKET, requested_at=None, now=START)
    with pytest.raises(PickupUnavailable, match="in the past"):
        check_pickup(CAFE, requested_at=START - timedelta(minutes=5), now=START)
    with pytest.raises(PickupUnavailable, match="7 days"):
        check_pickup(CAFE, requested_at=START + timedelta(days=8), now=START)
    with pytest.raises(StoreClosed, match="Sat"):
        check_pickup(CAFE, requested_at=datetime(2025, 3, 8, 18, tzinfo=UTC), now=START)
    with pytest.raises(StoreClosed):
        check_pickup(CAFE, requested_at=None, now=START + timedelta(hours=12))
    check_pickup(CAFE, requested_at=START - timedelta(seconds=30), now=START)
    check_pickup(CAFE, requested_at=START + timedelta(hours=2), now=START)


def test_ready_time_queues_behind_the_orders_ahead(
    session: Session, catalog: Catalog, clock: FakeClock
) -> None:
    ada, bob, cy = (new_customer(session, n) for n in ("Ada", "Bob", "Cy"))
    first = _order(session, catalog, clock, ada, lattes=2)
    assert first.promised_at == START + timedelta(minutes=6)
    second = _order(session, catalog, clock, bob, lattes=1)
    assert second.promised_at == START + timedelta(minutes=6 + 3)
    estimate = estimate_ready(session, CAFE, own_minutes=3, requested_at=None, now=START)
    assert (estimate.orders_ahead, estimate.queue_minutes) == (2, 9)
    transition(session, first.id, OrderStatus.ACCEPTED, actor=STAFF, clock=clock)
    transition(session, first.id, OrderStatus.IN_PROGRESS, actor=STAFF, clock=clock)
    transition(session, first.id, OrderStatus.READY, actor=STAFF, clock=clock)
    third = _order(session, catalog, clock, cy, lattes=1)
    assert third.promised_at == START + timedelta(minutes=3 + 3)


def test_simultaneous_pickup_orders_at_one_store_queue_one_after_another(
    sessions: sessionmaker[Session], catalog: Catalog, clock: FakeClock
) -> None:
    count = 8
    with sessions() as session:
        customers = [new_customer(session, f"Shopper {n}") for n in range(count)]
        for customer in customers:
            add_to_cart(session, customer, catalog=catalog, product_id="latte", clock=clock)
    start = threading.Barrier(count)

    def place(customer: int) -> datetime | None:
        with sessions() as session:
            start.wait()
            return _place(session, catalog, clock, customer).promised_at

    with ThreadPoolExecutor(max_workers=count) as pool:
        promised = sorted(filter(None, pool.map(place, customers)))
    # One latte takes 3 minutes; each order waited for the store's lock and saw those before it.
    assert promised == [START + timedelta(minutes=3 * n) for n in range(1, count + 1)]


def test_requested_time_wins_when_later_and_far_orders_do_not_queue(
    session: Session, catalog: Catalog, clock: FakeClock
) -> None:
    ada, bob = new_customer(session, "Ada"), new_customer(session, "Bob")
    add_to_cart(session, ada, catalog=catalog, product_id="latte", clock=clock)
    later = START + timedelta(hours=3, seconds=20)
    scheduled, _ = place_pickup_order(
        session,
        ada,
        catalog=catalog,
        store_id="cafe",
        pickup_at=later,
        idempotency_key="a",
        confirmed=True,
        clock=clock,
    )
    assert scheduled.requested_at == later
    assert scheduled.promised_at == START + timedelta(hours=3, minutes=1)
    asap = _order(session, catalog, clock, bob)
    assert asap.promised_at == START + timedelta(minutes=3)


def test_an_order_that_would_be_ready_after_closing_is_refused(
    session: Session, catalog: Catalog, clock: FakeClock
) -> None:
    ada = new_customer(session)
    clock.now = datetime(2025, 3, 5, 1, 55, tzinfo=UTC)  # Tuesday 17:55 in Vancouver
    add_to_cart(session, ada, catalog=catalog, product_id="latte", quantity=2, clock=clock)
    with pytest.raises(StoreClosed, match="would be ready"):
        place_pickup_order(
            session,
            ada,
            catalog=catalog,
            store_id="cafe",
            pickup_at=None,
            idempotency_key="late",
            confirmed=True,
            clock=clock,
        )
    session.rollback()
    assert session.scalar(select(func.count()).select_from(tables.Order)) == 0


def test_status_machine_records_who_and_when(
    session: Session, catalog: Catalog, clock: FakeClock
) -> None:
    ada = new_customer(session)
    order = _order(session, catalog, clock, ada)
    steps = [
        OrderStatus.ACCEPTED,
        OrderStatus.IN_PROGRESS,
        OrderStatus.READY,
        OrderStatus.PICKED_UP,
    ]
    for step in steps:
        clock.advance(minutes=2)
        order = transition(session, order.id, step, actor=STAFF, clock=clock)
    assert order.status is OrderStatus.PICKED_UP
    session.expunge_all()
    events = get_order(session, ada, order.id).events
    assert [(e.from_status, e.to_status) for e in events] == [
        (None, OrderStatus.PLACED),
        (OrderStatus.PLACED, OrderStatus.ACCEPTED),
        (OrderStatus.ACCEPTED, OrderStatus.IN_PROGRESS),
        (OrderStatus.IN_PROGRESS, OrderStatus.READY),
        (OrderStatus.READY, OrderStatus.PICKED_UP),
    ]
    assert [e.actor_id for e in events] == [str(ada), "anna", "anna", "anna", "anna"]
    assert [e.at - START for e in events] == [timedelta(minutes=m) for m in (0, 2, 4, 6, 8)]
    with pytest.raises(IllegalTransition):
        transition(session, order.id, OrderStatus.CANCELLED, actor=STAFF, clock=clock)


@pytest.mark.parametrize(
    ("path", "actor", "target"),
    [
        ([], STAFF, OrderStatus.READY),
        ([], STAFF, OrderStatus.PICKED_UP),
        ([], Actor(ActorKind.CUSTOMER, "1"), OrderStatus.ACCEPTED),
        ([OrderStatus.ACCEPTED], Actor(ActorKind.CUSTOMER, "1"), OrderStatus.CANCELLED),
        (
            [OrderStatus.ACCEPTED, OrderStatus.IN_PROGRESS, OrderStatus.READY],
            STAFF,
            OrderStatus.DELIVERED,
        ),
        ([OrderStatus.REJECTED], STAFF, OrderStatus.ACCEPTED),
        ([OrderStatus.CANCELLED], STAFF, OrderStatus.PLACED),
    ],
)
def test_illegal_transitions_are_refused_and_change_nothing(
    session: Session,
    catalog: Catalog,
    clock: FakeClock,
    *,
    path: list[OrderStatus],
    actor: Actor,
    target: OrderStatus,
) -> None:
    ada = new_customer(session)
    order_id = _order(session, catalog, clock, ada).id
    for step in path:
        transition(session, order_id, step, actor=STAFF, clock=clock)
    with pytest.raises(IllegalTransition) as caught:
        transition(session, order_id, target, actor=actor, clock=clock)
    assert caught.value.target == target.value
    session.rollback()
    session.expunge_all()
    again = get_order(session, ada, order_id)
    assert again.status is (path[-1] if path else OrderStatus.PLACED)
    assert len(again.events) == 1 + len(path)


def test_hooks_run_in_the_same_transaction(
    session: Session, catalog: Catalog, clock: FakeClock
) -> None:
    ada = new_customer(session)
    order_id = _order(session, catalog, clock, ada).id
    seen: list[tuple[int, OrderStatus]] = []

    def record(hook_session: Session, changed: tables.Order, event: tables.OrderEvent) -> None:
        assert hook_session is session
        seen.append((changed.id, event.to_status))

    def fail(hook_session: Session, changed: tables.Order, event: tables.OrderEvent) -> None:
        hook_session.add(tables.Customer(name="written by the hook", created_at=clock()))
        raise RuntimeError("notification outbox is down")

    transition(session, order_id, OrderStatus.ACCEPTED, actor=STAFF, clock=clock, hooks=[record])
    assert seen == [(order_id, OrderStatus.ACCEPTED)]
    with pytest.raises(RuntimeError):
        transition(
            session, order_id, OrderStatus.IN_PROGRESS, actor=STAFF, clock=clock, hooks=[fail]
        )
    session.rollback()
    session.expunge_all()
    assert get_order(session, ada, order_id).status is OrderStatus.ACCEPTED
    assert session.scalar(select(func.count()).select_from(tables.Customer)) == 1


def test_shopper_cancels_only_their_own_placed_order(
    session: Session, catalog: Catalog, clock: FakeClock
) -> None:
    ada, bob = new_customer(session, "Ada"), new_customer(session, "Bob")
    order_id = _order(session, catalog, clock, ada).id
    with pytest.raises(OrderNotFound):
        cancel_order(session, bob, order_id, clock=clock)
    session.rollback()
    cancelled = cancel_order(session, ada, order_id, clock=clock)
    assert cancelled.status is OrderStatus.CANCELLED
    assert cancelled.events[-1].actor_kind is ActorKind.CUSTOMER
    with pytest.raises(IllegalTransition):
        cancel_order(session, ada, order_id, clock=clock)


def test_delivery_orders_end_delivered(
    session: Session, catalog: Catalog, clock: FakeClock
) -> None:
    ada = new_customer(session)
    add_to_cart(session, ada, catalog=catalog, product_id="croissant", clock=clock)
    order, _ = checkout(
        session,
        ada,
        CheckoutRequest(fulfilment=Fulfilment.DELIVERY),
        catalog=catalog,
        idempotency_key="d",
        confirmed=True,
        clock=clock,
    )
    assert order.promised_at is None
    order_id = order.id
    for step in (OrderStatus.ACCEPTED, OrderStatus.IN_PROGRESS, OrderStatus.READY):
        transition(session, order_id, step, actor=STAFF, clock=clock)
    with pytest.raises(IllegalTransition, match="delivery"):
        transition(session, order_id, OrderStatus.PICKED_UP, actor=STAFF, clock=clock)
    session.rollback()
    done = transition(session, order_id, OrderStatus.DELIVERED, actor=STAFF, clock=clock)
    assert done.status is OrderStatus.DELIVERED
