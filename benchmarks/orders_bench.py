"""Checkout throughput and latency over HTTP, against the framework ceiling of the same app.

    python benchmarks/orders_bench.py [--seconds 10] [--clients 64] [--postgres-url URL]

For each database it starts real uvicorn servers (subprocesses on 127.0.0.1): SQLite with one
worker, PostgreSQL with two. 64 concurrent clients (asyncio, one keep-alive connection each,
benchmarks/lean_http.py) each act as their own customer and loop: add two items (one with
options), then check out with a fresh Idempotency-Key and confirm=true. In the same run, the
same clients hit GET /v1/health, a trivial JSON endpoint of the same app: the framework ceiling
on this machine.

Printed: checkouts/s, API requests/s (3 per checkout), p50/p99 latency of the checkout request
and of the whole flow, and the ratio of the checkout run's request rate to the ceiling's
(both are requests/s through the same app, client and machine). PASS/FAIL against the
targets for PostgreSQL with 2 workers: >= 300 checkouts/s, p99 <= 100 ms, ratio >= 0.25.
Then the floors (benchmarks/floors.py): the SQL round trips of one flow, the CPU of one round
trip, and the lower bound of CPU per checkout they give with what the run measured.
The PostgreSQL part runs in a fresh schema of the database at --postgres-url (default:
$VOICECART_TEST_POSTGRES_URL), dropped afterwards; without a URL it is skipped.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import uvloop
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.cpu import cpu_seconds  # noqa: E402
from benchmarks.floors import Floors, measure_floors  # noqa: E402
from benchmarks.lean_http import Connection, address  # noqa: E402
from catalog.demo import load_demo_store  # noqa: E402
from orders.catalog_store import load_catalog_into  # noqa: E402
from orders.customers import create_customer  # noqa: E402
from orders.db import make_engine, make_sessions, sqlite_url, upgrade  # noqa: E402

STORE = "cafe-main-street"
ITEMS = (
    {"product_id": "latte", "options": {"size": "venti", "milk": "oat"}},
    {"product_id": "butter-croissant", "quantity": 2},
)
TARGET_CHECKOUTS = 300.0
TARGET_P99_MS = 100.0
TARGET_RATIO = 0.25


@dataclass
class Run:
    """What one timed run measured."""

    seconds: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)
    """CPU seconds spent in the window by the server, PostgreSQL and this client."""
    flows: int = 0
    requests: int = 0
    errors: int = 0
    latencies: list[float] = field(default_factory=list)
    """Per measured unit (a health request, or a checkout request), in seconds."""
    flow_latencies: list[float] = field(default_factory=list)

    def rate(self) -> float:
        """Units per second."""
        return self.flows / self.seconds if self.seconds else 0.0

    def request_rate(self) -> float:
        """HTTP requests per second."""
        return self.requests / self.seconds if self.seconds else 0.0


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100) in milliseconds."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index] * 1000


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def prepare(url: str, clients: int) -> list[str]:
    """Migrate, load the demo catalog, create one customer per client; return their tokens."""
    engine = make_engine(url, pool_size=2)
    try:
        upgrade(engine)
        with make_sessions(engine)() as session:
            load_catalog_into(session, load_demo_store(), source="benchmark")
            return [
                create_customer(session, name=f"bench {n}", home_store_id=STORE)[1]
                for n in range(clients)
            ]
    finally:
        engine.dispose()


@contextmanager
def server(url: str, workers: int) -> Iterator[tuple[str, int]]:
    """A uvicorn subprocess serving the app on 127.0.0.1; yields its base URL and pid."""
    port = free_port()
    env = {**os.environ, "VOICECART_DATABASE_URL": url, "VOICECART_DB_POOL_SIZE": "20"}
    command = [
        sys.executable, "-m", "uvicorn", "server.app:app_from_environment", "--factory",
        "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
        "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip
    process = subprocess.Popen(command, cwd=REPO, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base}/v1/health", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("the server did not start") from None
                time.sleep(0.2)
        yield base, process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)


async def drive(
    clients: int,
    seconds: float,
    warmup: float,
    body: Callable[[int, Run], Awaitable[None]],
    pid: int,
) -> Run:
    """Run `body` in `clients` concurrent loops; only what ends inside the window counts."""
    run = Run()
    ignored = Run()
    start = time.perf_counter() + warmup
    stop = start + seconds

    async def loop(index: int) -> None:
        while time.perf_counter() < stop:
            await body(index, run if time.perf_counter() >= start else ignored)

    async def sample() -> None:
        await asyncio.sleep(max(0.0, start - time.perf_counter()))
        before = cpu_seconds(pid)
        await asyncio.sleep(max(0.0, stop - time.perf_counter()))
        after = cpu_seconds(pid)
        run.cpu = {name: after[name] - before[name] for name in after}

    await asyncio.gather(sample(), *(loop(i) for i in range(clients)))
    run.seconds = seconds
    return run


async def measure(
    base: str, pid: int, tokens: list[str], seconds: float, warmup: float
) -> tuple[Run, Run]:
    """The ceiling (GET /v1/health), then the checkout flow, with the same clients.

    Each simulated client has its own keep-alive connection (benchmarks/lean_http.py: httpx
    cost the client ~1.8 ms of CPU per request, several times the server's trivial endpoint,
    and took that CPU from the server on this 2-core machine).
    """
    host, port, _ = address(base)
    clients = [await Connection.open(host, port) for _ in tokens]
    try:

        async def health(index: int, run: Run) -> None:
            began = time.perf_counter()
            response = await clients[index].request("GET", "/v1/health")
            run.latencies.append(time.perf_counter() - began)
            run.requests += 1
            run.flows += 1
            run.errors += response.status != 200

        async def shop(index: int, run: Run) -> None:
            client, auth = clients[index], {"Authorization": f"Bearer {tokens[index]}"}
            began = time.perf_counter()
            added = [
                await client.request("POST", "/v1/cart/items", json_body=item, headers=auth)
                for item in ITEMS
            ]
            codes = [response.status for response in added]
            headers = {**auth, "Idempotency-Key": uuid.uuid4().hex}
            checkout_began = time.perf_counter()
            response = await client.request(
                "POST", "/v1/checkout", json_body={"confirm": True}, headers=headers
            )
            ended = time.perf_counter()
            run.latencies.append(ended - checkout_began)
            run.flow_latencies.append(ended - began)
            run.requests += 3
            run.flows += 1
            run.errors += sum(code != 200 for code in codes) + (response.status != 201)

        ceiling = await drive(len(tokens), seconds, warmup, health, pid)
        checkout = await drive(len(tokens), seconds, warmup, shop, pid)
    finally:
        for client in clients:
            await client.close()
    return ceiling, checkout


@contextmanager
def postgres_schema(url: str) -> Iterator[str]:
    """A fresh schema on the PostgreSQL server; yields a URL that uses it."""
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        scoped = make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
        yield scoped.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _cpu_per(run: Run, units: int) -> str:
    """CPU milliseconds per unit, by process group."""
    if not units:
        return "n/a"
    parts = [f"{name} {seconds * 1000 / units:.2f}" for name, seconds in run.cpu.items()]
    return ", ".join(parts) + " ms"


def report(name: str, ceiling: Run, checkout: Run, *, judge: bool) -> bool:
    """Print one database's figures; with `judge`, PASS/FAIL against the targets."""
    top = ceiling.request_rate()
    ratio = checkout.request_rate() / top if top else 0.0
    flow_ratio = checkout.rate() / top if top else 0.0
    p99 = percentile(checkout.latencies, 99)
    lat = checkout.latencies
    print(f"\n== {name}")
    print(f"ceiling, GET /v1/health   {top:8.1f} req/s        errors {ceiling.errors}")
    print(
        f"  latency                 p50 {percentile(ceiling.latencies, 50):7.1f} ms"
        f"   p99 {percentile(ceiling.latencies, 99):7.1f} ms"
    )
    print(f"  CPU per request         {_cpu_per(ceiling, ceiling.requests)}")
    print(
        f"checkout flow             {checkout.rate():8.1f} checkouts/s  "
        f"({checkout.request_rate():.1f} req/s)   errors {checkout.errors}"
    )
    print(
        f"  checkout request        p50 {percentile(lat, 50):7.1f} ms   p99 {p99:7.1f} ms"
        f"   mean {statistics.fmean(lat) * 1000 if lat else 0:.1f} ms"
    )
    print(
        f"  whole flow (3 requests) p50 {percentile(checkout.flow_latencies, 50):7.1f} ms"
        f"   p99 {percentile(checkout.flow_latencies, 99):7.1f} ms"
    )
    print(f"  CPU per checkout        {_cpu_per(checkout, checkout.flows)}")
    print(
        f"ratio to the ceiling      {ratio:.3f} (requests/s)   "
        f"{flow_ratio:.3f} (checkouts/s over health requests/s)"
    )
    if not judge:
        return True
    checks = [
        (f"checkouts/s >= {TARGET_CHECKOUTS:.0f}", checkout.rate() >= TARGET_CHECKOUTS),
        (f"checkout p99 <= {TARGET_P99_MS:.0f} ms", p99 <= TARGET_P99_MS),
        (f"ratio (requests/s) >= {TARGET_RATIO}", ratio >= TARGET_RATIO),
        ("no errors", checkout.errors == 0 and ceiling.errors == 0),
    ]
    for label, passed in checks:
        print(f"  {'PASS' if passed else 'FAIL'}  {label}")
    return all(passed for _, passed in checks)


def bench(url: str, workers: int, args: argparse.Namespace) -> tuple[Run, Run, Floors]:
    """Prepare the database, serve it, measure; then the floors, in this process."""
    tokens = prepare(url, args.clients)
    with server(url, workers) as (base, pid):
        ceiling, checkout = uvloop.run(measure(base, pid, tokens, args.seconds, args.warmup))
    return ceiling, checkout, measure_floors(url, tokens[0], ITEMS)


def report_floors(floors: Floors, ceiling: Run, checkout: Run, workers: int) -> None:
    """What a checkout must cost at least here, and the rate that allows (see floors.py)."""
    flows, requests = checkout.flows, ceiling.requests
    database = checkout.cpu.get("postgres", 0.0) * 1000 / flows if flows else 0.0
    http = ceiling.cpu.get("server", 0.0) * 1000 / requests if requests else 0.0
    cpus = os.cpu_count() or 1
    floor = database + 3 * http + floors.round_trips * floors.driver_ms
    print(
        f"floors, measured here      {floors.round_trips} SQL round trips in "
        f"{floors.transactions} transactions per checkout flow (request path)"
    )
    print(
        f"  per round trip, client   {floors.driver_ms:.3f} ms raw driver, "
        f"{floors.core_ms:.3f} ms SQLAlchemy Core"
    )
    print(f"  per trivial request      {http:.2f} ms HTTP server (x3 per flow)")
    print(f"  database per flow        {database:.2f} ms (as measured in the checkout run)")
    print(
        f"  lower bound per flow     {floor:.2f} ms of CPU -> at most "
        f"{cpus * 1000 / floor:.0f} checkouts/s on {cpus} CPUs, with a raw driver and no ORM,"
        f" no client, {workers} worker(s)"
        if floor
        else "  lower bound              n/a"
    )


def main() -> int:
    """Run SQLite (1 worker) and PostgreSQL (2 workers); exit 1 if a PostgreSQL target fails."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--seconds", type=float, default=10.0, help="measured seconds per run (default: 10)"
    )
    parser.add_argument(
        "--warmup", type=float, default=2.0, help="unmeasured seconds first (default: 2)"
    )
    parser.add_argument("--clients", type=int, default=64, help="concurrent clients (default: 64)")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("VOICECART_TEST_POSTGRES_URL"),
        help="PostgreSQL server for the 2-worker run (default: $VOICECART_TEST_POSTGRES_URL)",
    )
    args = parser.parse_args()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"{args.clients} clients, {args.seconds:.0f} s measured after {args.warmup:.0f} s "
        f"warm-up; {os.cpu_count()} CPUs, load average {load} before the run"
    )
    with tempfile.TemporaryDirectory() as folder:
        ceiling, checkout, floors = bench(sqlite_url(folder), 1, args)
    report("SQLite, 1 worker", ceiling, checkout, judge=False)
    report_floors(floors, ceiling, checkout, 1)
    if not args.postgres_url:
        print("\nPostgreSQL skipped: pass --postgres-url or set VOICECART_TEST_POSTGRES_URL")
        return 0
    with postgres_schema(args.postgres_url) as url:
        ceiling, checkout, floors = bench(url, 2, args)
    passed = report("PostgreSQL, 2 workers", ceiling, checkout, judge=True)
    report_floors(floors, ceiling, checkout, 2)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
