"""Floors for the checkout benchmark: what one checkout must cost at least, measured here.

On a 2-CPU machine, N checkouts/s leave 2000/N ms of CPU per checkout for the server, the
database and the load generator together (6.7 ms at 300/s). This module measures, in the
benchmark's own process, the pieces no implementation of the same flow can avoid:
- the SQL round trips of the request path of one checkout flow, counted on a real app (the
  implicit BEGIN and the COMMIT of each transaction count as one round trip each);
- the client-side CPU of one round trip: the raw driver (psycopg) and SQLAlchemy Core;
which, with the database's and the HTTP server's CPU measured by the load run, give a lower
bound for the whole flow on this machine.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, literal, select

from orders.db import make_engine
from server.app import create_app
from server.settings import Settings


@dataclass(frozen=True)
class Floors:
    """Per checkout flow: SQL round trips; per round trip: CPU ms of the driver and of Core."""

    round_trips: int
    transactions: int
    driver_ms: float
    core_ms: float


@contextmanager
def counting(engine: Engine) -> Iterator[dict[str, int]]:
    """Count statements, BEGINs and COMMITs/ROLLBACKs sent by request threads of `engine`."""
    counts = {"statements": 0, "begin": 0, "end": 0}

    def counter(key: str) -> Callable[..., None]:
        def hook(*_: Any) -> None:
            if not threading.current_thread().name.startswith("dispatcher"):
                counts[key] += 1

        return hook

    hooks = [
        ("before_cursor_execute", counter("statements")),
        ("begin", counter("begin")),
        ("commit", counter("end")),
        ("rollback", counter("end")),
    ]
    for name, hook in hooks:
        event.listen(engine, name, hook)
    try:
        yield counts
    finally:
        for name, hook in hooks:
            event.remove(engine, name, hook)


def flow_round_trips(url: str, token: str, items: tuple[dict[str, Any], ...]) -> tuple[int, int]:
    """Round trips and transactions of one checkout flow (after one warm-up flow)."""
    engine = make_engine(url, pool_size=2)
    app = create_app(Settings(database_url=url), engine=engine)
    auth = {"Authorization": f"Bearer {token}"}

    def flow(client: TestClient) -> None:
        for item in items:
            client.post("/v1/cart/items", json=item, headers=auth).raise_for_status()
        headers = {**auth, "Idempotency-Key": uuid.uuid4().hex}
        client.post("/v1/checkout", json={"confirm": True}, headers=headers).raise_for_status()

    try:
        with TestClient(app) as client:
            flow(client)
            with counting(engine) as counts:
                flow(client)
    finally:
        engine.dispose()
    round_trips = counts["statements"] + counts["begin"] + counts["end"]
    return round_trips, counts["begin"]


def round_trip_cpu(url: str, repeat: int = 2000) -> tuple[float, float]:
    """CPU ms of one `SELECT 1` round trip: the raw driver, then SQLAlchemy Core."""
    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect() as connection:
            raw = connection.connection.dbapi_connection
            assert raw is not None
            cursor = raw.cursor()
            statement = select(literal(1))

            def driver() -> None:
                cursor.execute("SELECT 1")
                cursor.fetchone()

            def core() -> None:
                connection.execute(statement).one()

            return _cpu_ms(driver, repeat), _cpu_ms(core, repeat)
    finally:
        engine.dispose()


def _cpu_ms(work: Any, repeat: int) -> float:
    """Mean CPU milliseconds of `work()` after a warm-up."""
    for _ in range(repeat // 10):
        work()
    began = time.process_time()
    for _ in range(repeat):
        work()
    return (time.process_time() - began) * 1000 / repeat


def measure_floors(url: str, token: str, items: tuple[dict[str, Any], ...]) -> Floors:
    """All floors for one database."""
    round_trips, transactions = flow_round_trips(url, token, items)
    driver_ms, core_ms = round_trip_cpu(url)
    return Floors(round_trips, transactions, driver_ms, core_ms)
