"""The dialogue, turn by turn, from YAML fixtures per intent (tests/fixtures/dialog/<intent>.yaml).

Each test is a conversation: turns with an utterance (`say`, through the real parser), a
Request (`request`) or silence, each followed by what the reply and the database must show.
A test listed with `known_failure` must fail (it runs under pytest.raises), so that fixing it
makes the suite say so.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from catalog.demo import load_demo_catalog
from catalog.match import ProductIndex
from orders import tables
from orders.carts import read_cart
from orders.catalog_store import CatalogCache, load_catalog_into
from orders.dialog import Reply
from orders.dialog_pin import set_voice_pin
from orders.dialog_tables import UnmatchedPhrase
from tests.orders.dialog_fixtures import (  # noqa: F401  (fixtures)
    DIALOG_FIXTURES,
    Talk,
    bench_fixture,
    bench_index_fixture,
    new_shopper,
    request_from,
    talk_fixture,
)
from tests.orders.factories import FakeClock

TURN_KEYS = frozenset(
    [
        "say",
        "request",
        "silence",
        "advance",
        "session",
        "kind",
        "asks",
        "end",
        "says",
        "not_says",
        "cart",
        "total",
        "order",
        "db",
    ]
)


def _cases() -> list[Any]:
    cases = []
    for path in sorted(DIALOG_FIXTURES.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for test in data["tests"]:
            cases.append(pytest.param(path.stem, test, id=f"{path.stem}: {test['name']}"))
    return cases


@pytest.mark.parametrize(("intent", "test"), _cases())
def test_conversation(intent: str, test: Mapping[str, Any], talk: Talk, session: Session) -> None:
    _setup(talk, session, test.get("setup", {}))
    if "known_failure" in test:
        with pytest.raises(AssertionError):
            _run(talk, session, test)
        return
    _run(talk, session, test)


def _setup(talk: Talk, session: Session, setup: Mapping[str, Any]) -> None:
    if "home" in setup:
        talk.customer_id = new_shopper(session, talk.clock, home=setup["home"])
    if "pin" in setup:
        set_voice_pin(
            session, talk.customer_id, str(setup["pin"]), pin_above=setup.get("pin_above")
        )
    if "channel" in setup:
        talk.channel = setup["channel"]


def _run(talk: Talk, session: Session, test: Mapping[str, Any]) -> None:
    for number, turn in enumerate(test["turns"], 1):
        unknown = set(turn) - TURN_KEYS
        assert not unknown, f"turn {number}: unknown keys {unknown}"
        if "advance" in turn:
            talk.clock.advance(**turn["advance"])
        if "session" in turn:
            talk.session_id = turn["session"]
        if "say" in turn:
            assert isinstance(turn["say"], str), f"turn {number}: quote yes/no in YAML"
            reply = talk.say(turn["say"])
        elif "request" in turn:
            reply = talk.send(request_from(turn["request"]))
        else:
            assert turn.get("silence") is True, f"turn {number}: say, request or silence"
            reply = talk.send(None)
        where = f"turn {number} ({turn.get('say', turn.get('request', 'silence'))!r}): {reply}"
        _check_reply(reply, turn, where)
        _check_db(session, talk, turn.get("db", {}), where)


def _check_reply(reply: Reply, turn: Mapping[str, Any], where: str) -> None:
    assert reply.speech.strip(), f"silent turn: {where}"
    assert reply.kind == turn["kind"], where
    if "asks" in turn:
        assert reply.expects_answer is turn["asks"], where
    if "end" in turn:
        assert reply.end_session is turn["end"], where
    for part in _listed(turn.get("says")):
        assert part.lower() in reply.speech.lower(), f"{part!r} not said: {where}"
    for part in _listed(turn.get("not_says")):
        assert part.lower() not in reply.speech.lower(), f"{part!r} said: {where}"
    if "cart" in turn:
        assert reply.cart is not None, where
        lines = [
            f"{line.quantity} {line.product_id}"
            + (f": {', '.join(o.lower() for o in line.options)}" if line.options else "")
            for line in reply.cart.lines
        ]
        assert lines == list(turn["cart"]), where
    if "total" in turn:
        assert reply.cart is not None, where
        assert reply.cart.total == turn["total"], where
    if "order" in turn:
        _check_order(reply, turn["order"], where)


def _check_order(reply: Reply, expected: Mapping[str, Any], where: str) -> None:
    assert reply.order is not None, where
    if "status" in expected:
        assert reply.order.status == expected["status"], where
    if "store" in expected:
        assert reply.order.store_id == expected["store"], where
    if "ready" in expected:
        assert reply.order.promised_at is not None, where
        local = reply.order.promised_at.astimezone(ZoneInfo("America/Vancouver"))
        assert local.strftime("%H:%M") == expected["ready"], where


def _check_db(session: Session, talk: Talk, expected: Mapping[str, Any], where: str) -> None:
    session.expire_all()
    if "orders" in expected:
        count = session.scalar(
            select(func.count())
            .select_from(tables.Order)
            .where(tables.Order.customer_id == talk.customer_id)
        )
        assert count == expected["orders"], where
    if "unmatched" in expected:
        phrases = session.scalars(
            select(UnmatchedPhrase.phrase)
            .where(UnmatchedPhrase.customer_id == talk.customer_id)
            .order_by(UnmatchedPhrase.id)
        )
        assert list(phrases) == list(expected["unmatched"]), where
    session.commit()  # SQLite: end the read transaction before the next turn writes


def _listed(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


@pytest.mark.parametrize("follow_up", ["add a shot", "an extra shot", "make it an extra shot"])
def test_a_shot_for_the_drink_in_the_cart_changes_only_the_shots(
    follow_up: str, session: Session, sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    # The demo coffee menu has a "Short" size and an "Extra Hot" temperature: words left over
    # from "add a shot" must not be matched loosely against them.
    coffee = load_demo_catalog("coffee")
    load_catalog_into(session, coffee, source="demo", clock=clock)
    catalog = CatalogCache().get(session).catalog
    session.commit()
    customer = new_shopper(session, clock, home="cafe-main-street")
    talk = Talk(sessions, catalog, ProductIndex.from_catalog(catalog), clock, customer)
    talk.say("a grande oat latte")
    talk.say(follow_up)
    with sessions() as db:
        [line] = read_cart(db, customer, catalog=catalog).lines
    chosen = {option.group: option.choice for option in line.options}
    assert chosen["shots"] == "double"
    assert chosen["size"] == "grande"
    assert chosen["temperature"] == "hot"
