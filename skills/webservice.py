"""The Alexa web service: flask-ask-sdk's SkillAdapter on an exact POST /alexa, verified.

Every request passes, in order: ask-sdk's TimestampVerifier (150 s), our signature check
(skills/signing.py), and the skill id check; any failure is a 400. The server mounts the ASGI app
from `build_asgi_app` on the exact route, e.g. `app.add_route("/alexa", alexa, methods=["POST"])`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any, cast

from a2wsgi import WSGIMiddleware
from flask import Flask, Response, abort, request

from skills import compat
from skills.signing import CERT_URL_HEADER, SIGNATURE_HEADER, SignatureError, SignatureVerifier

logger = logging.getLogger(__name__)

ALEXA_PATH = "/alexa"
MAX_BODY_BYTES = 128 * 1024

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[
    [Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]],
    Awaitable[None],
]

_DEV_WARNING = (
    "ALEXA REQUEST VERIFICATION IS OFF (development flag): signatures and timestamps are NOT "
    "checked, so anyone who can reach POST %s can act as Alexa. Never run this in production."
)


def _verification_error(message: str) -> Exception:
    """ask-sdk's VerificationException, which flask-ask-sdk turns into a 400."""
    from ask_sdk_webservice_support.verifier import VerificationException

    return cast(Exception, VerificationException(message))


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """A header value by case-insensitive name, or None."""
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


class SignatureCheck:
    """An ask-sdk verifier (AbstractVerifier's interface) that runs our SignatureVerifier."""

    def __init__(self, verifier: SignatureVerifier) -> None:
        self._verifier = verifier

    def verify(
        self,
        headers: Mapping[str, str],
        serialized_request_env: str,
        deserialized_request_env: Any,
    ) -> None:
        """Raise VerificationException unless the raw body carries Alexa's valid signature."""
        try:
            self._verifier.verify(
                cert_url=_header(headers, CERT_URL_HEADER),
                signature=_header(headers, SIGNATURE_HEADER),
                body=serialized_request_env.encode("utf-8"),
            )
        except SignatureError as error:
            logger.warning("Alexa signature check failed: %s", error.detail)
            raise _verification_error(error.detail) from error


class SkillIdCheck:
    """An ask-sdk verifier that refuses envelopes addressed to another skill."""

    def __init__(self, skill_id: str) -> None:
        self._skill_id = skill_id

    def verify(
        self,
        headers: Mapping[str, str],
        serialized_request_env: str,
        deserialized_request_env: Any,
    ) -> None:
        """Raise VerificationException unless the envelope's application id is our skill id."""
        found = application_id(deserialized_request_env)
        if found != self._skill_id:
            logger.warning("Alexa request for skill %r refused (we are %r)", found, self._skill_id)
            raise _verification_error("request is not for this skill")


def application_id(envelope: Any) -> str | None:
    """The skill id an ask-sdk RequestEnvelope is addressed to (context first, then session)."""
    context = getattr(envelope, "context", None)
    system = getattr(context, "system", None)
    application = getattr(system, "application", None)
    if application is None:
        session = getattr(envelope, "session", None)
        application = getattr(session, "application", None)
    found = getattr(application, "application_id", None)
    return found if isinstance(found, str) else None


def build_wsgi_app(
    skill: Any,
    *,
    skill_id: str,
    signatures: SignatureVerifier | None,
    verify: bool = True,
) -> Flask:
    """A Flask app serving `skill` (an ask-sdk CustomSkill) on POST /alexa only.

    `verify=False` is the development flag: it drops the signature and timestamp checks (the
    skill id is still checked) and logs a loud warning. With `verify=True`, `signatures` is
    required.
    """
    if not skill_id:
        raise ValueError("skill_id is required")
    if verify and signatures is None:
        raise ValueError("verify=True needs a SignatureVerifier")
    compat.fix_oscrypto()  # before flask_ask_sdk imports certvalidator -> oscrypto
    from flask_ask_sdk.skill_adapter import (
        VERIFY_SIGNATURE_APP_CONFIG,
        VERIFY_TIMESTAMP_APP_CONFIG,
        SkillAdapter,
    )

    app = Flask(__name__)
    # Our SignatureCheck replaces ask-sdk's RequestVerifier (certvalidator, fixed trust store).
    app.config[VERIFY_SIGNATURE_APP_CONFIG] = False
    app.config[VERIFY_TIMESTAMP_APP_CONFIG] = verify
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    verifiers: list[SignatureCheck | SkillIdCheck] = []
    if verify and signatures is not None:
        verifiers.append(SignatureCheck(signatures))
    else:
        logger.warning(_DEV_WARNING, ALEXA_PATH)
    verifiers.append(SkillIdCheck(skill_id))
    adapter = SkillAdapter(skill=skill, skill_id=skill_id, verifiers=verifiers, app=app)

    def alexa() -> Response:
        """Refuse bodies that are not a JSON object, then verify and dispatch."""
        try:
            envelope = json.loads(request.get_data())
        except (UnicodeDecodeError, ValueError):
            envelope = None
        if not isinstance(envelope, dict):
            abort(400, description="not an Alexa request envelope")
        return cast(Response, adapter.dispatch_request())

    app.add_url_rule(ALEXA_PATH, endpoint="alexa", view_func=alexa, methods=["POST"])
    return app


def build_asgi_app(
    skill: Any,
    *,
    skill_id: str,
    signatures: SignatureVerifier | None,
    verify: bool = True,
    workers: int = 4,
) -> ASGIApp:
    """The same app as an ASGI app (a2wsgi), for the server to mount on POST /alexa."""
    wsgi = build_wsgi_app(skill, skill_id=skill_id, signatures=signatures, verify=verify)
    return cast(ASGIApp, WSGIMiddleware(cast(Any, wsgi), workers=workers))
