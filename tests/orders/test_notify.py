"""The outbox and the dispatcher on real databases: rows written with the change, claiming,
retries with backoff, dead letters, expired leases, concurrent dispatchers, replay."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from catalog.model import Catalog
from catalog.request import OptionValue
from orders import outbox
from orders.carts import CartItem, add_items
from orders.checkout import place_pickup_order
from orders.customers import link_identity
from orders.db import begin_write
from orders.errors import IllegalTransition
from orders.notify import Dispatcher, Outcome, Outgoing, RetryPolicy, render
from orders.pickup import Actor, new_event, transition
from orders.queue import tickets
from orders.staff_tables import Delivery, DeliveryStatus, Notification
from orders.tables import ActorKind, IdentityKind, Order, OrderStatus
from orders.webhook import add_endpoint, set_active
from tests.orders.factories import FakeClock, new_customer

STAFF = Actor(ActorKind.STAFF, "anna@example.com")


class Recorder:
    """A channel that records what it is given and answers with prepared outcomes."""

    def __init__(self, name: str, outcomes: list[Outcome] | None = None) -> None:
        self.name = name
        self.items: list[Outgoing] = []
        self.outcomes = list(outcomes or [])

    def deliver(self, item: Outgoing) -> Outcome:
        self.items.append(item)
        return self.outcomes.pop(0) if self.outcomes else Outcome.delivered()


class Exploding:
    """A channel with a bug."""

    name = "app"

    def deliver(self, item: Outgoing) -> Outcome:
        raise RuntimeError("boom")


@pytest.fixture
def wired(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    """The test sessions with the outbox listening to their flushes."""
    outbox.install(sessions)
    return sessions


def place(
    sessions: sessionmaker[Session],
    catalog: Catalog,
    clock: FakeClock,
    *,
    name: str = "Ada Lovelace",
) -> tuple[int, int]:
    """A customer with a medium oat-milk latte placed for pickup at the café: (customer, order)."""
    with sessions() as session:
        customer = new_customer(session, name, clock=clock)
        item = CartItem("latte", 1, {"size": [OptionValue("medium")], "milk": [OptionValue("oat")]})
        add_items(session, customer, [item], catalog=catalog, clock=clock)
        order, _ = place_pickup_order(
            session,
            customer,
            catalog=catalog,
            store_id="cafe",
            pickup_at=None,
            idempotency_key=f"k-{customer}",
            confirmed=True,
            clock=clock,
        )
        return customer, order.id


def deliveries(session: Session) -> list[tuple[str, str, str]]:
    """(event, channel, target) of every delivery, in order."""
    rows = session.execute(
        select(Notification.event, Delivery.channel, Delivery.target)
        .join(Delivery, Delivery.notification_id == Notification.id)
        .order_by(Delivery.id)
    )
    return [(event, channel, target) for event, channel, target in rows]


def test_status_changes_write_notifications_in_their_transaction(
    wired: sessionmaker[Session], catalog: Catalog, clock: FakeClock
) -> None:
    customer, order_id = place(wired, catalog, clock)
    with wired() as session:
        transition(session, order_id, OrderStatus.ACCEPTED, actor=STAFF, clock=clock)
        assert deliveries(session) == [
            ("order.placed", "store", "cafe"),
            ("order.placed", "app", str(customer)),
            ("order.accepted", "store", "cafe"),
            ("order.accepted", "app", str(customer)),
        ]
        with pytest.raises(IllegalTransition):
            transition(session, order_id, OrderStatus.PICKED_UP, actor=STAFF, clock=clock)
        session.rollback()
        order = session.scalars(select(Order).options(selectinload(Order.events))).one()
        order.events.append(
            new_event(order.status, OrderStatus.IN_PROGRESS, actor=STAFF, at=clock())
        )
        session.flush()
        assert session.scalar(select(func.count()).select_from(Notification)) == 3
        session.rollback()  # the change and its notification go together
        assert session.scalar(select(func.count()).select_from(Notification)) == 2


@pytest.mark.parametrize("history", [True, False], ids=["history", "loaded-before"])
def test_status_changes_are_written_once_and_read_back_alike(
    wired: sessionmaker[Session], catalog: Catalog, clock: FakeClock, history: bool
) -> None:
    """transition writes with Core statements: the session must agree with the database.

    With the history loaded by transition, or by the session before (staff's transitions
    leave it out, and must still keep a loaded one up to date).
    """
    _, order_id = place(wired, catalog, clock)
    with wired() as session:
        if not history:  # held: the session keeps only objects someone references
            held = session.scalars(
                select(Order).where(Order.id == order_id).options(selectinload(Order.events))
            ).one()
        kwargs = {"actor": STAFF, "clock": clock, "history": history}
        transition(session, order_id, OrderStatus.ACCEPTED, **kwargs)
        clock.advance(minutes=1)
        started = transition(session, order_id, OrderStatus.IN_PROGRESS, **kwargs)
        assert history or started is held
        session.commit()  # nothing left to flush: no event or notification written twice
        seen = [(event.id, event.from_status, event.to_status) for event in started.events]
    with wired() as other:
        order = other.scalars(
            select(Order).where(Order.id == order_id).options(selectinload(Order.events))
        ).one()
        assert (order.status, order.updated_at) == (started.status, started.updated_at)
        assert order.status is OrderStatus.IN_PROGRESS
        assert [(event.id, event.from_status, event.to_status) for event in order.events] == seen
        assert [to for _, _, to in seen] == [
            OrderStatus.PLACED,
            OrderStatus.ACCEPTED,
            OrderStatus.IN_PROGRESS,
        ]
        assert other.scalar(select(func.count()).select_from(Notification)) == 3


def test_alexa_and_webhooks_are_routed_by_event_and_store(
    wired: sessionmaker[Session], catalog: Catalog, clock: FakeClock
) -> None:
    with wired() as session:
        every = add_endpoint(session, url="http://127.0.0.1:9/all", store_id=None, clock=clock)
        ready_only = add_endpoint(
            session,
            url="http://127.0.0.1:9/r",
            store_id="cafe",
            events=["order.ready"],
            clock=clock,
        )
        add_endpoint(session, url="http://127.0.0.1:9/market", store_id="market", clock=clock)
        off = add_endpoint(session, url="http://127.0.0.1:9/off", store_id=None, clock=clock)
        set_active(session, off.id, False)
    customer, order_id = place(wired, catalog, clock)
    with wired() as session:
        link_identity(session, customer, kind=IdentityKind.ALEXA_USER, value="amzn1.ask.account.X")
        for status in (OrderStatus.ACCEPTED, OrderStatus.IN_PROGRESS, OrderStatus.READY):
            transition(session, order_id, status, actor=STAFF, clock=clock)
        routed = deliveries(session)
    assert [r for r in routed if r[0] == "order.placed"] == [
        ("order.placed", "store", "cafe"),
        ("order.placed", "app", str(customer)),
        ("order.placed", "webhook", str(every.id)),
    ]
    assert [r for r in routed if r[0] == "order.ready"] == [
        ("order.ready", "store", "cafe"),
        ("order.ready", "app", str(customer)),
        ("order.ready", "alexa", "amzn1.ask.account.X"),
        ("order.ready", "webhook", str(every.id)),
        ("order.ready", "webhook", str(ready_only.id)),
    ]


def test_dispatcher_delivers_each_once_with_the_shoppers_words(
    wired: sessionmaker[Session], catalog: Catalog, clock: FakeClock
) -> None:
    customer, order_id = place(wired, catalog, clock)
    with wired() as session:
        for status in (OrderStatus.ACCEPTED, OrderStatus.IN_PROGRESS, OrderStatus.READY):
            transition(session, order_id, status, actor=STAFF, clock=clock)
    store, app = Recorder("store"), Recorder("app")
    dispatcher = Dispatcher(wired, [store, app], worker="w1", clock=clock)
    assert dispatcher.run_once() == 8
    assert dispatcher.run_once() == 0
    assert [i.message.event for i in app.items] == [
        "order.placed",
        "order.accepted",
        "order.in_progress",
        "order.ready",
    ]
    ready = app.items[-1].message
    assert ready.text == "Your medium oat milk latte is ready at Bench Cafe"
    assert ready.shopper_json()["order_id"] == order_id
    assert app.items[0].message.text.startswith("Order received: your medium oat milk latte")
    ticket = store.items[0].message.ticket
    assert ticket["customer"] == "Ada"
    assert ticket["lines"][0]["options"] == [
        {"group": "Size", "choice": "Medium", "amount": "regular"},
        {"group": "Milk", "choice": "Oat Milk", "amount": "regular"},
    ]
    assert {i.target for i in app.items} == {str(customer)}
    assert len({i.message.id for i in store.items + app.items}) == 4  # one id per event
    with wired() as session:
        statuses = session.scalars(select(Delivery.status).distinct()).all()
        assert statuses == [DeliveryStatus.DELIVERED]


def test_retries_back_off_exponentially_then_dead_letter(
    wired: sessionmaker[Session], catalog: Catalog, clock: FakeClock
) -> None:
    place(wired, catalog, clock)
    app = Recorder("app", [Outcome.retry("503"), Outcome.retry("503"), Outcome.retry("503")])
    policy = RetryPolicy(base=timedelta(seconds=10), max_attempts=3, jitter=0)
    dispatcher = Dispatcher(wired, [app], worker="w", clock=clock, policy=policy)
    waits = []
    for _ in range(3):
        assert dispatcher.run_once() == 1
        assert dispatcher.run_once() == 0  # not due yet
        with wired() as session:
            row = session.scalars(select(Delivery).where(Delivery.channel == "app")).one()
        waits.append((row.next_attempt_at - clock.now).total_seconds())
        clock.advance(seconds=60)
    assert waits[:2] == [10.0, 20.0]
    assert row.status is DeliveryStatus.DEAD
    assert row.attempts == 3
    assert row.last_error == "503"
    with wired() as session:
        assert [d.id for d in outbox.dead_letters(session)] == [row.id]
        assert outbox.redeliver(session, row.id, now=clock())
        assert not outbox.redeliver(session, row.id, now=clock())
    assert dispatcher.run_once() == 1
    with wired() as session:
        assert session.get_one(Delivery, row.id).status is DeliveryStatus.DELIVERED


def test_refusals_die_at_once_and_channel_bugs_are_retried(
    wired: sessionmaker[Session], catalog: Catalog, clock: FakeClock
) -> None:
    place(wired, catalog, clock)
    store = Recorder("store", [Outcome.failed("410 gone")])
    Dispatcher(wired, [store, Exploding()], worker="w", clock=clock).run_once()
    with wired() as session:
        rows = {d.channel: d for d in session.scalars(select(Delivery))}
    assert rows["store"].status is DeliveryStatus.DEAD
    assert rows["app"].status is DeliveryStatus.PENDING
    assert rows["app"].last_error == "RuntimeError: boom"
    assert rows["app"].next_attempt_at > clock.now


def test_an_expired_lease_is_claimed_again_and_the_old_worker_cannot_finish(
    wired: sessionmaker[Session], catalog: Catalog, clock: FakeClock
) -> None:
    place(wired, catalog, clock)
    lease = timedelta(seconds=30)
    with wired() as session:
        first = outbox.claim(
            session, channels=["store"], worker="dead", limit=10, lease=lease, now=clock()
        )
        assert len(first) == 1
        assert first[0].attempts == 1
        assert (
            outbox.claim(
                session, channels=["store"], worker="b", limit=10, lease=lease, now=clock()
            )
            == []
        )
        clock.advance(seconds=31)
        again = outbox.claim(
            session, channels=["store"], worker="b", limit=10, lease=lease, now=clock()
        )
        assert [c.id for c in again] == [first[0].id]
        assert again[0].attempts == 2
        outbox.mark_delivered(session, [first[0].id], worker="dead", now=clock())
        assert session.get_one(Delivery, first[0].id).status is DeliveryStatus.PENDING
        outbox.mark_delivered(session, [first[0].id], worker="b", now=clock())
        session.expire_all()
        assert session.get_one(Delivery, first[0].id).status is DeliveryStatus.DELIVERED


def test_concurrent_dispatchers_never_claim_the_same_row(
    wired: sessionmaker[Session], catalog: Catalog, clock: FakeClock, backend: str
) -> None:
    for index in range(30):
        place(wired, catalog, clock, name=f"Shopper {index}")
    claimed: list[list[int]] = [[] for _ in range(4)]
    start = threading.Barrier(4)

    def work(slot: int) -> None:
        start.wait()
        while True:
            with wired() as session:
                got = outbox.claim(
                    session,
                    channels=["store", "app"],
                    worker=f"w{slot}",
                    limit=7,
                    lease=timedelta(minutes=5),
                    now=clock(),
                )
            if not got:
                return
            claimed[slot].extend(c.id for c in got)

    threads = [threading.Thread(target=work, args=(slot,)) for slot in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    every = [i for ids in claimed for i in ids]
    assert len(every) == 60
    assert len(set(every)) == 60
    if backend == "postgresql":  # SKIP LOCKED: the work really was shared, never doubled
        assert sum(1 for ids in claimed if ids) >= 2


def test_replay_after_an_id_and_for_open_orders(
    wired: sessionmaker[Session], catalog: Catalog, clock: FakeClock
) -> None:
    customer, first = place(wired, catalog, clock)
    clock.advance(minutes=5)
    with wired() as session:
        transition(session, first, OrderStatus.ACCEPTED, actor=STAFF, clock=clock)
        clock.advance(minutes=5)
        transition(session, first, OrderStatus.CANCELLED, actor=STAFF, clock=clock)
        rows = session.scalars(select(Notification).order_by(Notification.created_at)).all()
        placed, accepted, cancelled = (row.id for row in rows)
        replayed = outbox.replay(session, customer_id=customer, after=placed)
        assert [r.id for r in replayed] == [accepted, cancelled]
        assert outbox.replay(session, customer_id=customer + 1, after=placed) == []
        assert outbox.replay(session, customer_id=customer, after=None) == []  # nothing open
        messages = render(session, [accepted])
        assert messages[accepted].text == "Bench Cafe accepted your order"
        assert outbox.prune(session, before=clock() + timedelta(seconds=1)) == 0  # pending
        session.execute(Delivery.__table__.update().values(status=DeliveryStatus.DELIVERED))
        session.commit()
        assert outbox.prune(session, before=clock() + timedelta(seconds=1)) == 3


def test_rendered_tickets_from_rows_equal_the_staff_pages_tickets(
    wired: sessionmaker[Session], catalog: Catalog, clock: FakeClock
) -> None:
    _, first = place(wired, catalog, clock)
    _, second = place(wired, catalog, clock, name="Grace Hopper")
    with wired() as session:
        orders = session.scalars(
            select(Order).where(Order.id.in_([first, second])).options(selectinload(Order.lines))
        ).all()
        from_objects = {t["order_id"]: t for t in tickets(session, orders)}
        assert from_objects[second]["customer"] == "Grace"
        assert [o["choice"] for o in from_objects[first]["lines"][0]["options"]] == [
            "Medium",
            "Oat Milk",
        ]
        ids = session.scalars(select(Notification.id)).all()
        messages = render(session, [*ids, "no-such-notification"])
        assert sorted(messages) == sorted(ids)  # a missing notification is absent
        for message in messages.values():
            assert message.ticket == from_objects[message.order_id]
            assert message.store_name == "Bench Cafe"
        placed = next(m for m in messages.values() if m.order_id == first)
        assert placed.text.startswith("Order received: your medium oat milk latte at Bench Cafe")


def test_the_only_dispatcher_reads_due_rows_without_claiming(
    wired: sessionmaker[Session], catalog: Catalog, clock: FakeClock
) -> None:
    place(wired, catalog, clock)
    app = Recorder("app", [Outcome.retry("busy")])
    policy = RetryPolicy(base=timedelta(seconds=10), jitter=0)
    alone = Dispatcher(wired, [app], worker="w", clock=clock, policy=policy, exclusive=True)
    assert alone.run_once() == 1
    with wired() as session:
        row = session.scalars(select(Delivery).where(Delivery.channel == "app")).one()
    assert (row.status, row.attempts, row.locked_by) == (DeliveryStatus.PENDING, 1, "")
    assert row.next_attempt_at == clock.now + timedelta(seconds=10)
    clock.advance(seconds=11)
    assert alone.run_once() == 1
    assert alone.run_once() == 0
    with wired() as session:
        row = session.get_one(Delivery, row.id)
    assert row.status is DeliveryStatus.DELIVERED


def test_a_claim_with_nothing_due_does_not_wait_for_a_writer(
    wired: sessionmaker[Session], catalog: Catalog, clock: FakeClock
) -> None:
    place(wired, catalog, clock)
    finished = threading.Event()
    with wired() as writer:
        begin_write(writer)
        writer.execute(select(func.count()).select_from(Delivery))  # holds the write lock

        def look() -> None:
            with wired() as session:
                got = outbox.claim(
                    session,
                    channels=["webhook"],
                    worker="w",
                    limit=10,
                    lease=timedelta(minutes=1),
                    now=clock(),
                )
            assert got == []
            finished.set()

        thread = threading.Thread(target=look)
        thread.start()
        nothing_waited = finished.wait(3)
        writer.rollback()
    thread.join(60)
    assert nothing_waited, "the claim waited for the write lock with nothing due"


def test_serving_delivers_once_while_the_outcomes_wait_for_the_write_lock(
    wired: sessionmaker[Session], catalog: Catalog, clock: FakeClock, backend: str
) -> None:
    for index in range(3):
        place(wired, catalog, clock, name=f"Shopper {index}")
    app = Recorder("app")
    dispatcher = Dispatcher(
        wired, [app], worker="w", clock=clock, exclusive=backend == "sqlite", gather=0.01
    )
    stop = threading.Event()
    thread = threading.Thread(target=dispatcher.serve, args=(stop,), kwargs={"poll": 0.02})
    with wired() as blocker:
        begin_write(blocker)
        blocker.execute(select(func.count()).select_from(Delivery))  # SQLite: the write lock
        thread.start()
        for _ in range(20):  # rounds keep running; the unrecorded three must not come again
            dispatcher.wake()
            time.sleep(0.02)
        delivered_while_blocked = len(app.items)
        blocker.rollback()
    stop.set()
    dispatcher.wake()
    thread.join(30)
    assert delivered_while_blocked == 3
    assert sorted(item.message.order_id for item in app.items) == [1, 2, 3]
    with wired() as session:
        statuses = session.scalars(select(Delivery.status).where(Delivery.channel == "app")).all()
    assert statuses == [DeliveryStatus.DELIVERED] * 3


def test_a_commit_wakes_only_the_channels_it_wrote_deliveries_for(
    sessions: sessionmaker[Session], catalog: Catalog, clock: FakeClock
) -> None:
    woken: list[frozenset[str]] = []
    outbox.install(sessions, on_commit=woken.append)
    customer, order = place(sessions, catalog, clock)
    assert woken == [frozenset({"store", "app"})]
    with sessions() as session:
        link_identity(session, customer, kind=IdentityKind.ALEXA_USER, value="amzn1.ask.account.X")
        add_endpoint(session, url="https://example.com/hook", store_id=None, events=["order.ready"])
        for status in (OrderStatus.ACCEPTED, OrderStatus.IN_PROGRESS):
            transition(session, order, status, actor=STAFF, clock=clock)
        transition(session, order, OrderStatus.READY, actor=STAFF, clock=clock)
    assert woken[-1] == frozenset({"store", "app", "alexa", "webhook"})
    assert woken[1:3] == [frozenset({"store", "app"})] * 2
