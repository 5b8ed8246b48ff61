"""The floor under pickup_bench: a skeleton app under the same load.

    .venv/bin/python benchmarks/pickup_floor.py [--rate 200 --duration 30 --processes 2]
        [--app async|sync|outbox|full] [--ready-every 10]

Same machine, same load shape as benchmarks/pickup_bench.py on PostgreSQL + Redis (one lane
per customer adding a latte and placing it for pickup at a fixed schedule, 50 stores, a staff
stream per store spread over the processes), against an app that does only what no
implementation can skip (its module doc). What it reaches is an upper bound for VoiceCart's
pickup path on this machine with this stack; its CPU per order is a lower bound.
The skeletons: `async` (pickup_floor_app.py, the fastest build: async routes, raw psycopg),
`sync` (pickup_floor_sync_app.py, the same work in VoiceCart's architecture: sync routes
in the thread pool, SQLAlchemy Core), `outbox` (pickup_floor_outbox_app.py, sync with #7's
outbox and dispatchers) and `full` (pickup_floor_full_app.py, outbox serving every request
pickup_bench sends: this app runs pickup_bench's own load and report, readies and shopper
streams included, and prints how busy the machine's cores were).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from urllib.parse import quote

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import psycopg  # noqa: E402
import uvloop  # noqa: E402

from benchmarks.cpu import MachineBusy, busy_share, cpu_seconds, machine_busy  # noqa: E402
from benchmarks.lean_http import Connection, ProtocolError, server_sent_events  # noqa: E402
from benchmarks.orders_bench import free_port  # noqa: E402
from benchmarks.pickup_bench import (  # noqa: E402
    LATE,
    LATTE,
    World,
    _stamp,
    percentile,
    print_cpu,
    report,
    run_load,
)
from benchmarks.pickup_floor_app import SCHEMA, token_hash  # noqa: E402

TARGET_MS = 250.0


def prepare(url: str, schema: str, *, stores: int, customers: int) -> list[str]:
    """Create the schema, its tables and the customers; return their tokens."""
    tokens = [secrets.token_urlsafe(24) for _ in range(customers)]
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
        connection.execute(f'SET search_path TO "{schema}"')
        connection.execute(SCHEMA)
        with connection.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO customers (token_hash, store_id) VALUES (%s, %s)",
                [(token_hash(t), f"s{i % stores:02d}") for i, t in enumerate(tokens)],
            )
        every = [f"s{i:02d}" for i in range(stores)]
        connection.execute("INSERT INTO staff VALUES (%s, %s)", (STAFF_EMAIL, every))
        connection.execute("INSERT INTO stores (id) SELECT unnest(%s::text[])", (every,))
    return tokens


APPS = {
    "async": "benchmarks.pickup_floor_app:app",
    "sync": "benchmarks.pickup_floor_sync_app:app",
    "outbox": "benchmarks.pickup_floor_outbox_app:app",
    "full": "benchmarks.pickup_floor_full_app:app",
}
"""The skeletons: the fastest build (async, raw psycopg), VoiceCart's (threads, SQLAlchemy),
VoiceCart's with the delivery design #7 requires (outbox rows, dispatchers claiming them),
and that one serving all of pickup_bench's requests (staff presses, shopper streams)."""
STAFF_EMAIL = "bench@example.com"


def start(
    count: int, env: dict[str, str], *, app: str
) -> tuple[list[subprocess.Popen[bytes]], list[int]]:
    """Start the skeleton's uvicorn processes; wait until each accepts connections."""
    processes, ports = [], []
    for _ in range(count):
        port = free_port()
        command = [sys.executable, "-m", "uvicorn", APPS[app]]
        command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
        command += ["--no-access-log"]
        processes.append(subprocess.Popen(command, cwd=REPO, env={**os.environ, **env}))
        ports.append(port)
    for port in ports:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"port {port} did not open") from None
                time.sleep(0.2)
    return processes, ports


async def load(
    ports: list[int], tokens: list[str], *, stores: int, rate: float, duration: float
) -> tuple[dict[int, float], dict[int, float], Counter[str], Counter[str], float]:
    """Streams, lanes, drain: placed_at and seen times by order, ids seen, errors, rate."""
    placed_at: dict[int, float] = {}
    seen: dict[int, float] = {}
    ids: Counter[str] = Counter()
    errors: Counter[str] = Counter()

    async def stream(port: int, store: str) -> None:
        async for data in server_sent_events("127.0.0.1", port, f"/staff/stream?store={store}"):
            event = json.loads(data)
            ids[event["id"]] += 1
            seen.setdefault(int(event["order_id"]), time.time())

    async def lane(index: int, slots: list[float]) -> None:
        port = ports[index % len(ports)]
        store = f"s{index % stores:02d}"
        auth = {"Authorization": f"Bearer {tokens[index]}"}
        client = await Connection.open("127.0.0.1", port)
        try:
            for number, at in enumerate(slots):
                await asyncio.sleep(max(0.0, at - time.monotonic()))
                if time.monotonic() > at + LATE:
                    errors["skipped (behind schedule)"] += 1
                    continue
                try:
                    await client.request("POST", "/cart/items", json_body=LATTE, headers=auth)
                    answer = await client.request(
                        "POST",
                        "/pickup/orders",
                        json_body={"store_id": store},
                        headers={**auth, "Idempotency-Key": f"{index}-{number}"},
                    )
                except (OSError, asyncio.IncompleteReadError, ProtocolError) as error:
                    errors[type(error).__name__] += 1
                    client = await Connection.open("127.0.0.1", port)
                    continue
                if answer.status != 201:
                    errors[f"HTTP {answer.status}"] += 1
                    continue
                order = answer.json()
                assert isinstance(order, dict)
                placed_at[order["id"]] = _stamp(order["placed_at"])
        finally:
            await client.close()

    readers = [
        asyncio.create_task(stream(ports[i % len(ports)], f"s{i:02d}")) for i in range(stores)
    ]
    await asyncio.sleep(1)
    begin = time.monotonic() + 0.5
    schedule: dict[int, list[float]] = {}
    for number in range(int(rate * duration)):
        schedule.setdefault(number % len(tokens), []).append(begin + number / rate)
    await asyncio.gather(*(lane(i, slots) for i, slots in schedule.items()))
    achieved = len(placed_at) / (time.monotonic() - begin)
    await asyncio.sleep(3)
    for reader in readers:
        reader.cancel()
    await asyncio.gather(*readers, return_exceptions=True)
    return placed_at, seen, ids, errors, achieved


def main() -> int:
    """Set up, run, report, drop the schema."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--stores", type=int, default=50)
    parser.add_argument("--pool", type=int, default=10, help="connections per process")
    parser.add_argument(
        "--app",
        choices=sorted(APPS),
        default="async",
        help="async: raw psycopg on the event loop; sync: VoiceCart's threads and SQLAlchemy;"
        " outbox: sync with a transactional outbox and dispatchers",
    )
    parser.add_argument(
        "--ready-every", type=int, default=10, help="full: one customer in N gets readied"
    )
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("VOICECART_TEST_REDIS_URL", "redis://127.0.0.1:6379/15"),
    )
    args = parser.parse_args()
    schema = f"floor_{uuid.uuid4().hex[:12]}"
    tokens = prepare(args.postgres_url, schema, stores=args.stores, customers=int(2 * args.rate))
    separator = "&" if "?" in args.postgres_url else "?"
    url = f"{args.postgres_url}{separator}options={quote(f'-csearch_path={schema}')}"
    env = {
        "FLOOR_DATABASE_URL": url,
        "FLOOR_REDIS_URL": args.redis_url,
        "FLOOR_PREFIX": schema,
        "FLOOR_POOL": str(args.pool),
        "PYTHONPATH": str(REPO),
    }
    processes, ports = start(args.processes, env, app=args.app)
    try:
        if args.app == "full":
            return full_load(processes, ports, tokens, args)
        before = [cpu_seconds(p.pid) for p in processes]
        placed_at, seen, ids, errors, achieved = uvloop.run(
            load(ports, tokens, stores=args.stores, rate=args.rate, duration=args.duration)
        )
        after = [cpu_seconds(p.pid) for p in processes]
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(15)
        with psycopg.connect(args.postgres_url, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')
    latencies = [1000 * (seen[o] - placed_at[o]) for o in placed_at if o in seen]
    print(f"\n== floor ({args.app} skeleton): {args.rate:g} orders/s for {args.duration:g} s,")
    print(f"   {args.stores} stores, {args.processes} process(es), PostgreSQL + Redis")
    print(f"orders placed            {len(placed_at)} ({achieved:.1f}/s achieved)")
    print(f"errors                   {dict(errors) or 0}")
    if latencies:
        p99 = percentile(latencies, 99)
        print(
            f"placed -> staff stream   p50 {percentile(latencies, 50):7.1f} ms  "
            f"p95 {percentile(latencies, 95):7.1f} ms  p99 {p99:7.1f} ms  "
            f"mean {statistics.fmean(latencies):7.1f} ms   "
            f"p99 <= {TARGET_MS:.0f} ms: {'yes' if p99 <= TARGET_MS else 'no'}"
        )
    print(f"lost events              {len([o for o in placed_at if o not in seen])}")
    print(f"duplicated events        {sum(c - 1 for c in ids.values() if c > 1)}")
    print_cpu(before, after, len(placed_at))
    return 0


def full_load(
    processes: list[subprocess.Popen[bytes]],
    ports: list[int],
    tokens: list[str],
    args: argparse.Namespace,
) -> int:
    """pickup_bench's own load and report (readies and shopper streams included)."""
    stores = [f"s{i:02d}" for i in range(args.stores)]
    world = World("", stores, tokens, STAFF_EMAIL, bases=[f"http://127.0.0.1:{p}" for p in ports])
    before = [cpu_seconds(p.pid) for p in processes]
    readings: list[MachineBusy] = []
    stop = threading.Event()
    sampler = threading.Thread(target=_sample, args=(readings, stop), daemon=True)
    sampler.start()
    tally, achieved = uvloop.run(
        run_load(world, rate=args.rate, duration=args.duration, ready_every=args.ready_every)
    )
    stop.set()
    sampler.join()
    after = [cpu_seconds(p.pid) for p in processes]
    args.backend = "postgres"
    report("floor (full skeleton), PostgreSQL + Redis", tally, achieved, args)
    print_cpu(before, after, len(tally.placed_at))
    # run_load orders from 2.5 s on; the first 5 s of orders warm up, the drain is left out
    loaded = readings[7 : int(2.5 + args.duration)]
    if len(loaded) > 1:
        print(
            f"machine busy             {busy_share(loaded[0], loaded[-1]):.0%} of its"
            f" {os.cpu_count()} cores"
            f" over {loaded[-1].wall - loaded[0].wall:.0f} s of load (every process)"
        )
    return 0


def _sample(readings: list[MachineBusy], stop: threading.Event) -> None:
    """A reading of the machine's busy time every second until stopped."""
    while True:
        readings.append(machine_busy())
        if stop.wait(1.0):
            return


if __name__ == "__main__":
    sys.exit(main())
