"""Every conversation of tests/skills/flows.py through skill.invoke with real envelope JSON."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy.orm import Session, sessionmaker

from orders.carts import read_cart
from tests.orders.database import backend, clock, database_url, empty_url, engine, sessions
from tests.orders.factories import FakeClock
from tests.skills.flows import BENCH_FLOWS, FLOWS, Connect, catalog_of
from tests.skills.shopping import COFFEE, Alexa, Shop, invoke, load_shop

__all__ = ["backend", "clock", "database_url", "empty_url", "engine", "sessions"]

ALL_FLOWS = {**FLOWS, **BENCH_FLOWS}


def connector(shop: Shop) -> Connect:
    """Alexa users talking to one real skill through skill.invoke; each its own user id."""
    send = invoke(shop.skill())
    users = itertools.count(1)

    def connect(token: str | None) -> Alexa:
        user = f"amzn1.ask.account.USER{next(users)}"
        return Alexa(send, shop.catalog, user_id=user, access_token=token)

    return connect


@pytest.mark.parametrize("name", list(ALL_FLOWS))
def test_flow(name: str, sessions: sessionmaker[Session], clock: FakeClock) -> None:
    shop = load_shop(sessions, clock, catalog_of(name) or COFFEE)
    ALL_FLOWS[name](shop, connector(shop))


def test_the_extra_shot_reaches_the_cart(sessions: sessionmaker[Session], clock: FakeClock) -> None:
    shop = load_shop(sessions, clock)
    alexa = connector(shop)(None)
    customer = shop.shopper()
    alexa.access_token = shop.link(customer).access_token
    alexa.intent("AddItemsIntent", product="grande oat latte with an extra shot")
    with shop.sessions() as db:
        [line] = read_cart(db, customer, catalog=shop.catalog).lines
    # The coffee catalog's shots take no amounts: one more than a latte's single is a double.
    assert ("shots", "double") in {(option.group, option.choice) for option in line.options}


def test_a_request_said_next_reaches_the_cart(
    sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    shop = load_shop(sessions, clock)
    alexa = connector(shop)(None)
    customer = shop.shopper()
    alexa.access_token = shop.link(customer).access_token
    alexa.intent("AddItemsIntent", product="grande latte")
    said = alexa.intent("SpecialRequestIntent", request="lid")
    assert "no lid" in said.speech
    with shop.sessions() as db:
        [line] = read_cart(db, customer, catalog=shop.catalog).lines
    assert (line.product_id, line.note) == ("latte", "no lid")
