"""Instructions one server process spends per pickup order, counted by callgrind: a steady A/B.

    .venv/bin/python benchmarks/server_instructions.py [--backend postgres] [--orders 60]
        [--ready-every 10]

This machine's speed wanders by tens of percent within an hour, so CPU seconds from
benchmarks/pickup_bench.py cannot show a change of a few percent. Instructions can: this
script starts one real server (uvicorn, `server.app:app_from_environment`) under
`valgrind --tool=callgrind` with counting off, connects a staff screen to every store and a
shopper stream to every customer, warms up with 20 orders, then counts while it places
`--orders` orders one after another (add to cart + place for pickup, as pickup_bench's
shoppers do), has staff accept, start and ready every `--ready-every`-th, and waits until
every event has arrived on its streams (so the dispatcher's work is in the count).

Printed: instructions per order, next to the baseline counted the same way in a fresh server
process: as many `GET /v1/health` requests (the HTTP floor of this stack) as the orders made
requests. Repeatable to about 2-3% (the dispatcher's batching follows the timing).
Needs valgrind; slow (the server runs ~50x slower under callgrind): 60 orders take ~1 min.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import uvloop  # noqa: E402

from benchmarks.lean_http import Connection, address  # noqa: E402
from benchmarks.orders_bench import free_port, postgres_schema  # noqa: E402
from benchmarks.pickup_bench import (  # noqa: E402
    READYING,
    StaffConnections,
    Tally,
    World,
    add_and_place,
    add_service_options,
    prepare,
    read_stream,
    server_command,
    server_env,
    staff_login,
    wait_until_answering,
)
from orders.db import sqlite_url  # noqa: E402

WARM_UP = 20
STORES = 5
CUSTOMERS = 10


class Counted:
    """A server process under callgrind, counting only between `on` and `off`."""

    def __init__(self, url: str, env: dict[str, str], out: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.out = out
        valgrind = ["valgrind", "--tool=callgrind", "--instr-atstart=no"]
        self.process = subprocess.Popen(
            [*valgrind, f"--callgrind-out-file={out}", *server_command(self.port)],
            cwd=REPO,
            env=server_env(url, env),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def wait_until_up(self) -> None:
        """Wait (minutes, under valgrind) until the server answers."""
        wait_until_answering(self.base, timeout=600)

    def counting(self, on: bool) -> None:
        """Switch instruction counting on or off."""
        switch = "on" if on else "off"
        subprocess.run(
            ["callgrind_control", "-i", switch, str(self.process.pid)],
            check=True,
            capture_output=True,
        )

    def stop(self) -> int:
        """Stop the server; the instructions counted."""
        self.process.terminate()
        self.process.wait(300)
        summary = subprocess.run(
            ["callgrind_annotate", str(self.out)], capture_output=True, text=True, check=True
        ).stdout
        total = next(line for line in summary.splitlines() if "PROGRAM TOTALS" in line)
        return int(total.split()[0].replace(",", ""))


async def drive(world: World, server: Counted, orders: int, ready_every: int) -> int:
    """Warm up, then count the orders; returns how many requests the counted orders made."""
    tally, stop = Tally(), asyncio.Event()
    cookie, pressing = await staff_login(server.base, world.staff_email)
    staff = StaffConnections(server.base, pressing)
    readers = [
        asyncio.create_task(
            read_stream(f"{server.base}/staff/stream?store={s}", cookie, tally, stop)
        )
        for s in world.stores
    ] + [
        asyncio.create_task(
            read_stream(f"{server.base}/v1/events", {"Authorization": f"Bearer {t}"}, tally, stop)
        )
        for t in world.tokens
    ]
    host, port, _ = address(server.base)
    connections = [await Connection.open(host, port) for _ in world.tokens]
    try:
        await asyncio.sleep(5)
        place = functools.partial(
            _orders,
            world,
            connections=connections,
            staff=staff,
            tally=tally,
            ready_every=ready_every,
        )
        await place(numbers=range(WARM_UP))
        await _settled(tally)
        server.counting(True)
        requests = await place(numbers=range(WARM_UP, WARM_UP + orders))
        await _settled(tally)
        server.counting(False)
    finally:
        stop.set()
        for reader in readers:
            reader.cancel()
        await staff.close()
        for connection in connections:
            await connection.close()
    return requests


async def _orders(
    world: World,
    *,
    connections: list[Connection],
    staff: StaffConnections,
    tally: Tally,
    numbers: range,
    ready_every: int,
) -> int:
    """Place these orders one after another; the requests made."""
    requests = 0
    for number in numbers:
        index = number % len(world.tokens)
        store = world.stores[index % len(world.stores)]
        answer = await add_and_place(
            connections[index], world.tokens[index], store, key=f"count-{number}"
        )
        if answer.status != 201:
            raise RuntimeError(f"place: HTTP {answer.status} {answer.body!r}")
        order = answer.json()
        assert isinstance(order, dict)
        order_id = int(order["id"])
        tally.placed_at[order_id] = 0.0
        requests += 2
        if number % ready_every == 0:
            for action in READYING:
                status = await staff.post(f"/staff/orders/{order_id}/{action}")
                if status != 200:
                    raise RuntimeError(f"{action}: HTTP {status}")
            tally.readied.add(order_id)
            requests += 3
    return requests


async def _settled(tally: Tally) -> None:
    """Wait until every order's "placed" and every readied order's "ready" arrived."""
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        placed = all(order in tally.placed_seen for order in tally.placed_at)
        if placed and all(order in tally.ready_seen for order in tally.readied):
            return
        await asyncio.sleep(0.5)
    raise TimeoutError("events did not arrive")


async def health_requests(server: Counted, count: int) -> None:
    """The baseline: `count` trivial requests, counted."""
    host, port, _ = address(server.base)
    connection = await Connection.open(host, port)
    try:
        await connection.request("GET", "/v1/health")
        server.counting(True)
        for _ in range(count):
            await connection.request("GET", "/v1/health")
        server.counting(False)
    finally:
        await connection.close()


def run(url: str, env: dict[str, str], args: argparse.Namespace, scratch: Path) -> None:
    """Count the orders in one server process, then the baseline in a fresh one; print both."""
    world = prepare(url, stores=STORES, customers=CUSTOMERS)
    orders_out, baseline_out = scratch / "orders.out", scratch / "baseline.out"
    server = Counted(url, env, orders_out)
    try:
        server.wait_until_up()
        requests = uvloop.run(drive(world, server, args.orders, args.ready_every))
    finally:
        counted = server.stop()
    # The baseline in a fresh process of its own (its first request is not counted).
    baseline = Counted(url, env, baseline_out)
    try:
        baseline.wait_until_up()
        uvloop.run(health_requests(baseline, requests))
    finally:
        floor = baseline.stop()
    per_order = counted / args.orders
    per_floor = floor / args.orders  # `requests` health requests spread over the orders
    print(
        f"{args.backend}: {args.orders} orders, staff readied every {args.ready_every}, "
        f"{requests} requests\n"
        f"instructions per order   {per_order / 1e6:7.2f} M\n"
        f"baseline                 {per_floor / 1e6:7.2f} M  "
        f"(as many GET /v1/health per order: {requests / args.orders:.1f})\n"
        f"ratio                    {per_order / per_floor:7.1f}"
    )


def main() -> int:
    """Set up a database, count, report."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--orders", type=int, default=60)
    parser.add_argument("--ready-every", type=int, default=10, help="staff ready every N-th")
    add_service_options(parser)
    args = parser.parse_args()
    env = {"VOICECART_OUTBOX_POLL_SECONDS": "0.5"}
    with tempfile.TemporaryDirectory(prefix="server-instructions-") as scratch:
        if args.backend == "sqlite":
            run(sqlite_url(scratch), env, args, Path(scratch))
            return 0
        env |= {
            "VOICECART_REDIS_URL": args.redis_url,
            "VOICECART_EVENTS_PREFIX": f"count_{uuid.uuid4().hex[:8]}",
        }
        with postgres_schema(args.postgres_url) as url:
            run(url, env, args, Path(scratch))
    return 0


if __name__ == "__main__":
    sys.exit(main())
