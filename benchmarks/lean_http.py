"""A lean HTTP/1.1 keep-alive client for load generation on the same machine as the server.

httpx spends about 1.8 ms of CPU per request on this machine, several times what the server
spends on a trivial endpoint; on 2 cores the load generator then takes the CPU the server
needs. This client writes a request with one `write` and reads the response by its
Content-Length over asyncio streams (run on uvloop by the benchmarks): about 0.1 ms per
request. It handles exactly what the VoiceCart API sends (Content-Length bodies; chunked
only for event streams, read by server_sent_events) and refuses anything else loudly.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass


class ProtocolError(Exception):
    """The server sent something this client does not handle."""


@dataclass(frozen=True)
class Response:
    """Status and body of one response."""

    status: int
    body: bytes

    def json(self) -> object:
        """The body parsed as JSON."""
        return json.loads(self.body)


IDLE_LIMIT = 4.0
"""Seconds a connection may sit idle before it is replaced: uvicorn closes keep-alive
connections idle for 5 s, and a request sent as it closes one is lost (IncompleteReadError)."""


class Connection:
    """One keep-alive connection; one request at a time."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str, port: int
    ):
        self._reader = reader
        self._writer = writer
        self._address = (host, port)
        self._used = time.monotonic()

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        """Connect to host:port."""
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer, host, port)

    async def _fresh(self) -> None:
        """Reconnect when the server may have closed the idle connection."""
        if time.monotonic() - self._used > IDLE_LIMIT:
            await self.close()
            self._reader, self._writer = await asyncio.open_connection(*self._address)

    async def request(
        self,
        method: str,
        path: str,
        *,
        headers: dict[str, str] | None = None,
        json_body: object = None,
    ) -> Response:
        """Send one request and read its whole response."""
        await self._fresh()
        body = b"" if json_body is None else json.dumps(json_body).encode()
        extra = {**(headers or {})}
        if json_body is not None:
            extra["Content-Type"] = "application/json"
        if body or method in {"POST", "PUT", "PATCH"}:
            extra["Content-Length"] = str(len(body))
        host, port = self._address
        self._writer.write(_head(method, path, f"{host}:{port}", extra) + body)
        head = (await self._reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        status, header_block = _status(head)
        length = None
        for line in header_block.split("\r\n"):
            name, _, value = line.partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding":
                raise ProtocolError(f"transfer-encoding {value.strip()} is not handled")
        if length is None:
            raise ProtocolError("a response without Content-Length")
        body = await self._reader.readexactly(length)
        self._used = time.monotonic()
        return Response(status, body)

    async def close(self) -> None:
        """Close the connection."""
        self._writer.close()
        with contextlib.suppress(ConnectionError):
            await self._writer.wait_closed()


async def server_sent_events(
    host: str, port: int, path: str, headers: dict[str, str] | None = None
) -> AsyncIterator[str]:
    """The `data` of each event of a server-sent event stream, as the events arrive."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        extra = {"Accept": "text/event-stream", **(headers or {})}
        writer.write(_head("GET", path, f"{host}:{port}", extra))
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        status, _ = _status(head)
        if status != 200:
            raise ProtocolError(f"GET {path}: HTTP {status}")
        pieces = _chunks(reader) if "transfer-encoding: chunked" in head.lower() else _raw(reader)
        pending = b""  # bytes: a chunk may end inside a UTF-8 character
        async for piece in pieces:
            pending += piece.replace(b"\r\n", b"\n")
            while b"\n\n" in pending:
                event, pending = pending.split(b"\n\n", 1)
                lines = event.decode().split("\n")
                data = [line[6:] for line in lines if line.startswith("data: ")]
                if data:
                    yield "\n".join(data)
    finally:
        writer.close()


async def _chunks(reader: asyncio.StreamReader) -> AsyncIterator[bytes]:
    """The pieces of a chunked body."""
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        if size == 0:
            return
        yield (await reader.readexactly(size + 2))[:-2]


async def _raw(reader: asyncio.StreamReader) -> AsyncIterator[bytes]:
    """A body without framing, until the server closes."""
    while piece := await reader.read(65536):
        yield piece


def address(url: str) -> tuple[str, int, str]:
    """http://host:port/path -> (host, port, "/path")."""
    location, _, path = url.removeprefix("http://").partition("/")
    host, _, port = location.partition(":")
    return host, int(port), "/" + path


def _head(method: str, path: str, host: str, headers: dict[str, str]) -> bytes:
    """The request line and headers of one request."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _status(head: str) -> tuple[int, str]:
    """The status code of a response head, and its header lines."""
    status_line, _, header_block = head.partition("\r\n")
    parts = status_line.split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise ProtocolError(f"not an HTTP/1.x status line: {status_line!r}")
    return int(parts[1]), header_block
