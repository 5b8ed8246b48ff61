"""Account linking for Alexa: the shoppers' login page, /oauth/authorize and /oauth/token.

GET /oauth/authorize checks the client and its redirect URI (an unknown one gets an error page,
never a redirect), then shows the login form; POST /oauth/authorize checks the form's CSRF
token (a double-submit cookie, as the staff login does) and the shopper's VoiceCart token, then
redirects to Amazon with a single-use code. POST /oauth/token is the token endpoint: the client
authenticates with HTTP Basic or form credentials and trades a code (with its PKCE verifier)
or a refresh token for tokens. Errors there are RFC 6749's JSON, not the API's error shape.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Annotated
from urllib.parse import parse_qsl, unquote_plus, urlencode, urlsplit, urlunsplit

from fastapi import APIRouter, FastAPI, Form, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from orders import oauth
from orders.customers import customer_for_token
from orders.oauth import AuthorizationRequest, OAuthClient, OAuthError
from server.deps import ServicesDep, SessionDep
from server.session_route import SessionRoute
from server.settings import Settings

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/oauth", tags=["account linking"], route_class=SessionRoute)

CSRF_COOKIE = "vc_oauth_csrf"
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
PARAMS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "state",
    "scope",
    "code_challenge",
    "code_challenge_method",
)
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'"
    ),
}
TOKEN_HEADERS = {"Cache-Control": "no-store", "Pragma": "no-cache"}
Field = Annotated[str, Form(max_length=2048)]


def install(app: FastAPI, settings: Settings) -> OAuthClient | None:
    """Add the routes; the client comes from the settings (None: linking answers 503)."""
    client = None
    if settings.alexa_link_client_id and settings.alexa_link_client_secret:
        client = OAuthClient(
            client_id=settings.alexa_link_client_id,
            client_secret=settings.alexa_link_client_secret,
            redirect_uris=frozenset(settings.alexa_link_redirect_uris),
            require_pkce=settings.alexa_link_require_pkce,
        )
        if not client.redirect_uris:
            logger.warning("account linking has no redirect URLs: every link will be refused")
    app.state.oauth_client = client
    app.include_router(router)
    return client


@lru_cache(maxsize=1)
def _templates() -> Jinja2Templates:
    return Jinja2Templates(directory=str(TEMPLATES))


def _client(request: Request) -> OAuthClient | None:
    client: OAuthClient | None = getattr(request.app.state, "oauth_client", None)
    return client


@router.get("/authorize", response_class=HTMLResponse, include_in_schema=False)
def authorize_page(request: Request) -> Response:
    """The login form for a valid authorization request; errors go back to the client."""
    params = {name: request.query_params.get(name, "") for name in PARAMS}
    try:
        _check(request, params)
    except OAuthError as error:
        return _refused(request, params, error)
    return _page(request, params, error=None, status_code=200)


@router.post("/authorize", include_in_schema=False)
def authorize(
    *,
    request: Request,
    session: SessionDep,
    services: ServicesDep,
    token: Annotated[str, Form(max_length=256)] = "",
    decision: Annotated[str, Form(max_length=16)] = "allow",
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    response_type: Field = "",
    client_id: Field = "",
    redirect_uri: Field = "",
    state: Field = "",
    scope: Field = "",
    code_challenge: Field = "",
    code_challenge_method: Field = "",
) -> Response:
    """Sign the shopper in with their VoiceCart token and send Amazon a code."""
    params = {
        "response_type": response_type,
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "state": state,
        "scope": scope,
        "code_challenge": code_challenge,
        "code_challenge_method": code_challenge_method,
    }
    try:
        checked = _check(request, params)
    except OAuthError as error:
        return _refused(request, params, error)
    if not _csrf_ok(request, csrf_token):
        return _page(request, params, error="The form expired; try again.", status_code=403)
    if decision != "allow":
        return _redirect(checked, {"error": "access_denied"})
    customer = customer_for_token(session, token.strip()) if token.strip() else None
    if customer is None:
        logger.info("account linking: a wrong VoiceCart token was entered")
        return _page(request, params, error="That token is not valid.", status_code=401)
    code = oauth.issue_code(session, checked, customer.id, clock=services.clock)
    response = _redirect(checked, {"code": code})
    response.delete_cookie(CSRF_COOKIE, path="/oauth")
    return response


def _check(request: Request, params: dict[str, str]) -> AuthorizationRequest:
    return oauth.check_authorization(
        _client(request),
        response_type=params["response_type"],
        client_id=params["client_id"],
        redirect_uri=params["redirect_uri"],
        scope=params["scope"],
        state=params["state"],
        code_challenge=params["code_challenge"] or None,
        code_challenge_method=params["code_challenge_method"] or None,
    )


def _refused(request: Request, params: dict[str, str], error: OAuthError) -> Response:
    """Tell the client through its redirect URI when it may be told, else an error page."""
    logger.info("authorization request refused: %s", error.detail)
    if not error.redirect:
        return _page(request, params, error=error.description, status_code=error.status_code)
    target = AuthorizationRequest(
        params["client_id"], params["redirect_uri"], "", params["state"], None
    )
    return _redirect(target, {"error": error.error, "error_description": error.description})


def _redirect(request: AuthorizationRequest, values: dict[str, str]) -> RedirectResponse:
    """303 to the client's redirect URI with these values and the state added to its query."""
    parts = urlsplit(request.redirect_uri)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query += list(values.items())
    if request.state:
        query.append(("state", request.state))
    url = urlunsplit(parts._replace(query=urlencode(query)))
    return RedirectResponse(url, status_code=303, headers={"Cache-Control": "no-store"})


def _page(
    request: Request, params: dict[str, str], *, error: str | None, status_code: int
) -> Response:
    """The login page (or, for a client we cannot redirect to, only the error)."""
    csrf = secrets.token_urlsafe(32)
    fatal = status_code >= 400 and status_code not in (401, 403)
    response = _templates().TemplateResponse(
        request,
        "oauth_login.html",
        {"params": params, "csrf": csrf, "error": error, "fatal": fatal},
        status_code=status_code,
        headers=PAGE_HEADERS,
    )
    if not fatal:
        response.set_cookie(
            CSRF_COOKIE,
            csrf,
            max_age=3600,
            httponly=True,
            samesite="strict",
            secure=bool(getattr(request.app.state, "cookie_secure", False)),
            path="/oauth",
        )
    return response


def _csrf_ok(request: Request, given: str) -> bool:
    cookie = request.cookies.get(CSRF_COOKIE, "")
    return bool(cookie) and hmac.compare_digest(cookie.encode(), given.encode())


@router.post("/token", include_in_schema=False)
def token_endpoint(
    *,
    request: Request,
    session: SessionDep,
    services: ServicesDep,
    grant_type: Field = "",
    code: Field = "",
    redirect_uri: Field = "",
    code_verifier: Field = "",
    refresh_token: Field = "",
    client_id: Field = "",
    client_secret: Field = "",
) -> JSONResponse:
    """The token endpoint (RFC 6749 sections 4.1.3 and 6)."""
    client = _client(request)
    try:
        given_id, given_secret = _client_credentials(request, client_id, client_secret)
        oauth.authenticate_client(client, given_id, given_secret)
        assert client is not None
        if grant_type == "authorization_code":
            tokens = oauth.exchange_code(
                session,
                client,
                code=code,
                redirect_uri=redirect_uri,
                code_verifier=code_verifier or None,
                clock=services.clock,
            )
        elif grant_type == "refresh_token":
            tokens = oauth.refresh_access(
                session, client, refresh_token=refresh_token, clock=services.clock
            )
        else:
            raise OAuthError("unsupported_grant_type", "use authorization_code or refresh_token")
    except OAuthError as error:
        session.rollback()
        logger.info("token request refused: %s", error.detail)
        headers = dict(TOKEN_HEADERS)
        if error.error == "invalid_client":
            headers["WWW-Authenticate"] = 'Basic realm="voicecart"'
        body = {"error": error.error, "error_description": error.description}
        return JSONResponse(body, status_code=error.status_code, headers=headers)
    return JSONResponse(tokens.as_json(), headers=TOKEN_HEADERS)


def _client_credentials(request: Request, form_id: str, form_secret: str) -> tuple[str, str]:
    """The client's id and secret: HTTP Basic (form-urlencoded parts), else the form fields."""
    header = request.headers.get("authorization", "")
    if header[:6].lower() == "basic ":
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as error:
            raise OAuthError(
                "invalid_client", "malformed Basic credentials", status_code=401
            ) from error
        given_id, _, given_secret = decoded.partition(":")
        return unquote_plus(given_id), unquote_plus(given_secret)
    if not form_id:
        raise OAuthError("invalid_client", "client authentication is required", status_code=401)
    return form_id, form_secret
