"""Fixtures of the dialogue tests: the bench-coffee catalog in a real migrated database, a
customer, and a Talk that runs turns, each in a new database session (as another worker would)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from catalog.format import load_catalog
from catalog.match import ProductIndex
from catalog.model import Amount, Catalog
from catalog.parse import parse
from catalog.request import Intent, Item, OptionValue, ReorderTarget, Request
from orders.catalog_store import CatalogCache, load_catalog_into
from orders.customers import create_customer
from orders.dialog import Reply, handle_turn
from tests.orders.factories import FakeClock

DIALOG_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "dialog"
CATALOG_FILE = DIALOG_FIXTURES / "catalog" / "bench.yaml"


@dataclass
class Talk:
    """A shopper talking to the dialogue: one turn per call, each in a fresh DB session."""

    sessions: sessionmaker[Session]
    catalog: Catalog
    index: ProductIndex
    clock: FakeClock
    customer_id: int
    session_id: str = "session-1"
    channel: str = "app"
    replies: list[Reply] = field(default_factory=list)

    def say(self, text: str) -> Reply:
        """A spoken turn, parsed by the real parser."""
        return self.send(parse(text, self.catalog, index=self.index))

    def send(self, request: Request | None) -> Reply:
        """A turn with this Request (None: silence)."""
        with self.sessions() as db:
            reply = handle_turn(
                request,
                session_id=self.session_id,
                customer_id=self.customer_id,
                channel=self.channel,
                db=db,
                catalog=self.catalog,
                index=self.index,
                clock=self.clock,
            )
        self.replies.append(reply)
        return reply


def request_from(data: Mapping[str, Any]) -> Request:
    """A Request written in a YAML fixture."""
    items = tuple(_item(item) for item in data.get("items", ()))
    reorder = data.get("reorder")
    return Request(
        intent=Intent(data["intent"]),
        items=items,
        text=str(data.get("text", "")),
        reorder=ReorderTarget(reorder) if reorder else None,
        unmatched=tuple(data.get("unmatched", ())),
        store_query=data.get("store_query"),
        time_query=data.get("time_query"),
    )


def _item(data: Mapping[str, Any]) -> Item:
    options = {}
    for group, value in dict(data.get("options", {})).items():
        if isinstance(value, Mapping):
            options[group] = OptionValue(value["choice"], Amount(value.get("amount", "regular")))
        else:
            options[group] = OptionValue(str(value))
    return Item(
        product_id=data.get("product"),
        quantity=float(data.get("quantity", 1)),
        options=options,
        alternatives=tuple(data.get("alternatives", ())),
        ambiguous=bool(data.get("ambiguous", False)),
        spoken=str(data.get("spoken", data.get("product") or "")),
    )


@pytest.fixture(name="bench")
def bench_fixture(session: Session, clock: FakeClock) -> Catalog:
    """The dialogue tests' catalog, loaded into the database and read back."""
    load_catalog_into(session, load_catalog(CATALOG_FILE), source=str(CATALOG_FILE), clock=clock)
    catalog = CatalogCache().get(session).catalog
    session.commit()  # SQLite: end the read transaction so the dialogue's sessions can write
    return catalog


@pytest.fixture(name="bench_index")
def bench_index_fixture(bench: Catalog) -> ProductIndex:
    """The product index of the dialogue tests' catalog."""
    return ProductIndex.from_catalog(bench)


def new_shopper(session: Session, clock: FakeClock, *, home: str | None = "main") -> int:
    """A customer whose home store is `home`; returns the id."""
    customer, _ = create_customer(session, name="Ada", home_store_id=home, clock=clock)
    return customer.id


@pytest.fixture(name="talk")
def talk_fixture(
    session: Session,
    sessions: sessionmaker[Session],
    bench: Catalog,
    bench_index: ProductIndex,
    clock: FakeClock,
) -> Talk:
    """A conversation of a customer with Main Street as home store."""
    return Talk(sessions, bench, bench_index, clock, new_shopper(session, clock))
