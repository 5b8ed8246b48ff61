"""Staff sessions over HTTP: the session cookie, the CSRF check, and the page templates.

The cookie holds a random token (HttpOnly, SameSite=Strict, Secure when configured); the
database keeps its hash and the session's CSRF token. Every state-changing request must echo
that token, in the `X-CSRF-Token` header (the page's JavaScript) or the `csrf_token` form
field (plain forms). The login form, which has no session yet, uses a double-submit cookie.
"""

from __future__ import annotations

import hmac
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request, Response
from fastapi.templating import Jinja2Templates

from orders import staff as staff_accounts
from orders.db import end_read
from orders.errors import LoginFailed, NotPermitted
from orders.staff import SESSION_LIFETIME, StaffIdentity
from server.deps import ServicesDep, SessionDep

COOKIE = "vc_staff"
LOGIN_CSRF_COOKIE = "vc_login_csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
TEMPLATES = Path(__file__).resolve().parent / "templates"


@lru_cache(maxsize=1)
def templates() -> Jinja2Templates:
    """The page templates (autoescaped)."""
    return Jinja2Templates(directory=str(TEMPLATES))


def staff_from_cookie(
    request: Request, session: SessionDep, services: ServicesDep
) -> StaffIdentity | None:
    """The logged-in staff member, or None."""
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    staff = staff_accounts.identify(session, token, clock=services.clock)
    end_read(session)
    return staff


MaybeStaffDep = Annotated[StaffIdentity | None, Depends(staff_from_cookie)]


async def current_staff(staff: MaybeStaffDep) -> StaffIdentity:
    """The logged-in staff member; 401 LoginFailed otherwise (async, so no thread hop)."""
    if staff is None:
        raise LoginFailed("log in at /staff/login first")
    return staff


StaffDep = Annotated[StaffIdentity, Depends(current_staff)]


async def checked_staff(request: Request, staff: StaffDep) -> StaffIdentity:
    """The staff member of a state-changing request that echoed the session's CSRF token."""
    given = request.headers.get(CSRF_HEADER)
    if given is None and _is_form(request):
        value = (await request.form()).get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    if not staff_accounts.check_csrf(staff, given):
        raise NotPermitted("this request", "the CSRF token is missing or wrong; reload the page")
    return staff


CheckedStaffDep = Annotated[StaffIdentity, Depends(checked_staff)]


def _is_form(request: Request) -> bool:
    """Whether the body is a form."""
    kind = request.headers.get("content-type", "")
    return kind.startswith(("application/x-www-form-urlencoded", "multipart/form-data"))


def wants_json(request: Request) -> bool:
    """Whether the caller is the page's JavaScript (or an API client) rather than a plain form."""
    accept = request.headers.get("accept", "")
    return "application/json" in accept or CSRF_HEADER.lower() in request.headers


def _secure(request: Request) -> bool:
    """Whether cookies get the Secure flag (VOICECART_COOKIE_SECURE, put on the app)."""
    return bool(getattr(request.app.state, "cookie_secure", False))


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    """The session cookie: HttpOnly, SameSite=Strict, Secure when the settings say so."""
    response.set_cookie(
        COOKIE,
        token,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        httponly=True,
        samesite="strict",
        secure=_secure(request),
        path="/",
    )


def clear_session_cookie(response: Response) -> None:
    """Forget the session cookie."""
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")


def set_login_csrf(request: Request, response: Response, token: str) -> None:
    """Set the login form's CSRF cookie (double submit: the form carries the same token)."""
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        max_age=3600,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
        path="/staff",
    )


def check_login_csrf(request: Request, given: str) -> bool:
    """Whether the login form echoed its cookie's token."""
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    return bool(cookie) and hmac.compare_digest(cookie, given)
