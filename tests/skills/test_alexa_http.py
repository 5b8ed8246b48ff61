"""The skill on the running app: signed HTTP POSTs to /alexa, verification on, real handlers.

The app is server.app.create_app on the test database under uvicorn on 127.0.0.1. Only the
certificate download (a dict standing in for S3) and the trust root (the generated test root)
are replaced; the signature, timestamp and skill-id checks are the production ones.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from orders import oauth, tables
from orders.tables import IdentityKind
from server.app import create_app
from server.settings import Settings
from skills.signing import SignatureVerifier
from tests.orders.database import backend, clock, database_url, empty_url, engine, sessions
from tests.orders.factories import FakeClock
from tests.skills.conftest import (
    CERT_URL,
    SKILL_ID,
    Chain,
    FakeDownload,
    RunningServer,
    body_of,
    sign,
    start_uvicorn,
    stop_uvicorn,
)
from tests.skills.flows import BENCH_FLOWS, FLOWS, catalog_of
from tests.skills.shopping import COFFEE, LINK_CLIENT, REDIRECT_URI, Alexa, load_shop

__all__ = ["backend", "clock", "database_url", "empty_url", "engine", "sessions"]

ALL_FLOWS = {**FLOWS, **BENCH_FLOWS}


def settings_for(database_url: str) -> Settings:
    """The app's settings: the skill id and the account-linking client."""
    return Settings(
        database_url=database_url,
        dispatcher=False,
        alexa_skill_id=SKILL_ID,
        alexa_link_client_id=LINK_CLIENT.client_id,
        alexa_link_client_secret=LINK_CLIENT.client_secret,
        alexa_link_redirect_uris=[REDIRECT_URI],
    )


@pytest.fixture
def download(chain: Chain) -> FakeDownload:
    return FakeDownload({CERT_URL: chain.bundle()})


def serve(engine: Engine, clock: FakeClock, chain: Chain, download: FakeDownload) -> RunningServer:
    """The real app (on the test engine) with a verifier that trusts the generated root."""
    verifier = SignatureVerifier(fetch=download, roots=[chain.root])
    settings = settings_for(engine.url.render_as_string(hide_password=False))
    app = create_app(settings, engine=engine, clock=clock, alexa_signatures=verifier)
    return start_uvicorn(app)


@dataclass
class Served:
    """The running app and what the tests need next to it."""

    server: RunningServer
    chain: Chain
    download: FakeDownload
    sessions: sessionmaker[Session]
    clock: FakeClock

    @property
    def base_url(self) -> str:
        return self.server.base_url


@pytest.fixture
def running(
    engine: Engine,
    sessions: sessionmaker[Session],
    clock: FakeClock,
    chain: Chain,
    download: FakeDownload,
) -> Iterator[Served]:
    server = serve(engine, clock, chain, download)
    yield Served(server, chain, download, sessions, clock)
    stop_uvicorn(server)


def poster(client: httpx.Client, chain: Chain) -> Any:
    """Sends an envelope as Alexa does: exact bytes, signed, with the certificate URL."""

    def send(envelope: dict[str, Any]) -> dict[str, Any]:
        body = body_of(envelope)
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Signature-256": sign(chain.leaf_key, body),
            "SignatureCertChainUrl": CERT_URL,
        }
        response = client.post("/alexa", content=body, headers=headers)
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        return answer

    return send


@pytest.mark.parametrize("name", list(ALL_FLOWS))
def test_flow_over_http(name: str, running: Served) -> None:
    shop = load_shop(running.sessions, running.clock, catalog_of(name) or COFFEE)
    users = itertools.count(1)
    with httpx.Client(base_url=running.base_url, timeout=10) as client:
        send = poster(client, running.chain)

        def connect(token: str | None) -> Alexa:
            user = f"amzn1.ask.account.HTTP{next(users)}"
            return Alexa(send, shop.catalog, user_id=user, access_token=token)

        ALL_FLOWS[name](shop, connect)
    assert running.download.calls == [CERT_URL], "the chain is fetched once and cached"


def test_a_tampered_envelope_never_reaches_the_handlers(running: Served) -> None:
    shop = load_shop(running.sessions, running.clock)
    customer = shop.shopper()
    token = shop.link(customer).access_token
    alexa = Alexa(lambda envelope: {}, shop.catalog, access_token=token)
    intent = alexa.intent_json("AddItemsIntent", product="croissant")
    body = body_of(alexa.envelope({"type": "IntentRequest", "intent": intent}))
    signature = sign(running.chain.leaf_key, body)
    tampered = body.replace(b"croissant", b"latte", 1)
    headers = {"Signature-256": signature, "SignatureCertChainUrl": CERT_URL}
    response = httpx.post(running.base_url + "/alexa", content=tampered, headers=headers)
    assert response.status_code == 400
    with shop.sessions() as db:
        assert db.scalars(select(tables.CartLine)).first() is None
    assert httpx.get(running.base_url + "/alexa").status_code == 405
    assert httpx.post(running.base_url + "/alexa/x", content=body).status_code == 404


def test_without_a_skill_id_there_is_no_alexa_endpoint(engine: Engine, clock: FakeClock) -> None:
    settings = Settings(database_url=engine.url.render_as_string(hide_password=False))
    app = create_app(settings, engine=engine, clock=clock)
    server = start_uvicorn(app)
    try:
        response = httpx.post(server.base_url + "/alexa", content=b"{}")
        assert response.status_code == 404
    finally:
        stop_uvicorn(server)


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None, html
    return found.group(1)


def test_link_an_account_over_http_then_order_by_voice(running: Served) -> None:
    """The shopper links in the Alexa app's browser (OAuth code + PKCE), then talks to Alexa."""
    shop = load_shop(running.sessions, running.clock)
    clock = running.clock
    from orders.customers import create_customer

    with shop.sessions() as db:
        customer, app_token = create_customer(
            db, name="Grace", home_store_id="cafe-main-street", clock=clock
        )
    verifier = "alexa-pkce-verifier-" + "k" * 40
    query = {
        "response_type": "code",
        "client_id": LINK_CLIENT.client_id,
        "redirect_uri": REDIRECT_URI,
        "state": "amzn-state-123",
        "scope": "orders",
        "code_challenge": oauth.s256_challenge(verifier),
        "code_challenge_method": "S256",
    }
    with httpx.Client(base_url=running.base_url, timeout=10) as browser:
        page = browser.get("/oauth/authorize", params=query)
        assert page.status_code == 200
        form = {**query, "csrf_token": _csrf(page.text), "token": app_token, "decision": "allow"}
        answer = browser.post("/oauth/authorize", data=form)
    assert answer.status_code == 303
    location = urlsplit(answer.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT_URI
    returned = parse_qs(location.query)
    assert returned["state"] == ["amzn-state-123"]
    with httpx.Client(base_url=running.base_url, timeout=10) as amazon:
        tokens = amazon.post(
            "/oauth/token",
            data={
                "grant_type": "authorization_code",
                "code": returned["code"][0],
                "redirect_uri": REDIRECT_URI,
                "code_verifier": verifier,
            },
            auth=(LINK_CLIENT.client_id, LINK_CLIENT.client_secret),
        ).json()
        alexa = Alexa(
            poster(amazon, running.chain),
            shop.catalog,
            user_id="amzn1.ask.account.GRACE",
            access_token=tokens["access_token"],
        )
        said = alexa.intent("AddItemsIntent", product="croissant")
    assert said.speech.startswith("Added a Butter Croissant.")
    with shop.sessions() as db:
        identity = db.scalars(
            select(tables.Identity).where(tables.Identity.kind == IdentityKind.ALEXA_USER)
        ).one()
    assert (identity.customer_id, identity.value) == (customer.id, "amzn1.ask.account.GRACE")
