"""Helpers of the staff and notification tests: an always-open catalog, real servers (a thread
or a process), an SSE reader, a webhook receiver, and staff login over HTTP."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from catalog.model import Catalog, OpeningHours, Product
from tests.orders.factories import make_catalog

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery"


def live_catalog() -> Catalog:
    """The test catalog with the café always open as "Main St", a second café "Elm St", and a
    muffin to offer when croissants run out."""
    base = make_catalog()
    cafe = base.store("cafe")
    market = base.store("market")
    assert cafe is not None
    assert market is not None
    main = replace(cafe, name="Main St", hours=OpeningHours())
    elm = replace(main, id="elm", name="Elm St")
    products: dict[str, Product] = {}
    for product in base.products.values():
        stores = product.stores
        if stores is not None and "cafe" in stores:
            stores = (*stores, "elm")
        products[product.id] = replace(product, stores=stores)
    products["muffin"] = Product(
        "muffin", "Blueberry Muffin", 350, category="Bakery", stores=("cafe", "elm")
    )
    return replace(base, stores=(market, main, elm), products=products)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_healthy(
    base: str, *, timeout: float = 30.0, process: subprocess.Popen[bytes] | None = None
) -> None:
    """Wait until GET /v1/health answers."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            if httpx.get(f"{base}/v1/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{base} did not come up")


@contextmanager
def thread_server(app: FastAPI) -> Iterator[str]:
    """Serve the app with uvicorn in a thread of this process; yields the base URL."""
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=2
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base)
        yield base
    finally:
        server.should_exit = True
        thread.join(20)


@dataclass
class ServerProcess:
    """A `uvicorn server.app:app_from_environment` process."""

    env: dict[str, str]
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        """Its base URL."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ServerProcess:
        """Start and wait until it answers."""
        command = [
            sys.executable, "-m", "uvicorn", "server.app:app_from_environment", "--factory",
            "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning",
            "--timeout-graceful-shutdown", "2",
        ]  # fmt: skip
        merged = {**os.environ, **self.env, "PYTHONPATH": str(REPO)}
        env = {name: value for name, value in merged.items() if value != ""}  # "" unsets
        self.process = subprocess.Popen(command, cwd=REPO, env=env)
        wait_healthy(self.base, process=self.process)
        return self

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it lingers."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


@dataclass(frozen=True)
class Event:
    """One Server-Sent Event and when it arrived (time.time())."""

    at: float
    event: str
    id: str
    data: dict[str, Any]


class SseReader:
    """Reads an SSE stream in a thread; events land in `events` (a queue) as they arrive."""

    def __init__(
        self,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        cookies: httpx.Cookies | None = None,
    ) -> None:
        self.events: queue.Queue[Event] = queue.Queue()
        self.status: int | None = None
        self._stop = threading.Event()
        self._client = httpx.Client(timeout=httpx.Timeout(5, read=60), cookies=cookies)
        self._connected = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(url, headers or {}), daemon=True)
        self._thread.start()
        if not self._connected.wait(15):
            raise TimeoutError(f"no answer from {url}")

    def _run(self, url: str, headers: dict[str, str]) -> None:
        try:
            with self._client.stream("GET", url, headers=headers) as response:
                self.status = response.status_code
                self._connected.set()
                event, event_id, data = "message", "", ""
                for line in response.iter_lines():
                    if self._stop.is_set():
                        return
                    if line.startswith("event: "):
                        event = line[7:]
                    elif line.startswith("id: "):
                        event_id = line[4:]
                    elif line.startswith("data: "):
                        data = line[6:]
                    elif line == "" and data:
                        self.events.put(Event(time.time(), event, event_id, json.loads(data)))
                        event, event_id, data = "message", "", ""
        except httpx.HTTPError:
            pass
        finally:
            self._connected.set()

    def next(self, event: str | None = None, *, timeout: float = 10.0) -> Event:
        """The next event (of this type, skipping others); TimeoutError after `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no {event or 'event'} within {timeout} s")
            try:
                item = self.events.get(timeout=left)
            except queue.Empty:
                continue
            if event is None or item.event == event:
                return item

    def close(self) -> None:
        """Stop reading."""
        self._stop.set()
        self._client.close()
        self._thread.join(5)


@dataclass(frozen=True)
class Received:
    """One webhook request as the receiver saw it."""

    headers: dict[str, str]
    body: bytes


class WebhookReceiver:
    """A real HTTP server on 127.0.0.1 that records POSTs; `hold` blocks the first N of them
    until `release()`, and `statuses` answers with given codes first (then 200)."""

    def __init__(self, *, hold: int = 0, statuses: list[int] | None = None) -> None:
        self.received: list[Received] = []
        self.arrived = threading.Event()
        self._release = threading.Event()
        self._hold = hold
        self._statuses = list(statuses or [])
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver._lock:
                    receiver.received.append(Received(dict(self.headers.items()), body))
                    held = len(receiver.received) <= receiver._hold
                    status = receiver._statuses.pop(0) if receiver._statuses else 200
                receiver.arrived.set()
                if held:
                    receiver._release.wait(60)
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:
                    pass

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hook"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def wait_for(self, count: int, *, timeout: float = 20.0) -> list[Received]:
        """Wait until `count` requests arrived."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.received) >= count:
                    return list(self.received)
            time.sleep(0.05)
        raise TimeoutError(f"{len(self.received)} of {count} webhook calls within {timeout} s")

    def release(self) -> None:
        """Let held requests answer."""
        self._release.set()

    def close(self) -> None:
        """Shut down."""
        self.release()
        self._server.shutdown()
        self._server.server_close()


_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def staff_login(client: httpx.Client, base: str, email: str, password: str = PASSWORD) -> str:
    """Log in through the real form; returns the session's CSRF token (from the queue page)."""
    form = client.get(f"{base}/staff/login")
    token = _CSRF.search(form.text)
    assert token is not None, form.text
    answer = client.post(
        f"{base}/staff/login",
        data={"email": email, "password": password, "csrf_token": token.group(1)},
    )
    assert answer.status_code == 303, answer.text
    page = client.get(f"{base}/staff")
    assert page.status_code == 200, page.text
    csrf = re.search(r'<meta name="csrf-token" content="([^"]+)"', page.text)
    assert csrf is not None
    return csrf.group(1)
