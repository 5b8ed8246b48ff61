"""Sync routes end their database transaction in their own thread, before they return.

FastAPI runs a sync route in a thread, then validates its response in another thread hop, and
only then closes the request's session (server.deps.get_session). A route that returned with
a read transaction open would keep its pooled connection while it waits for that thread; when
every request thread waits for a connection, nothing moves until the pool times out (seen in
benchmarks/pickup_bench.py as a stalled worker). So the routes of our routers end it first:
commit when the route returned (the use cases committed their writes already; what is left is
a read, and a commit keeps the loaded objects readable for serialisation), rollback when it
raised.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from fastapi.routing import APIRoute
from sqlalchemy.orm import Session

from orders.db import end_read


class SessionRoute(APIRoute):
    """An APIRoute whose sync endpoint ends the request's session transaction itself."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if not inspect.iscoroutinefunction(endpoint):
            endpoint = ending_transactions(endpoint)
        super().__init__(path, endpoint, **kwargs)


def ending_transactions(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """The endpoint, ending the transaction of every Session argument before returning."""

    @functools.wraps(endpoint)
    def run(*args: Any, **kwargs: Any) -> Any:
        sessions = [value for value in (*args, *kwargs.values()) if isinstance(value, Session)]
        try:
            result = endpoint(*args, **kwargs)
        except BaseException:
            for session in sessions:
                session.rollback()
            raise
        for session in sessions:
            end_read(session)
        return result

    return run
