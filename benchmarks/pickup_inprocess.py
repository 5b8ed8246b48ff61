"""CPU of the order path without HTTP: add to cart, place for pickup, dispatch; per order.

    .venv/bin/python benchmarks/pickup_inprocess.py [--postgres-url URL] [--orders 200]

In one process, on SQLite (a temporary file) and on PostgreSQL (a fresh schema at
--postgres-url, default $VOICECART_TEST_POSTGRES_URL; skipped without one): the use cases
themselves (`orders.carts.add_to_cart`, `orders.checkout.place_pickup_order`, and a
dispatcher round every fourth order, delivering to channels that accept at once), as
benchmarks/pickup_bench.py's shoppers do through the API. Printed per order: the SQL
statements sent, and the process's CPU (the minimum of 7 rounds, since this machine's speed
wanders), next to the baseline measured in the same process: the same number of `SELECT 1`
round trips through the raw driver, the least any implementation of these statements costs.

Deterministic comparisons of two versions: run the script under
`valgrind --tool=callgrind` and compare instruction counts (see docs/staff.md).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sqlalchemy import Engine, event  # noqa: E402
from sqlalchemy.orm import Session, sessionmaker  # noqa: E402

from benchmarks.orders_bench import postgres_schema  # noqa: E402
from benchmarks.pickup_bench import bench_catalog  # noqa: E402
from catalog.request import OptionValue  # noqa: E402
from orders import outbox  # noqa: E402
from orders.carts import add_to_cart  # noqa: E402
from orders.catalog_store import load_catalog_into  # noqa: E402
from orders.checkout import place_pickup_order  # noqa: E402
from orders.customers import create_customer  # noqa: E402
from orders.db import make_engine, make_sessions, sqlite_url, upgrade  # noqa: E402
from orders.notify import Dispatcher, Outcome, Outgoing  # noqa: E402

STORES = 10
CUSTOMERS = 40
ROUNDS = 7
LATTE = {"size": OptionValue("large"), "milk": OptionValue("oat")}


class Accepting:
    """A channel that takes every message at once (the bus is not what is measured here)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def deliver(self, item: Outgoing) -> Outcome:
        """Delivered."""
        return Outcome.delivered()


class Shop:
    """A migrated database with the benchmark's cafés and customers, and the order loop."""

    def __init__(self, engine: Engine) -> None:
        upgrade(engine)
        self.sessions: sessionmaker[Session] = make_sessions(engine)
        outbox.install(self.sessions)
        self.catalog = bench_catalog(STORES)
        with self.sessions() as session:
            load_catalog_into(session, self.catalog, source="bench")
            self.customers = [
                create_customer(session, name=f"Shopper {i}", home_store_id=f"s{i % STORES:02d}")[
                    0
                ].id
                for i in range(CUSTOMERS)
            ]
        channels = [Accepting(outbox.STORE), Accepting(outbox.APP)]
        self.dispatcher = Dispatcher(self.sessions, channels, worker="bench")

    def orders(self, count: int) -> None:
        """Place `count` orders, a dispatcher round after every fourth, and a last round."""
        for index in range(count):
            customer = self.customers[index % CUSTOMERS]
            with self.sessions() as session:
                add_to_cart(
                    session, customer, catalog=self.catalog, product_id="latte", options=LATTE
                )
            with self.sessions() as session:
                place_pickup_order(
                    session,
                    customer,
                    catalog=self.catalog,
                    store_id=None,
                    pickup_at=None,
                    idempotency_key=uuid.uuid4().hex,
                    confirmed=True,
                )
            if index % 4 == 3:
                self.dispatcher.run_once()
        self.dispatcher.run_once()


def cpu_per_call(work: Callable[[], None], calls: int) -> float:
    """CPU ms of one call of `work` (which does `calls` units): the minimum of ROUNDS rounds."""
    best = float("inf")
    for _ in range(ROUNDS):
        start = time.process_time()
        work()
        best = min(best, (time.process_time() - start) / calls)
    return best * 1000


def statements_per_order(engine: Engine, shop: Shop, count: int) -> float:
    """SQL statements sent per order, each COMMIT counted as one."""
    sent = 0

    def count_one(*_: object) -> None:
        nonlocal sent
        sent += 1

    event.listen(engine, "before_cursor_execute", count_one)
    event.listen(engine, "commit", count_one)
    try:
        shop.orders(count)
    finally:
        event.remove(engine, "before_cursor_execute", count_one)
        event.remove(engine, "commit", count_one)
    return sent / count


def measure(name: str, url: str, count: int) -> None:
    """Print one database's line."""
    engine = make_engine(url, pool_size=4)
    try:
        shop = Shop(engine)
        shop.orders(100)  # warm: caches, prepared statements, the pool
        statements = statements_per_order(engine, shop, count)
        order_ms = cpu_per_call(lambda: shop.orders(count), count)
        trips = max(1, round(statements))
        with engine.connect() as connection:
            cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]

            def round_trips() -> None:
                for _ in range(trips * count):
                    cursor.execute("SELECT 1")
                    cursor.fetchone()

            baseline_ms = cpu_per_call(round_trips, count)
    finally:
        engine.dispose()
    ratio = order_ms / baseline_ms
    print(
        f"{name:10s} statements per order {statements:5.1f}   CPU per order {order_ms:6.3f} ms   "
        f"baseline ({trips} raw round trips) {baseline_ms:6.3f} ms   ratio {ratio:5.1f}"
    )


def main() -> int:
    """Measure on SQLite, then on PostgreSQL when a URL is given."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--postgres-url", default=os.environ.get("VOICECART_TEST_POSTGRES_URL", ""))
    parser.add_argument("--orders", type=int, default=200, help="orders per round (default 200)")
    args = parser.parse_args()
    print(f"in-process order path, {args.orders} orders per round, min of {ROUNDS} rounds")
    with tempfile.TemporaryDirectory() as data_dir:
        measure("SQLite", sqlite_url(data_dir), args.orders)
    if args.postgres_url:
        with postgres_schema(args.postgres_url) as url:
            measure("PostgreSQL", url, args.orders)
    else:
        print("PostgreSQL skipped: give --postgres-url or set VOICECART_TEST_POSTGRES_URL")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
