"""The permissions matrix: every staff and shopper endpoint of this area, called without login,
as staff of another store, as a barista where a manager is needed, and as the wrong customer.
A route added without a row here fails `test_every_route_is_in_the_matrix`."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from server.routes import events, staff, staff_actions
from tests.server.staff_fixtures import Shop, login, place_latte, shop, staff_app, web

__all__ = ["shop", "staff_app", "web"]

PUBLIC = {("GET", "/staff/login"), ("POST", "/staff/login"), ("GET", "/staff/static/{name}")}


@dataclass(frozen=True)
class Row:
    """One endpoint and what each wrong caller gets."""

    method: str
    route: str
    anonymous: int
    other_store: int | None = None
    """Staff of Elm St (a manager there) on a Main St resource."""
    barista: int | None = None
    """A Main St barista where only a manager may act."""
    other_customer: int | None = None
    """Bob's token on Ada's order."""


MATRIX = [
    Row("GET", "/staff", 303, other_store=403),
    Row("GET", "/staff/queue", 401, other_store=403),
    Row("GET", "/staff/stream", 401, other_store=403),
    Row("POST", "/staff/logout", 401),
    Row("GET", "/staff/orders/{order_id}/ticket", 401, other_store=404),
    Row("POST", "/staff/orders/{order_id}/{action}", 401, other_store=404),
    Row("GET", "/staff/orders/{order_id}/lines/{line_id}/substitutes", 401, other_store=404),
    Row("POST", "/staff/orders/{order_id}/lines/{line_id}/out-of-stock", 401, other_store=404),
    Row("POST", "/staff/stores/{store_id}/switches", 401, other_store=403, barista=403),
    Row("GET", "/v1/events", 401),
    Row("GET", "/v1/orders/{order_id}/substitution", 401, other_customer=404),
    Row("POST", "/v1/orders/{order_id}/substitution/accept", 401, other_customer=404),
    Row("POST", "/v1/orders/{order_id}/substitution/decline", 401, other_customer=404),
]


def _url(route: str, order_id: int, line_id: int) -> str:
    url = route.format(order_id=order_id, line_id=line_id, action="accept", store_id="cafe")
    return url + ("?store=cafe" if url in ("/staff", "/staff/queue", "/staff/stream") else "")


def test_every_route_is_in_the_matrix() -> None:
    routers = ((staff.router, ""), (staff_actions.router, ""), (events.router, "/v1"))
    routes = {
        (method, prefix + route.path)
        for router, prefix in routers
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in route.methods
    }
    covered = {(row.method, row.route) for row in MATRIX} | PUBLIC
    assert routes == covered


@pytest.mark.parametrize("row", MATRIX, ids=lambda row: f"{row.method} {row.route}")
def test_wrong_callers_are_refused(web: TestClient, shop: Shop, row: Row) -> None:
    order = place_latte(web, shop.ada, key="o")
    order_id = int(str(order["id"]))
    csrf = login(web, shop.barista)
    line_id = web.get("/staff/queue").json()["tickets"][0]["lines"][0]["id"]
    web.cookies.clear()
    url = _url(row.route, order_id, line_id)
    body = {"json": {}} if row.route.startswith("/v1/") and row.method == "POST" else {}

    def call(headers: dict[str, str]) -> int:
        return web.request(row.method, url, headers=headers, **body).status_code  # type: ignore[arg-type]

    assert call({"X-CSRF-Token": csrf}) == row.anonymous
    if row.route.startswith("/staff"):  # a shopper's token means nothing to staff routes
        assert call({**shop.ada.auth, "X-CSRF-Token": csrf}) == row.anonymous
    if row.other_store is not None:
        other = login(web, shop.other_store)
        assert call({"X-CSRF-Token": other, "Accept": "application/json"}) == row.other_store
        web.cookies.clear()
    if row.barista is not None:
        mine = login(web, shop.barista)
        assert call({"X-CSRF-Token": mine, "Accept": "application/json"}) == row.barista
        web.cookies.clear()
    if row.other_customer is not None:
        assert call(shop.bob.auth) == row.other_customer
    manager = login(web, shop.manager)
    queue = web.get("/staff/queue", headers={"X-CSRF-Token": manager}).json()
    ticket = queue["tickets"][0]
    assert (ticket["status"], ticket["substitution"]) == ("placed", None)  # nothing changed
    assert queue["switches"]["pickup_paused"] is False
