"""Request dependencies: the app's services, a database session, the catalog, the caller."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Annotated

from anyio import to_thread
from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from orders.catalog_store import CatalogCache, CatalogSnapshot
from orders.clock import Clock
from orders.db import end_read
from orders.errors import NotAuthenticated
from server.callers import Caller, Callers, caller_for_token


@dataclass(frozen=True)
class Services:
    """What the routes share within one process (built by create_app)."""

    engine: Engine
    sessions: sessionmaker[Session]
    catalogs: CatalogCache
    clock: Clock
    callers: Callers = field(default_factory=Callers)


async def get_services(request: Request) -> Services:
    """The services create_app stored on the app."""
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


SESSION_CLOSERS = "session_closers"
"""app.state attribute: the CapacityLimiter of the threads that close sessions (see below)."""


async def get_session(request: Request, services: ServicesDep) -> AsyncIterator[Session]:
    """One session per request, closed as soon as the route function returns."""
    async with request_session(request, services) as session:
        yield session


@asynccontextmanager
async def request_session(request: Request, services: Services) -> AsyncIterator[Session]:
    """A request's session, closed on leaving.

    Async on purpose: creating a session does no I/O, and neither does closing one whose use
    case committed; only a session still in a transaction is closed (rolled back) in a thread.
    That saves two thread hops on every request that changes something.

    That thread comes from threads of its own (create_app's lifespan makes them), never from
    the request threads: when every request thread waits for a pooled connection (or on
    SQLite for the write lock), the sessions that hold them must still be able to close, or
    the worker deadlocks until the pool timeout.
    """
    session = services.sessions()
    try:
        yield session
    finally:
        if session.in_transaction():
            closers = getattr(request.app.state, SESSION_CLOSERS, None)
            await to_thread.run_sync(session.close, limiter=closers)
        else:
            session.close()


# scope="function": the session (and on SQLite its lock) ends before the response is sent.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


async def get_catalog(services: ServicesDep, session: SessionDep) -> CatalogSnapshot:
    """The current catalog snapshot (re-read when `catalog load` bumped the version).

    Usually checked less than a second ago: then no query and no thread hop is needed.
    """
    snapshot = services.catalogs.fresh()
    if snapshot is not None:
        return snapshot
    return await run_in_threadpool(_read_catalog, services.catalogs, session)


def _read_catalog(catalogs: CatalogCache, session: Session) -> CatalogSnapshot:
    """The catalog snapshot, with the read ended.

    The route's own work runs in a later thread hop. A request waiting for a free thread
    must not sit on a pooled connection meanwhile: with more requests in flight than
    connections, that starves the threads that would release them (QueuePool timeouts).
    """
    snapshot = catalogs.get(session)
    end_read(session)
    return snapshot


CatalogDep = Annotated[CatalogSnapshot, Depends(get_catalog)]

bearer = HTTPBearer(auto_error=False, description="the API token `voicecart customers add` printed")


async def known_caller(services: Services, token: str) -> Caller | None:
    """The customer of an API token: remembered (server/callers.py), else looked up."""
    caller = services.callers.get(token)
    if caller is None:
        caller = await run_in_threadpool(caller_for_token, services.sessions, token)
        if caller is not None:
            services.callers.put(token, caller)
    return caller


async def current_customer(
    services: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Caller:
    """The customer of the `Authorization: Bearer <token>` header; 401 otherwise.

    Holds no database session: the route's use case reads what it needs in its own
    transaction (a known token costs no query at all).
    """
    if credentials is None or not credentials.credentials:
        raise NotAuthenticated()
    caller = await known_caller(services, credentials.credentials)
    if caller is None:
        raise NotAuthenticated("the token is not valid (revoked, or never issued)")
    return caller


CustomerDep = Annotated[Caller, Depends(current_customer)]


@dataclass(frozen=True)
class Shopper:
    """Everything a shopper route works with, solved as one dependency.

    FastAPI solves every dependency of a route again on every request, and a node costs more
    than the work most of ours do (a fresh catalog and a remembered token cost no I/O). The
    cart and order routes take this one instead of the session, the caller, the catalog and
    the services separately.
    """

    customer: Caller
    session: Session
    catalog: CatalogSnapshot
    services: Services


async def current_shopper(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> AsyncIterator[Shopper]:
    """The caller (401 without a valid token), a session closed as get_session closes it,
    and the current catalog."""
    services: Services = request.app.state.services
    customer = await current_customer(services, credentials)
    async with request_session(request, services) as session:
        catalog = await get_catalog(services, session)
        yield Shopper(customer, session, catalog, services)


ShopperDep = Annotated[Shopper, Depends(current_shopper, scope="function")]
