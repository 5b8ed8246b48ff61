"""What one SQL statement of the order path costs in CPU, by the layer that sends it.

    .venv/bin/python benchmarks/statement_costs.py [--postgres-url URL] [--calls 2000]

On PostgreSQL (a fresh schema at --postgres-url, default $VOICECART_TEST_POSTGRES_URL), with
benchmarks/pickup_inprocess.py's shop and a customer with a latte in the cart: the CPU of one
call (this thread's CPU time, the minimum of 5 rounds of --calls calls, each round in one
transaction) of `SELECT 1` through the raw driver (the baseline), through SQLAlchemy Core's
connection and through the ORM session; of the two statements of `orders.carts.lock_customer`
(the customer's row lock, and the customer with cart and lines as ORM objects) and of
lock_customer itself; and of the cart's lines read as plain rows. Printed with the ratio to
the baseline, measured in the same process.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import cast

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sqlalchemy import Table, create_engine, select, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from benchmarks.pickup_inprocess import LATTE, Shop  # noqa: E402
from orders import tables  # noqa: E402
from orders.carts import _CUSTOMER_WITH_CART, _LOCK_CUSTOMER, add_to_cart, lock_customer  # noqa: E402
from orders.db import make_engine  # noqa: E402

ROUNDS = 5
_LINES = cast(Table, tables.CartLine.__table__)
_CARTS = cast(Table, tables.Cart.__table__)


def cpu_per_call(shop: Shop, work: Callable[[Session], object], calls: int) -> float:
    """Microseconds of this thread's CPU per call of `work`: the best of ROUNDS rounds."""
    best = float("inf")
    for _ in range(ROUNDS):
        with shop.sessions() as session:
            started = time.thread_time()
            for _ in range(calls):
                work(session)
            best = min(best, (time.thread_time() - started) / calls)
            session.rollback()
    return best * 1e6


def measure(url: str, calls: int) -> None:
    """Print one line per layer and statement."""
    engine = make_engine(url, pool_size=2)
    try:
        shop = Shop(engine)
        shop.orders(50)  # warm: caches, prepared statements, the pool
        customer = shop.customers[0]
        with shop.sessions() as session:
            add_to_cart(session, customer, catalog=shop.catalog, product_id="latte", options=LATTE)
        key = {"customer_id": customer}
        lines = select(_LINES).join(_CARTS).where(_CARTS.c.customer_id == customer)
        with shop.sessions() as session:
            cursor = session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]

            def raw(_: Session) -> object:
                cursor.execute("SELECT 1")
                return cursor.fetchone()

            baseline = cpu_per_call(shop, raw, calls)
        rows = [
            ("SELECT 1, raw psycopg (baseline)", baseline),
            (
                "SELECT 1, Core connection",
                cpu_per_call(shop, lambda s: s.connection().execute(text("SELECT 1")).one(), calls),
            ),
            (
                "SELECT 1, ORM session",
                cpu_per_call(shop, lambda s: s.execute(text("SELECT 1")).one(), calls),
            ),
            (
                "customer row lock (Core, session)",
                cpu_per_call(shop, lambda s: s.execute(_LOCK_CUSTOMER, key).one(), calls),
            ),
            (
                "customer + cart + lines as ORM objects",
                cpu_per_call(
                    shop, lambda s: s.scalars(_CUSTOMER_WITH_CART, key).unique().one(), calls
                ),
            ),
            (
                "lock_customer (both)",
                cpu_per_call(shop, lambda s: lock_customer(s, customer), calls),
            ),
            (
                "cart lines as plain rows",
                cpu_per_call(shop, lambda s: s.execute(lines).all(), calls),
            ),
        ]
    finally:
        engine.dispose()
    print(f"\nCPU per statement on PostgreSQL, best of {ROUNDS} rounds of {calls} calls")
    for name, micros in rows:
        print(f"{name:42s} {micros:8.1f} us   ratio to baseline {micros / baseline:5.1f}")


def main() -> int:
    """Create a schema, measure, drop it."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get(
            "VOICECART_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        ),
    )
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()
    schema = f"costs_{uuid.uuid4().hex[:12]}"
    admin = create_engine(args.postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        separator = "&" if "?" in args.postgres_url else "?"
        measure(f"{args.postgres_url}{separator}options=-csearch_path%3D{schema}", args.calls)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
