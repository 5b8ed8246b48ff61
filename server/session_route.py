"""Sync routes end their database transaction, and serialise their answer, in their own thread.

FastAPI runs a sync route in a thread, then validates its response in another thread hop, and
only then closes the request's session (server.deps.get_session). A route that returned with
a read transaction open would keep its pooled connection while it waits for that thread; when
every request thread waits for a connection, nothing moves until the pool times out (seen in
benchmarks/pickup_bench.py as a stalled worker). So the routes of our routers end it first:
commit when the route returned (the use cases committed their writes already; what is left is
a read, and a commit keeps the loaded objects readable for serialisation), rollback when it
raised.

The second hop is gone as well: the route's answer is validated and turned into JSON in the
route's thread, the way FastAPI would (the response model, by alias, the route's status code
unless the route or a dependency set one on the request's `Response`, and that Response's
headers). Handing work to a thread and back costs more CPU than the serialisation itself
(a sync route that returns a model: 0.31-0.37 ms per request against 0.17-0.24 ms when it
returns the finished response, on this machine).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from fastapi import Response
from fastapi.datastructures import DefaultPlaceholder
from fastapi.routing import APIRoute
from pydantic import TypeAdapter
from sqlalchemy.orm import Session
from starlette.status import HTTP_200_OK

from orders.db import end_read
from server.deps import Shopper

SUB_RESPONSE = "_voicecart_sub_response"
"""The keyword under which the wrapped endpoint receives FastAPI's per-request Response."""


class SessionRoute(APIRoute):
    """An APIRoute whose sync endpoint ends the session and serialises in its own thread."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if inspect.iscoroutinefunction(endpoint):
            super().__init__(path, endpoint, **kwargs)
            return
        answer = JsonAnswer()
        super().__init__(path, ending_transactions(endpoint, answer), **kwargs)
        answer.bind(self)


class JsonAnswer:
    """Turns what a route returned into its JSON response, as FastAPI would."""

    def __init__(self) -> None:
        self._adapter: TypeAdapter[Any] | None = None
        self._by_alias = True
        self._status = HTTP_200_OK

    def bind(self, route: APIRoute) -> None:
        """Serialise for this route, unless it asks for something FastAPI must do itself."""
        special = (
            route.response_model_include,
            route.response_model_exclude,
            route.response_model_exclude_unset,
            route.response_model_exclude_defaults,
            route.response_model_exclude_none,
        )
        if route.response_model is None or any(special):
            return
        if not isinstance(route.response_class, DefaultPlaceholder):
            return
        self._adapter = TypeAdapter(route.response_model)
        self._by_alias = route.response_model_by_alias
        self._status = route.status_code or HTTP_200_OK

    def response(self, result: Any, sub_response: Response) -> Any:
        """The finished response; `result` itself when FastAPI is to serialise it."""
        if self._adapter is None or isinstance(result, Response):
            return result
        value = self._adapter.validate_python(result, from_attributes=True)
        body = self._adapter.dump_json(value, by_alias=self._by_alias)
        answer = Response(
            body,
            status_code=sub_response.status_code or self._status,
            media_type="application/json",
        )
        answer.headers.raw.extend(sub_response.headers.raw)
        return answer


def ending_transactions(endpoint: Callable[..., Any], answer: JsonAnswer) -> Callable[..., Any]:
    """The endpoint, ending the transaction of every session argument (`sessions_in`) first."""
    own = _response_parameter(endpoint)

    @functools.wraps(endpoint)
    def run(*args: Any, **kwargs: Any) -> Any:
        sub_response: Response = kwargs[own] if own else kwargs.pop(SUB_RESPONSE)
        sessions = sessions_in((*args, *kwargs.values()))
        try:
            result = endpoint(*args, **kwargs)
        except BaseException:
            for session in sessions:
                session.rollback()
            raise
        for session in sessions:
            end_read(session)
        return answer.response(result, sub_response)

    if own is None:  # FastAPI passes its Response to one parameter: the endpoint's, or ours
        signature = inspect.signature(endpoint)
        extra = inspect.Parameter(SUB_RESPONSE, inspect.Parameter.KEYWORD_ONLY, annotation=Response)
        run.__signature__ = signature.replace(  # type: ignore[attr-defined]
            parameters=[*signature.parameters.values(), extra]
        )
    return run


def sessions_in(arguments: tuple[Any, ...]) -> list[Session]:
    """The sessions among a route's arguments: a Session, or a Shopper's."""
    found = []
    for value in arguments:
        if isinstance(value, Session):
            found.append(value)
        elif isinstance(value, Shopper):
            found.append(value.session)
    return found


def _response_parameter(endpoint: Callable[..., Any]) -> str | None:
    """The name of the endpoint's own `Response` parameter, if it has one."""
    for parameter in inspect.signature(endpoint, eval_str=True).parameters.values():
        if isinstance(parameter.annotation, type) and issubclass(parameter.annotation, Response):
            return parameter.name
    return None
