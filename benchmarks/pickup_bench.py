"""Pickup load: orders placed -> staff screens, staff "ready" -> shopper streams, lost/duplicated.

    .venv/bin/python benchmarks/pickup_bench.py --backend postgres [--rate 200 --duration 60]
    .venv/bin/python benchmarks/pickup_bench.py --backend sqlite   [--rate 50 --duration 60]

Real server processes (uvicorn, `server.app:app_from_environment`) on 127.0.0.1: two on
PostgreSQL + Redis (a fresh schema and a Redis prefix of their own), or one on a SQLite file.
Shoppers (one lane per customer, spread over the stores and processes) add a large oat latte
to the cart and place it for pickup, at a fixed schedule of `rate` orders/s. Every store has
a staff screen (GET /staff/stream) on one of the processes; one customer in `ready_every` has
a shopper stream (GET /v1/events) on the other, and each of their orders is accepted, started
and readied by staff.
  placed -> staff: arrival on the store's stream minus the order's placed_at (server clock)
  ready -> shopper: arrival on the shopper's stream minus the "ready" event's time
  lost: orders with no "order.placed" on their screen (or readied orders with no "ready")
  duplicated: a notification id that arrived twice
The benchmark client shares the machine's two cores with the servers and the databases.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402
import uvloop  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from benchmarks.cpu import cpu_seconds  # noqa: E402
from benchmarks.lean_http import (  # noqa: E402
    Connection,
    ProtocolError,
    Response,
    address,
    server_sent_events,
)
from benchmarks.orders_bench import free_port  # noqa: E402
from catalog.model import Catalog, Choice, OptionGroup, Product, Store  # noqa: E402
from orders.catalog_store import load_catalog_into  # noqa: E402
from orders.customers import create_customer  # noqa: E402
from orders.db import make_engine, make_sessions, sqlite_url, upgrade  # noqa: E402
from orders.staff import add_staff  # noqa: E402
from orders.staff_tables import StaffRole  # noqa: E402

PASSWORD = "benchmark password"
LATTE = {"product_id": "latte", "options": {"size": "large", "milk": "oat"}}
TARGETS = {"postgres": 250.0, "sqlite": 100.0}
LATE = 5.0
"""An order more than this many seconds behind its schedule is skipped (and counted)."""


def bench_catalog(stores: int) -> Catalog:
    """Always-open pickup cafés selling one customisable latte."""
    size = OptionGroup(
        "size",
        "Size",
        (Choice("small", "Small"), Choice("large", "Large", price_delta=75)),
        required=True,
    )
    milk = OptionGroup(
        "milk", "Milk", (Choice("whole", "Whole Milk"), Choice("oat", "Oat Milk", price_delta=60))
    )
    latte = Product("latte", "Latte", 450, category="Espresso", options=("size", "milk"))
    return Catalog(
        currency="USD",
        stores=tuple(Store(f"s{i:02d}", f"Cafe {i}", pickup=True) for i in range(stores)),
        option_groups={"size": size, "milk": milk},
        products={"latte": latte},
        prep_minutes={"Espresso": 1},
    )


@dataclass
class World:
    """What the benchmark set up: where, who, and the server processes."""

    url: str
    stores: list[str]
    tokens: list[str]
    staff_email: str
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    bases: list[str] = field(default_factory=list)
    cleanup: list[str] = field(default_factory=list)


def prepare(url: str, *, stores: int, customers: int) -> World:
    """Migrate, load the catalog, create one staff member of every store and the customers."""
    engine = make_engine(url, pool_size=2)
    upgrade(engine)
    world = World(url, [f"s{i:02d}" for i in range(stores)], [], "bench@example.com")
    with make_sessions(engine)() as session:
        load_catalog_into(session, bench_catalog(stores), source="bench")
        for number, store in enumerate(world.stores):
            password = PASSWORD if number == 0 else None  # hash once
            add_staff(
                session,
                email=world.staff_email,
                store_id=store,
                role=StaffRole.MANAGER,
                password=password,
            )
        for index in range(customers):
            _, token = create_customer(
                session, name=f"Shopper {index}", home_store_id=world.stores[index % stores]
            )
            world.tokens.append(token)
    engine.dispose()
    return world


def start_servers(world: World, count: int, env: dict[str, str]) -> None:
    """Start `count` uvicorn processes and wait until they answer."""
    for _ in range(count):
        port = free_port()
        world.processes.append(
            subprocess.Popen(server_command(port), cwd=REPO, env=server_env(world.url, env))
        )
        world.bases.append(f"http://127.0.0.1:{port}")
    for base in world.bases:
        wait_until_answering(base, timeout=60)


def server_command(port: int) -> list[str]:
    """The command of one server process (uvicorn, the app factory) on 127.0.0.1:port."""
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "server.app:app_from_environment",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
        "--timeout-graceful-shutdown",
        "2",
    ]


def server_env(url: str, env: dict[str, str]) -> dict[str, str]:
    """The environment of a server process on the database at `url`."""
    return {**os.environ, **env, "PYTHONPATH": str(REPO), "VOICECART_DATABASE_URL": url}


def wait_until_answering(base: str, *, timeout: float) -> None:
    """Wait until GET /v1/health answers 200; TimeoutError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/v1/health", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise TimeoutError(f"{base} did not start")


@dataclass
class Tally:
    """Everything measured."""

    placed_at: dict[int, float] = field(default_factory=dict)
    placed_seen: dict[int, float] = field(default_factory=dict)
    ready_at: dict[int, float] = field(default_factory=dict)
    ready_seen: dict[int, float] = field(default_factory=dict)
    ids: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    readied: set[int] = field(default_factory=set)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


def _stamp(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


async def read_stream(url: str, headers: dict[str, str], tally: Tally, stop: asyncio.Event) -> None:
    """Count every event of one stream until stopped."""
    host, port, path = address(url)
    async for data in server_sent_events(host, port, path, headers):
        if stop.is_set():
            return
        _count(json.loads(data), tally, time.time())


def _count(event: dict[str, object], tally: Tally, now: float) -> None:
    """One stream event into the tally."""
    kind = str(event.get("event", ""))
    if "id" in event and kind:  # per kind of stream: a screen and a shopper share the id
        tally.ids[f"{'staff' if 'html' in event else 'shopper'}:{event['id']}"] += 1
    if kind == "order.placed" and "html" in event:
        tally.placed_seen.setdefault(int(str(event["order_id"])), now)
    elif kind == "order.ready" and "text" in event:
        order_id = int(str(event["order_id"]))
        tally.ready_seen.setdefault(order_id, now)
        data = event.get("data")
        if isinstance(data, dict):
            tally.ready_at[order_id] = _stamp(str(data["at"]))


async def staff_session(client: httpx.AsyncClient, base: str, email: str) -> str:
    """Log in through the form; the session's CSRF token (the cookie stays in the client)."""
    form = await client.get(f"{base}/staff/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None
    await client.post(
        f"{base}/staff/login",
        data={"email": email, "password": PASSWORD, "csrf_token": token.group(1)},
    )
    page = await client.get(f"{base}/staff")
    csrf = re.search(r'<meta name="csrf-token" content="([^"]+)"', page.text)
    assert csrf is not None
    return csrf.group(1)


class StaffConnections:
    """Keep-alive connections to one server for the staff's button presses, reused.

    The lean client, as for the shoppers: httpx spent more CPU per request than the server's
    trivial endpoints do, on the cores the servers need.
    """

    def __init__(self, base: str, headers: dict[str, str]) -> None:
        self._host, self._port, _ = address(base)
        self._headers = headers
        self._idle: list[Connection] = []

    async def post(self, path: str) -> int:
        """POST path as the logged-in staff member; the status code."""
        connection = self._idle.pop() if self._idle else None
        if connection is None:
            connection = await Connection.open(self._host, self._port)
        try:
            answer = await connection.request("POST", path, headers=self._headers)
        except BaseException:
            await connection.close()
            raise
        self._idle.append(connection)
        return answer.status

    async def close(self) -> None:
        """Close the idle connections."""
        for connection in self._idle:
            await connection.close()
        self._idle.clear()


async def staff_login(base: str, email: str) -> tuple[dict[str, str], dict[str, str]]:
    """Log in: the headers of the staff streams (the cookie) and of button presses."""
    async with httpx.AsyncClient(timeout=120) as client:
        csrf = await staff_session(client, base, email)
        cookie = {"Cookie": "; ".join(f"{name}={value}" for name, value in client.cookies.items())}
    return cookie, {**cookie, "X-CSRF-Token": csrf, "Accept": "application/json"}


async def lane(
    index: int,
    slots: list[float],
    *,
    world: World,
    staff: dict[str, StaffConnections],
    tally: Tally,
    ready_every: int,
) -> None:
    """One customer placing orders at its scheduled times (sequentially: one cart each)."""
    token = world.tokens[index]
    base = world.bases[index % len(world.bases)]
    store = world.stores[index % len(world.stores)]
    host, port, _ = address(base)
    client = await Connection.open(host, port)
    try:
        for number, at in enumerate(slots):
            await asyncio.sleep(max(0.0, at - time.monotonic()))
            if time.monotonic() > at + LATE:  # the servers cannot keep up: keep the run bounded
                tally.errors["skipped (behind schedule)"] += 1
                continue
            try:
                answer = await add_and_place(client, token, store, key=f"{index}-{number}")
            except (OSError, asyncio.IncompleteReadError, ProtocolError) as error:
                tally.errors[type(error).__name__] += 1
                client = await Connection.open(host, port)
                continue
            if answer.status != 201:
                tally.errors[f"HTTP {answer.status}"] += 1
                continue
            order = answer.json()
            assert isinstance(order, dict)
            tally.placed_at[order["id"]] = _stamp(order["placed_at"])
            if index % ready_every == 0:
                other = world.bases[(index + 1) % len(world.bases)]
                task = asyncio.create_task(make_ready(order["id"], staff[other], tally))
                tally.tasks.append(task)
    finally:
        await client.close()


async def add_and_place(connection: Connection, token: str, store: str, *, key: str) -> Response:
    """A shopper's order: a large oat latte into the cart, then the cart placed for pickup."""
    auth = {"Authorization": f"Bearer {token}"}
    await connection.request("POST", "/v1/cart/items", json_body=LATTE, headers=auth)
    return await connection.request(
        "POST",
        "/v1/pickup/orders",
        json_body={"confirm": True, "store_id": store},
        headers={**auth, "Idempotency-Key": key},
    )


READYING = ("accept", "start", "ready")
"""The staff's button presses that take a placed order to ready, in order."""


async def make_ready(order_id: int, staff: StaffConnections, tally: Tally) -> None:
    """Staff accept, start and ready the order."""
    for action in READYING:
        try:
            status = await staff.post(f"/staff/orders/{order_id}/{action}")
        except (OSError, asyncio.IncompleteReadError, ProtocolError) as error:
            tally.errors[f"staff {type(error).__name__}"] += 1
            return
        if status != 200:
            tally.errors[f"staff HTTP {status}"] += 1
            return
    tally.readied.add(order_id)


async def run_load(
    world: World, *, rate: float, duration: float, ready_every: int
) -> tuple[Tally, float]:
    """Streams up, the scheduled orders, a drain; returns the tally and the achieved rate."""
    tally, stop = Tally(), asyncio.Event()
    cookie, pressing = await staff_login(world.bases[0], world.staff_email)
    staff = {base: StaffConnections(base, pressing) for base in world.bases}
    try:
        readers = []
        for index, store in enumerate(world.stores):
            base = world.bases[index % len(world.bases)]
            url = f"{base}/staff/stream?store={store}"
            readers.append(asyncio.create_task(read_stream(url, cookie, tally, stop)))
        for index in range(0, len(world.tokens), ready_every):
            base = world.bases[(index + 1) % len(world.bases)]
            auth = {"Authorization": f"Bearer {world.tokens[index]}"}
            readers.append(asyncio.create_task(read_stream(f"{base}/v1/events", auth, tally, stop)))
        await asyncio.sleep(2)
        total = int(rate * duration)
        start = time.monotonic() + 0.5
        schedule: dict[int, list[float]] = {}
        for number in range(total):
            schedule.setdefault(number % len(world.tokens), []).append(start + number / rate)
        lanes = [
            lane(i, slots, world=world, staff=staff, tally=tally, ready_every=ready_every)
            for i, slots in schedule.items()
        ]
        await asyncio.gather(*lanes)
        achieved = len(tally.placed_at) / max(1e-9, time.monotonic() - start)
        await asyncio.gather(*tally.tasks)  # staff still readying orders, behind a backlog
        await asyncio.sleep(5)  # drain
        stop.set()
        for reader in readers:
            if reader.done():  # ended before the stop: its later events count as lost
                error = reader.exception()
                why = type(error).__name__ if error is not None else "closed by the server"
                tally.errors[f"stream ended early: {why}"] += 1
            reader.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
    finally:
        for connections in staff.values():
            await connections.close()
    return tally, achieved


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100) in the values' unit."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def report(name: str, tally: Tally, achieved: float, args: argparse.Namespace) -> None:
    """Print the figures against the targets."""
    target = TARGETS[args.backend]
    placed = [
        1000 * (tally.placed_seen[o] - tally.placed_at[o])
        for o in tally.placed_at
        if o in tally.placed_seen
    ]
    ready = [
        1000 * (tally.ready_seen[o] - tally.ready_at[o])
        for o in tally.readied
        if o in tally.ready_seen and o in tally.ready_at
    ]
    lost_placed = len([o for o in tally.placed_at if o not in tally.placed_seen])
    lost_ready = len([o for o in tally.readied if o not in tally.ready_seen])
    duplicated = sum(count - 1 for count in tally.ids.values() if count > 1)
    print(f"\n== {name}: {args.rate:g} orders/s scheduled for {args.duration:g} s, ", end="")
    print(f"{args.stores} stores, {args.processes} process(es)")
    print(f"orders placed            {len(tally.placed_at)} ({achieved:.1f}/s achieved)")
    print(f"errors                   {dict(tally.errors) or 0}")
    for label, values in (("placed -> staff stream", placed), ("staff ready -> shopper", ready)):
        if values:
            p99 = percentile(values, 99)
            print(
                f"{label:24} n={len(values):5}  p50 {percentile(values, 50):7.1f} ms  "
                f"p95 {percentile(values, 95):7.1f} ms  p99 {p99:7.1f} ms  "
                f"max {max(values):7.1f} ms  mean {statistics.fmean(values):7.1f} ms   "
                f"target p99 <= {target:.0f} ms: {'MET' if p99 <= target else 'MISSED'}"
            )
    readied = len(tally.readied)
    print(
        f"lost events              placed {lost_placed}, ready {lost_ready} (of {readied} readied)"
    )
    print(f"duplicated events        {duplicated}")


def print_cpu(before: list[dict[str, float]], after: list[dict[str, float]], orders: int) -> None:
    """CPU per placed order over the whole run (streams, readies and drain included)."""
    server = sum(a["server"] - b["server"] for a, b in zip(after, before, strict=True))
    postgres = after[0]["postgres"] - before[0]["postgres"]
    client = after[0]["client"] - before[0]["client"]
    per = 1000 / max(1, orders)
    print(
        f"CPU per order            server {server * per:.1f} ms, postgres {postgres * per:.1f} ms,"
        f" benchmark client {client * per:.1f} ms"
    )


def main() -> int:
    """Set up, run, report, clean up."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", choices=("postgres", "sqlite"), default="sqlite")
    parser.add_argument(
        "--rate", type=float, default=None, help="orders/s (default: 200 postgres, 50 sqlite)"
    )
    parser.add_argument(
        "--duration", type=float, default=60.0, help="seconds of load (default: 60)"
    )
    parser.add_argument("--stores", type=int, default=50)
    parser.add_argument("--customers", type=int, default=None, help="default: 2 x rate")
    parser.add_argument("--processes", type=int, default=None, help="default: 2 postgres, 1 sqlite")
    parser.add_argument(
        "--ready-every", type=int, default=10, help="one customer in N gets readied"
    )
    add_service_options(parser)
    args = parser.parse_args()
    args.rate = args.rate or (200.0 if args.backend == "postgres" else 50.0)
    args.processes = args.processes or (2 if args.backend == "postgres" else 1)
    customers = args.customers or int(2 * args.rate)
    env = {"VOICECART_DB_POOL_SIZE": "20", "VOICECART_OUTBOX_POLL_SECONDS": "0.5"}
    scratch = tempfile.mkdtemp(prefix="pickup-bench-")
    if args.backend == "postgres":
        schema = f"bench_{uuid.uuid4().hex[:12]}"
        admin = create_engine(args.postgres_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = _with_search_path(args.postgres_url, schema)
        env |= {"VOICECART_REDIS_URL": args.redis_url, "VOICECART_EVENTS_PREFIX": schema}
    else:
        url = sqlite_url(scratch)
    print(f"preparing {args.stores} stores and {customers} customers ...", flush=True)
    world = prepare(url, stores=args.stores, customers=customers)
    try:
        start_servers(world, args.processes, env)
        before = [cpu_seconds(process.pid) for process in world.processes]
        tally, achieved = uvloop.run(
            run_load(world, rate=args.rate, duration=args.duration, ready_every=args.ready_every)
        )
        after = [cpu_seconds(process.pid) for process in world.processes]
        report(
            "PostgreSQL + Redis" if args.backend == "postgres" else "SQLite, in-process bus",
            tally,
            achieved,
            args,
        )
        print_cpu(before, after, len(tally.placed_at))
    finally:
        for process in world.processes:
            process.terminate()
        for process in world.processes:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
        if args.backend == "postgres":
            with admin.connect() as connection:
                connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            admin.dispose()
    return 0


def add_service_options(parser: argparse.ArgumentParser) -> None:
    """--postgres-url and --redis-url, defaulting to the test services' variables."""
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get(
            "VOICECART_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        ),
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("VOICECART_TEST_REDIS_URL", "redis://127.0.0.1:6379/15"),
    )


def _with_search_path(url: str, schema: str) -> str:
    from sqlalchemy.engine import make_url

    return (
        make_url(url)
        .update_query_dict({"options": f"-csearch_path={schema}"})
        .render_as_string(hide_password=False)
    )


if __name__ == "__main__":
    sys.exit(main())
