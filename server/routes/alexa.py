"""POST /alexa: the Alexa skill (skills/) mounted on the app, on the exact route only.

The skill's web service is a Flask app (flask-ask-sdk) wrapped for ASGI by a2wsgi; it is added
as a Starlette Route, not a Mount, so only POST /alexa reaches it (GET is 405, /alexa/x is 404).
It is there only when VOICECART_ALEXA_SKILL_ID is set. Signature checking downloads Alexa's
certificate chain with a small httpx client and trusts certifi's roots; tests pass their own
SignatureVerifier (a generated chain) through `signatures`.
"""

from __future__ import annotations

import logging

import httpx
from fastapi import FastAPI
from starlette.routing import Route

from server.deps import Services
from server.settings import Settings
from skills.builder import build_skill
from skills.signing import SignatureVerifier, default_roots, http_fetch
from skills.webservice import ALEXA_PATH, build_asgi_app

logger = logging.getLogger(__name__)

CERT_TIMEOUT = httpx.Timeout(3.0, connect=2.0)


def install(
    app: FastAPI,
    settings: Settings,
    services: Services,
    *,
    signatures: SignatureVerifier | None = None,
) -> bool:
    """Mount the skill on POST /alexa when a skill id is configured; whether it was mounted."""
    if not settings.alexa_skill_id:
        logger.info("VOICECART_ALEXA_SKILL_ID is not set: no Alexa endpoint")
        return False
    skill = build_skill(
        sessions=services.sessions, menus=services.catalogs.get, clock=services.clock
    )
    if settings.alexa_verify and signatures is None:
        client = httpx.Client(timeout=CERT_TIMEOUT)
        signatures = SignatureVerifier(fetch=http_fetch(client), roots=default_roots())
    alexa = build_asgi_app(
        skill,
        skill_id=settings.alexa_skill_id,
        signatures=signatures if settings.alexa_verify else None,
        verify=settings.alexa_verify,
    )
    app.router.routes.append(Route(ALEXA_PATH, alexa, methods=["POST"]))
    logger.info("Alexa skill %s on POST %s", settings.alexa_skill_id, ALEXA_PATH)
    return True
