"""SessionRoute: sync routes answer with FastAPI's JSON, serialised in the route's own thread."""

from __future__ import annotations

import threading
from typing import cast

import pytest
from fastapi import APIRouter, Depends, FastAPI, Request, Response, status
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field, field_serializer
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from orders.catalog_store import CatalogSnapshot
from server.callers import Caller
from server.deps import Services, Shopper
from server.session_route import SessionRoute, sessions_in

THREADS: dict[str, int] = {}


class Item(BaseModel):
    """A response model with an alias and a serializer that notes its thread."""

    item_id: int = Field(serialization_alias="itemId")
    name: str

    @field_serializer("name")
    def _noting_thread(self, name: str) -> str:
        THREADS["serialised"] = threading.get_ident()
        return name


class Row:
    """What a use case might return: attributes, not a model."""

    item_id = 7
    name = "from attributes"


def header_setting(response: Response) -> None:
    """A dependency that adds a header to the request's response."""
    response.headers["X-From-Dependency"] = "yes"


router = APIRouter(route_class=SessionRoute)


@router.post("/items", status_code=status.HTTP_201_CREATED)
def create_item(response: Response, replay: bool = False) -> Item:
    THREADS["endpoint"] = threading.get_ident()
    if replay:
        response.status_code = status.HTTP_200_OK
        response.headers["Idempotent-Replayed"] = "true"
    return Item(item_id=1, name="latte")


@router.get("/rows", dependencies=[Depends(header_setting)])
def read_row() -> Item:
    return Row()  # type: ignore[return-value]


@router.get("/broken")
def broken() -> Item:
    return {"item_id": "not a number", "name": "x"}  # type: ignore[return-value]


@router.get("/plain")
def plain() -> Response:
    return Response("as is", media_type="text/plain", status_code=202)


@router.get("/listing")
def listing() -> list[Item]:
    return [Item(item_id=2, name="mocha")]


@pytest.fixture(scope="module")
def client() -> TestClient:
    app = FastAPI()
    app.include_router(router)
    return TestClient(app, raise_server_exceptions=False)


def test_a_model_is_serialised_in_the_routes_own_thread(client: TestClient) -> None:
    THREADS.clear()
    answer = client.post("/items")
    assert answer.status_code == 201
    assert answer.json() == {"itemId": 1, "name": "latte"}
    assert answer.headers["content-type"] == "application/json"
    assert THREADS["serialised"] == THREADS["endpoint"]


def test_the_status_and_headers_the_route_set_win(client: TestClient) -> None:
    answer = client.post("/items", params={"replay": True})
    assert answer.status_code == 200
    assert answer.headers["Idempotent-Replayed"] == "true"


def test_attributes_are_validated_into_the_model_and_dependency_headers_kept(
    client: TestClient,
) -> None:
    answer = client.get("/rows")
    assert answer.status_code == 200
    assert answer.json() == {"itemId": 7, "name": "from attributes"}
    assert answer.headers["X-From-Dependency"] == "yes"


def test_an_answer_that_does_not_fit_the_model_is_a_server_error(client: TestClient) -> None:
    assert client.get("/broken").status_code == 500


def test_a_response_passes_through_and_lists_serialise(client: TestClient) -> None:
    plain_answer = client.get("/plain")
    assert (plain_answer.status_code, plain_answer.text) == (202, "as is")
    assert client.get("/listing").json() == [{"itemId": 2, "name": "mocha"}]


def test_the_openapi_schema_does_not_show_the_internal_parameter(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    operation = schema["paths"]["/items"]["post"]
    assert [p["name"] for p in operation.get("parameters", [])] == ["replay"]
    assert "201" in operation["responses"]


def test_the_sessions_ended_are_the_routes_own_and_its_shoppers() -> None:
    engine = create_engine("sqlite://")
    own, shoppers = Session(engine), Session(engine)
    shopper = Shopper(Caller(1, "Ada"), shoppers, cast(CatalogSnapshot, None), cast(Services, None))
    request = Request({"type": "http"})  # its .session raises without SessionMiddleware
    assert sessions_in((own, shopper, request, "text")) == [own, shoppers]
