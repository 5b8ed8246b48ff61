"""One JSON error shape: 401 without a token, 404, 409, 422 naming the field, 500, refusals."""

from __future__ import annotations

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient

from orders.errors import DatabaseNotMigrated
from server.app import create_app
from server.settings import Settings
from tests.orders.factories import FakeClock
from tests.server.conftest import Shopper


def test_no_token_is_401_with_the_bearer_challenge(client: TestClient) -> None:
    for method, path in [("GET", "/v1/cart"), ("POST", "/v1/checkout"), ("GET", "/v1/orders/1")]:
        response = client.request(method, path)
        assert response.status_code == 401, path
        assert response.json()["error"] == "NotAuthenticated"
        assert response.headers["WWW-Authenticate"] == "Bearer"


def test_unknown_or_malformed_token_is_401(client: TestClient, ada: Shopper) -> None:
    for header in [f"Bearer {ada.token}x", f"Basic {ada.token}", "Bearer", ada.token]:
        response = client.get("/v1/cart", headers={"Authorization": header})
        assert response.status_code == 401, header
        assert response.json()["error"] == "NotAuthenticated"
    assert client.get("/v1/cart", headers=ada.auth).status_code == 200


def test_validation_errors_name_the_failing_field(client: TestClient, ada: Shopper) -> None:
    cases = [
        ({"product_id": "latte", "quantity": 0}, "quantity"),
        ({"product_id": "latte", "quantity": "two"}, "quantity"),
        ({"quantity": 1}, "product_id"),
        ({"product_id": "latte", "colour": "red"}, "colour"),
        (
            {"product_id": "latte", "options": {"milk": {"choice": "oat", "amount": "lots"}}},
            "options.milk",
        ),
    ]
    for body, field in cases:
        response = client.post("/v1/cart/items", json=body, headers=ada.auth)
        assert response.status_code == 422, body
        error = response.json()
        assert error["error"] == "ValidationError"
        assert error["field"].startswith(field), (body, error)
        assert error["detail"].startswith(error["field"])
    response = client.post("/v1/cart/items", content=b"{not json", headers=ada.auth)
    assert response.status_code == 422
    assert response.json()["error"] == "ValidationError"


def test_service_refusals_keep_their_name_and_status(client: TestClient, ada: Shopper) -> None:
    unknown = client.post("/v1/cart/items", json={"product_id": "unicorn"}, headers=ada.auth)
    assert unknown.status_code == 404
    assert unknown.json() == {"error": "ProductNotFound", "detail": "no product with id 'unicorn'"}
    option = client.post(
        "/v1/cart/items",
        json={"product_id": "latte", "options": {"size": "venti"}},
        headers=ada.auth,
    )
    assert option.status_code == 422
    assert option.json()["error"] == "OptionInvalid"
    assert option.json()["field"] == "options"
    elsewhere = client.post("/v1/cart/items", json={"product_id": "bananas"}, headers=ada.auth)
    assert elsewhere.status_code == 409
    assert elsewhere.json()["error"] == "ProductUnavailable"
    assert client.get("/v1/cart", headers=ada.auth).json()["lines"] == []


def test_unknown_routes_and_methods_use_the_same_shape(client: TestClient) -> None:
    missing = client.get("/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.json() == {"error": "NotFound", "detail": "Not Found"}
    wrong = client.put("/v1/health")
    assert wrong.status_code == 405
    assert wrong.json()["error"] == "MethodNotAllowed"


def test_unexpected_errors_are_500_json_without_internals(
    database_url: str, loaded: None, clock: FakeClock
) -> None:
    broken = APIRouter()

    @broken.get("/broken")
    def fail() -> None:
        raise RuntimeError("secret internals")

    app = create_app(Settings(database_url=database_url), clock=clock, extra_routers=[broken])
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/v1/broken")
    assert response.status_code == 500
    assert response.json() == {
        "error": "InternalError",
        "detail": "internal error; see the server log",
    }


def test_the_app_refuses_an_unmigrated_database(empty_url: str) -> None:
    with pytest.raises(DatabaseNotMigrated, match="voicecart db upgrade"):
        create_app(Settings(database_url=empty_url))


def test_no_catalog_yet_is_503_with_the_command(database_url: str, session: object) -> None:
    app: FastAPI = create_app(Settings(database_url=database_url))
    with TestClient(app) as client:
        response = client.get("/v1/stores")
    assert response.status_code == 503
    assert response.json()["error"] == "CatalogNotLoaded"
    assert "voicecart catalog load" in response.json()["detail"]


def test_openapi_documents_the_api(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for path in [
        "/v1/cart",
        "/v1/checkout",
        "/v1/orders/{order_id}",
        "/v1/reorder",
        "/v1/pickup/orders",
    ]:
        assert path in spec["paths"], path
    assert "HTTPBearer" in spec["components"]["securitySchemes"]
    assert client.get("/docs").status_code == 200
