"""Route dependencies: only those that block on I/O are sync (each sync one is a thread hop)."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, APIWebSocketRoute
from starlette.routing import BaseRoute

from server.staff_auth import staff_from_cookie

BLOCKING = {staff_from_cookie}
"""Sync on purpose: they wait for the database, which must not happen on the event loop."""


def runs_on_loop(call: Callable[..., Any]) -> bool:
    """Whether FastAPI awaits this dependency on the event loop (no thread hop)."""
    if inspect.isroutine(call):
        return inspect.iscoroutinefunction(call) or inspect.isasyncgenfunction(call)
    method = getattr(call, "__call__", None)  # noqa: B004 - an instance with __call__
    return method is not None and inspect.iscoroutinefunction(method)


def dependencies(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    """Every dependency callable below a route, depth first."""
    for sub in dependant.dependencies:
        if sub.call is not None:
            yield sub.call
        yield from dependencies(sub)


def api_routes(routes: list[BaseRoute]) -> Iterator[APIRoute | APIWebSocketRoute]:
    """The app's routes, inside included routers too (FastAPI keeps those as they were)."""
    for route in routes:
        if isinstance(route, APIRoute | APIWebSocketRoute):
            yield route
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from api_routes(included.routes)


def test_only_blocking_dependencies_are_sync(app: FastAPI) -> None:
    routes = list(api_routes(app.routes))
    assert len(routes) > 40
    seen = {call for route in routes for call in dependencies(route.dependant)}
    assert staff_from_cookie in seen  # the walk reaches nested dependencies
    hopping = sorted(
        getattr(call, "__qualname__", repr(call))
        for call in seen
        if call not in BLOCKING and not runs_on_loop(call)
    )
    assert hopping == []


def test_the_check_tells_sync_from_async() -> None:
    def plain() -> None: ...

    async def awaited() -> None: ...

    class AwaitedInstance:
        async def __call__(self) -> None: ...

    assert not runs_on_loop(plain)
    assert runs_on_loop(awaited)
    assert runs_on_loop(AwaitedInstance())
