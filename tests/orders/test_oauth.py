"""orders/oauth.py and orders/oauth_links.py on real databases (the HTTP side is in
tests/server/test_oauth.py)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from orders import oauth
from orders.oauth import OAuthClient, OAuthError
from orders.oauth_links import customer_for_alexa, forget_alexa_user
from orders.oauth_tables import OAuthAccessToken, OAuthCode
from orders.tables import Identity, IdentityKind
from tests.orders.factories import FakeClock, new_customer

REDIRECT = "https://pitangui.amazon.com/api/skill/link/M2X"
CLIENT = OAuthClient("alexa", "a-long-enough-secret-123", frozenset({REDIRECT}))
VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"


def test_s256_matches_rfc_7636_appendix_b() -> None:
    assert oauth.s256_challenge(VERIFIER) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def authorize(**changes: str | None) -> oauth.AuthorizationRequest:
    values: dict[str, str | None] = {
        "response_type": "code",
        "client_id": "alexa",
        "redirect_uri": REDIRECT,
        "scope": "",
        "state": "s",
        "code_challenge": oauth.s256_challenge(VERIFIER),
        "code_challenge_method": "S256",
        **changes,
    }
    return oauth.check_authorization(
        CLIENT,
        response_type=str(values["response_type"]),
        client_id=str(values["client_id"]),
        redirect_uri=str(values["redirect_uri"]),
        scope=str(values["scope"]),
        state=str(values["state"]),
        code_challenge=values["code_challenge"],
        code_challenge_method=values["code_challenge_method"],
    )


def test_an_empty_scope_is_the_default_one() -> None:
    assert authorize().scope == oauth.SCOPE


def test_pkce_can_be_optional_for_a_client_that_says_so() -> None:
    relaxed = OAuthClient("alexa", CLIENT.client_secret, CLIENT.redirect_uris, require_pkce=False)
    request = oauth.check_authorization(
        relaxed,
        response_type="code",
        client_id="alexa",
        redirect_uri=REDIRECT,
        scope="orders",
        state="s",
        code_challenge=None,
        code_challenge_method=None,
    )
    assert request.code_challenge is None
    with pytest.raises(OAuthError, match="PKCE is required"):
        authorize(code_challenge=None, code_challenge_method=None)


def tokens_for(session: Session, clock: FakeClock, customer: int) -> oauth.TokenSet:
    code = oauth.issue_code(session, authorize(), customer, clock=clock)
    return oauth.exchange_code(
        session, CLIENT, code=code, redirect_uri=REDIRECT, code_verifier=VERIFIER, clock=clock
    )


def test_the_alexa_user_is_linked_once_and_moves_on_relink(
    session: Session, clock: FakeClock
) -> None:
    ada, bob = (
        new_customer(session, "Ada", home=None, clock=clock),
        new_customer(session, "Bob", home=None, clock=clock),
    )
    ada_tokens, bob_tokens = tokens_for(session, clock, ada), tokens_for(session, clock, bob)
    user = "amzn1.ask.account.ONE"
    assert customer_for_alexa(session, ada_tokens.access_token, user, clock=clock) == ada
    assert customer_for_alexa(session, ada_tokens.access_token, user, clock=clock) == ada
    assert customer_for_alexa(session, bob_tokens.access_token, user, clock=clock) == bob
    owners = session.scalars(select(Identity.customer_id).where(Identity.value == user))
    assert list(owners) == [bob]
    assert customer_for_alexa(session, "vca_unknown", user, clock=clock) is None
    assert forget_alexa_user(session, user) is True
    assert forget_alexa_user(session, user) is False
    kinds = session.scalars(select(Identity.kind).where(Identity.customer_id == bob))
    assert list(kinds) == [IdentityKind.APP_TOKEN]


def test_expired_codes_and_tokens_are_purged(session: Session, clock: FakeClock) -> None:
    customer = new_customer(session, home=None, clock=clock)
    tokens_for(session, clock, customer)
    oauth.issue_code(session, authorize(), customer, clock=clock)
    assert oauth.purge_expired(session, now=clock()) == 0
    clock.advance(hours=2)
    assert oauth.purge_expired(session, now=clock()) == 1, "the access token expired"
    clock.advance(days=1)
    assert oauth.purge_expired(session, now=clock()) == 2, "both codes are a day past expiry"
    for table in (OAuthCode, OAuthAccessToken):
        assert session.scalar(select(func.count()).select_from(table)) == 0
