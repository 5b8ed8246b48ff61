"""Account linking over HTTP: the login page, /oauth/authorize and /oauth/token (code + PKCE)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from orders import oauth
from orders.oauth import customer_for_access_token
from server.app import create_app
from server.settings import Settings
from tests.orders.factories import FakeClock
from tests.server.conftest import Shopper

CLIENT_ID = "alexa-skill"
SECRET = "an-alexa-client-secret-0123456789"
REDIRECT = "https://layla.amazon.com/api/skill/link/M2TESTVENDOR"
VERIFIER = "pkce-verifier-" + "v" * 50


def linking_settings(database_url: str, **changes: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "dispatcher": False,
        "alexa_link_client_id": CLIENT_ID,
        "alexa_link_client_secret": SECRET,
        "alexa_link_redirect_uris": [REDIRECT],
        **changes,
    }
    return Settings.model_validate(values)


@pytest.fixture
def app(database_url: str, clock: FakeClock, loaded: None) -> FastAPI:
    """The app with an account-linking client configured."""
    return create_app(linking_settings(database_url), clock=clock)


@pytest.fixture
def browser(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, follow_redirects=False) as client:
        yield client


def authorize_query(**changes: str) -> dict[str, str]:
    query = {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT,
        "state": "xyz-state",
        "scope": "orders",
        "code_challenge": oauth.s256_challenge(VERIFIER),
        "code_challenge_method": "S256",
    }
    query.update(changes)
    return {k: v for k, v in query.items() if v is not None}


def owner(session: Session, token: str, clock: FakeClock) -> int | None:
    """The customer of an access token now (in a fresh transaction: others wrote meanwhile)."""
    session.rollback()
    return customer_for_access_token(session, token, now=clock())


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None, html
    return found.group(1)


def redirected(response: httpx.Response) -> dict[str, list[str]]:
    """The query a redirect to Amazon carries (and that it goes to the registered URI)."""
    assert response.status_code == 303, response.text
    location = urlsplit(response.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    return parse_qs(location.query)


def sign_in(client: httpx.Client | TestClient, token: str, **changes: str) -> httpx.Response:
    """Open the login page and submit it."""
    query = authorize_query(**changes)
    page = client.get("/oauth/authorize", params=query)
    assert page.status_code == 200, page.text
    form = {**query, "csrf_token": csrf_of(page.text), "token": token, "decision": "allow"}
    return client.post("/oauth/authorize", data=form)


def trade(client: httpx.Client | TestClient, **form: str) -> httpx.Response:
    return client.post("/oauth/token", data=form, auth=(CLIENT_ID, SECRET))


def code_for(client: httpx.Client | TestClient, shopper: Shopper) -> str:
    return redirected(sign_in(client, shopper.token))["code"][0]


def redeem(
    client: httpx.Client | TestClient,
    code: str,
    *,
    redirect_uri: str = REDIRECT,
    code_verifier: str = VERIFIER,
) -> httpx.Response:
    """Trade an authorization code for tokens at the token endpoint."""
    return trade(
        client,
        grant_type="authorization_code",
        code=code,
        redirect_uri=redirect_uri,
        code_verifier=code_verifier,
    )


def test_the_full_code_flow_with_pkce_over_real_http(
    live_server: str, ada: Shopper, session: Session, clock: FakeClock
) -> None:
    with httpx.Client(base_url=live_server, timeout=10) as client:
        page = client.get("/oauth/authorize", params=authorize_query())
        assert page.status_code == 200
        assert page.headers["x-frame-options"] == "DENY"
        assert page.headers["cache-control"] == "no-store"
        assert "vc_oauth_csrf" in page.headers["set-cookie"]
        form = {**authorize_query(), "csrf_token": csrf_of(page.text), "token": ada.token}
        returned = redirected(client.post("/oauth/authorize", data=form))
        assert returned["state"] == ["xyz-state"]
        code = returned["code"][0]
        answer = redeem(client, code)
        assert answer.status_code == 200, answer.text
        assert answer.headers["cache-control"] == "no-store"
        tokens = answer.json()
        assert tokens["token_type"] == "Bearer"
        assert tokens["expires_in"] == 3600
        assert tokens["scope"] == "orders"
        assert owner(session, tokens["access_token"], clock) == ada.id
        clock.advance(hours=2)
        assert owner(session, tokens["access_token"], clock) is None
        fresh = trade(client, grant_type="refresh_token", refresh_token=tokens["refresh_token"])
        assert fresh.status_code == 200
        assert "refresh_token" not in fresh.json()
        access = fresh.json()["access_token"]
        assert access != tokens["access_token"]
        assert owner(session, access, clock) == ada.id


def test_only_hashes_of_codes_and_tokens_are_stored(
    browser: TestClient, ada: Shopper, session: Session
) -> None:
    from sqlalchemy import text

    code = code_for(browser, ada)
    tokens = redeem(browser, code).json()
    dump = " ".join(
        str(row)
        for table in ("oauth_codes", "oauth_grants", "oauth_access_tokens")
        for row in session.execute(text(f"SELECT * FROM {table}"))
    )
    for secret in (code, tokens["access_token"], tokens["refresh_token"]):
        assert secret not in dump
        assert oauth.hash_secret(secret) in dump


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"client_id": "someone-else"}, "unknown client_id"),
        ({"redirect_uri": "https://evil.example/callback"}, "redirect_uri is not registered"),
        ({"redirect_uri": REDIRECT + "/extra"}, "redirect_uri is not registered"),
    ],
)
def test_an_unknown_client_or_redirect_gets_an_error_page_not_a_redirect(
    browser: TestClient, changes: dict[str, str], reason: str
) -> None:
    page = browser.get("/oauth/authorize", params=authorize_query(**changes))
    assert page.status_code == 400
    assert "location" not in page.headers
    assert reason in page.text
    assert 'name="token"' not in page.text


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"code_challenge": "", "code_challenge_method": ""}, "invalid_request"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge": "too-short"}, "invalid_request"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"scope": "orders payments"}, "invalid_scope"),
    ],
)
def test_a_bad_request_from_a_known_client_is_sent_back_with_the_state(
    browser: TestClient, changes: dict[str, str], error: str
) -> None:
    returned = redirected(browser.get("/oauth/authorize", params=authorize_query(**changes)))
    assert returned["error"] == [error]
    assert returned["state"] == ["xyz-state"]
    assert "code" not in returned


def test_the_login_form_needs_its_csrf_token(browser: TestClient, ada: Shopper) -> None:
    query = authorize_query()
    browser.get("/oauth/authorize", params=query)
    for wrong in ("", "forged-token"):
        form = {**query, "csrf_token": wrong, "token": ada.token}
        answer = browser.post("/oauth/authorize", data=form)
        assert answer.status_code == 403
        assert "The form expired" in answer.text


def test_a_wrong_voicecart_token_shows_the_form_again(browser: TestClient, ada: Shopper) -> None:
    answer = sign_in(browser, "vc_not-a-real-token")
    assert answer.status_code == 401
    assert "That token is not valid." in answer.text
    assert 'name="token"' in answer.text


def test_cancel_tells_amazon_access_was_denied(browser: TestClient, ada: Shopper) -> None:
    query = authorize_query()
    page = browser.get("/oauth/authorize", params=query)
    form = {**query, "csrf_token": csrf_of(page.text), "token": "", "decision": "deny"}
    returned = redirected(browser.post("/oauth/authorize", data=form))
    assert returned["error"] == ["access_denied"]
    assert returned["state"] == ["xyz-state"]


def test_a_tampered_hidden_redirect_uri_is_refused(browser: TestClient, ada: Shopper) -> None:
    query = authorize_query()
    page = browser.get("/oauth/authorize", params=query)
    form = {
        **query,
        "redirect_uri": "https://evil.example/steal",
        "csrf_token": csrf_of(page.text),
        "token": ada.token,
    }
    answer = browser.post("/oauth/authorize", data=form)
    assert answer.status_code == 400
    assert "location" not in answer.headers


def test_the_token_endpoint_checks_the_pkce_verifier(browser: TestClient, ada: Shopper) -> None:
    code = code_for(browser, ada)
    for verifier in ("", "another-verifier-" + "w" * 40):
        answer = redeem(browser, code, code_verifier=verifier)
        assert answer.status_code == 400
        assert answer.json()["error"] == "invalid_grant"
    ok = redeem(browser, code)
    assert ok.status_code == 200, "a wrong verifier does not burn the code"


def test_a_code_is_bound_to_its_redirect_uri_and_expires(
    browser: TestClient, ada: Shopper, clock: FakeClock
) -> None:
    code = code_for(browser, ada)
    wrong = redeem(browser, code, redirect_uri="https://pitangui.amazon.com/other")
    assert wrong.json()["error"] == "invalid_grant"
    clock.advance(minutes=6)
    late = redeem(browser, code)
    assert late.json() == {
        "error": "invalid_grant",
        "error_description": "the authorization code has expired",
    }


def test_a_reused_code_revokes_what_it_granted(
    browser: TestClient, ada: Shopper, session: Session, clock: FakeClock
) -> None:
    code = code_for(browser, ada)
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": VERIFIER,
    }
    tokens = trade(browser, **form).json()
    again = trade(browser, **form)
    assert again.json()["error"] == "invalid_grant"
    assert owner(session, tokens["access_token"], clock) is None
    refresh = trade(browser, grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert refresh.json()["error"] == "invalid_grant"


def test_client_authentication(browser: TestClient, ada: Shopper) -> None:
    code = code_for(browser, ada)
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": VERIFIER,
    }
    wrong = browser.post("/oauth/token", data=form, auth=(CLIENT_ID, "not-the-secret"))
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "invalid_client"
    assert wrong.headers["www-authenticate"].startswith("Basic")
    anonymous = browser.post("/oauth/token", data=form)
    assert anonymous.status_code == 401
    in_body = browser.post(
        "/oauth/token", data={**form, "client_id": CLIENT_ID, "client_secret": SECRET}
    )
    assert in_body.status_code == 200, in_body.text


def test_unknown_grant_types_and_refresh_tokens_are_refused(browser: TestClient) -> None:
    answer = trade(browser, grant_type="password", username="a", password="b")
    assert answer.json()["error"] == "unsupported_grant_type"
    answer = trade(browser, grant_type="refresh_token", refresh_token="vcr_made-up")
    assert answer.json()["error"] == "invalid_grant"


def test_revoking_the_links_stops_refreshing(
    browser: TestClient, ada: Shopper, session: Session
) -> None:
    code = code_for(browser, ada)
    tokens = redeem(browser, code).json()
    assert oauth.revoke_links(session, ada.id) == 1
    answer = trade(browser, grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert answer.json()["error"] == "invalid_grant"


def test_without_a_configured_client_linking_is_unavailable(
    database_url: str, clock: FakeClock, loaded: None
) -> None:
    app = create_app(Settings(database_url=database_url, dispatcher=False), clock=clock)
    with TestClient(app, follow_redirects=False) as client:
        page = client.get("/oauth/authorize", params=authorize_query())
        assert page.status_code == 503
        assert "location" not in page.headers
        answer = trade(client, grant_type="refresh_token", refresh_token="x")
        assert answer.status_code == 503


def test_settings_take_redirect_urls_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(
        "VOICECART_ALEXA_LINK_REDIRECT_URIS",
        "https://pitangui.amazon.com/api/skill/link/M2X, https://layla.amazon.com/api/skill/link/M2X",
    )
    assert Settings().alexa_link_redirect_uris == [
        "https://pitangui.amazon.com/api/skill/link/M2X",
        "https://layla.amazon.com/api/skill/link/M2X",
    ]
    with pytest.raises(ValueError, match="https"):
        Settings(alexa_link_redirect_uris=["http://pitangui.amazon.com/x"])
    with pytest.raises(ValueError, match="alexa_link_client_secret"):
        Settings(alexa_link_client_secret="changethis")
    with pytest.raises(ValueError, match="placeholder"):
        Settings(alexa_client_secret="changethis")
