"""The FastAPI application factory: routes under /v1, one JSON error shape, startup checks."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from http import HTTPStatus

from anyio import CapacityLimiter, to_thread
from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import Engine
from starlette.exceptions import HTTPException

from catalog.errors import VoiceCartError
from orders.catalog_store import CatalogCache
from orders.clock import Clock, utc_now
from orders.db import make_engine, make_sessions, require_migrated
from orders.errors import NotAuthenticated
from server import live
from server.callers import Callers
from server.deps import SESSION_CLOSERS, Services
from server.routes import alexa as alexa_route
from server.routes import app_page, cart, catalog, health, orders, pickup, stores, voice
from server.routes import oauth as oauth_route
from server.settings import Settings, get_settings
from server.voice_deps import enable_voice
from skills.signing import SignatureVerifier

logger = logging.getLogger(__name__)

API_PREFIX = "/v1"
BUSIEST: tuple[APIRouter, ...] = (cart.router, pickup.router)
"""Adding to the cart and placing for pickup: included first (see create_app)."""
ROUTERS: tuple[APIRouter, ...] = (
    health.router,
    orders.router,
    stores.router,
    catalog.router,
    voice.router,
)
"""The rest of the shopper API. Other areas (voice, Alexa) pass theirs as `extra_routers`."""


async def drain_connections(engine: Engine, *, timeout: float = 5.0) -> None:
    """Wait (bounded) until work still running in threads has returned its connections.

    Disposing the pool while a connection is checked out strands that connection in the old
    pool, which is later garbage-collected with the connection still open.
    """
    deadline = time.monotonic() + timeout
    checked_out = getattr(engine.pool, "checkedout", None)
    while checked_out is not None and checked_out() > 0 and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    if checked_out is not None and checked_out() > 0:
        logger.warning("shutting down with %d database connections still in use", checked_out())


def create_app(
    settings: Settings,
    *,
    engine: Engine | None = None,
    clock: Clock = utc_now,
    extra_routers: Sequence[APIRouter] = (),
    alexa_signatures: SignatureVerifier | None = None,
) -> FastAPI:
    """Build the app; refuses (DatabaseNotMigrated) when the database is not at head.

    `alexa_signatures` replaces the Alexa signature verifier (tests: a generated chain).
    """
    own_engine = engine is None
    engine = engine or make_engine(settings.resolved_database_url, pool_size=settings.db_pool_size)
    try:
        require_migrated(engine)
    except BaseException:
        if own_engine:
            engine.dispose()
        raise

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        to_thread.current_default_thread_limiter().total_tokens = settings.worker_threads
        setattr(app.state, SESSION_CLOSERS, CapacityLimiter(settings.worker_threads))
        async with live.running(app.state.live):
            yield
        await drain_connections(engine)
        engine.dispose()

    app = FastAPI(
        title="VoiceCart",
        summary="One cart and one order service for the in-app mic, Alexa and the staff page.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.services = Services(
        engine=engine,
        sessions=make_sessions(engine),
        catalogs=CatalogCache(max_age=settings.catalog_refresh_seconds),
        clock=clock,
        callers=Callers(ttl=settings.token_cache_seconds),
    )
    install_error_handlers(app)
    # FastAPI tries a request's path against the routes in the order they were included, each
    # against its own regular expression: the busiest first, then the staff's (live.install).
    for router in BUSIEST:
        app.include_router(router, prefix=API_PREFIX)
    live.install(app, settings, app.state.services)
    for router in (*ROUTERS, *extra_routers):
        app.include_router(router, prefix=API_PREFIX)
    app.include_router(app_page.router)
    oauth_route.install(app, settings)
    alexa_route.install(app, settings, app.state.services, signatures=alexa_signatures)
    return app


def app_from_environment() -> FastAPI:
    """The uvicorn factory (`server.app:app_from_environment`): settings from VOICECART_*."""
    app = create_app(get_settings())
    enable_voice(app)  # loads the speech models, once per worker process
    return app


def install_error_handlers(app: FastAPI) -> None:
    """Every error leaves as JSON {"error": Name, "detail": ..., "field": ...}."""
    app.add_exception_handler(VoiceCartError, _voicecart_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _unexpected_error)


def error_body(name: str, detail: str, field: str | None = None) -> dict[str, str]:
    """The JSON body of an error."""
    body = {"error": name, "detail": detail}
    if field is not None:
        body["field"] = field
    return body


async def _voicecart_error(_: Request, error: VoiceCartError) -> JSONResponse:
    field = getattr(error, "field", None)
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(error, NotAuthenticated) else None
    if error.status_code >= 500:
        logger.warning("%s: %s", type(error).__name__, error.detail)
    return JSONResponse(
        error_body(type(error).__name__, error.detail, field if isinstance(field, str) else None),
        status_code=error.status_code,
        headers=headers,
    )


async def _validation_error(_: Request, error: RequestValidationError) -> JSONResponse:
    problems = [(_field_name(problem["loc"]), str(problem["msg"])) for problem in error.errors()]
    field, message = problems[0] if problems else ("", "invalid request")
    body: dict[str, object] = {**error_body("ValidationError", f"{field}: {message}", field)}
    body["errors"] = [{"field": f, "message": m} for f, m in problems]
    return JSONResponse(body, status_code=422)


def _field_name(location: Sequence[object]) -> str:
    """("body", "items", 0, "quantity") -> "items.0.quantity"; headers keep their own name."""
    parts = [str(part) for part in location]
    if parts and parts[0] == "header" and len(parts) > 1:
        return "-".join(word.capitalize() for word in parts[1].split("-"))
    if parts and parts[0] in {"body", "query", "path", "header", "cookie"} and len(parts) > 1:
        parts = parts[1:]
    return ".".join(parts) or "body"


async def _http_error(_: Request, error: HTTPException) -> JSONResponse:
    name = HTTPStatus(error.status_code).phrase.replace(" ", "").replace("-", "")
    return JSONResponse(
        error_body(name, str(error.detail)), status_code=error.status_code, headers=error.headers
    )


async def _unexpected_error(request: Request, error: Exception) -> JSONResponse:
    logger.exception("unexpected error on %s %s", request.method, request.url.path, exc_info=error)
    return JSONResponse(
        error_body("InternalError", "internal error; see the server log"), status_code=500
    )
