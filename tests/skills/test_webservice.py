"""The verified web service: real envelopes over real HTTP through uvicorn, with generated certs."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from ask_sdk_core.dispatch_components import AbstractRequestHandler
from ask_sdk_core.skill_builder import SkillBuilder
from ask_sdk_core.utils import is_request_type
from starlette.applications import Starlette
from starlette.routing import Route

from skills.signing import SignatureVerifier
from skills.webservice import application_id, build_asgi_app
from tests.skills.conftest import (
    CERT_URL,
    SKILL_ID,
    Chain,
    FakeDownload,
    RunningServer,
    alexa_timestamp,
    body_of,
    launch_envelope,
    sign,
    start_uvicorn,
    stop_uvicorn,
)

WELCOME = "Welcome to the test cafe."


class LaunchHandler(AbstractRequestHandler):  # type: ignore[misc]
    """The one handler of the test skill (the real handlers come with orders/dialog.py)."""

    def can_handle(self, handler_input: Any) -> bool:
        return bool(is_request_type("LaunchRequest")(handler_input))

    def handle(self, handler_input: Any) -> Any:
        return handler_input.response_builder.speak(WELCOME).response


def make_skill() -> Any:
    """A minimal ask-sdk CustomSkill."""
    builder = SkillBuilder()
    builder.add_request_handler(LaunchHandler())
    return builder.create()


@pytest.fixture
def download(chain: Chain) -> FakeDownload:
    """Amazon's S3 replaced by a dict: the only network part of the check we swap out."""
    return FakeDownload({CERT_URL: chain.bundle()})


@pytest.fixture
def service(chain: Chain, download: FakeDownload) -> Iterator[RunningServer]:
    """The ASGI app with verification on, under uvicorn on 127.0.0.1."""
    verifier = SignatureVerifier(fetch=download, roots=[chain.root])
    app = build_asgi_app(make_skill(), skill_id=SKILL_ID, signatures=verifier)
    running = start_uvicorn(app)
    yield running
    stop_uvicorn(running)


def post(
    running: RunningServer,
    body: bytes,
    *,
    signature: str | None,
    cert_url: str | None = CERT_URL,
    path: str = "/alexa",
) -> httpx.Response:
    """POST a raw body with Alexa's headers."""
    headers = {"Content-Type": "application/json; charset=utf-8"}
    if signature is not None:
        headers["Signature-256"] = signature
    if cert_url is not None:
        headers["SignatureCertChainUrl"] = cert_url
    return httpx.post(running.base_url + path, content=body, headers=headers, timeout=10)


def speech(response: httpx.Response) -> str:
    """The SSML the skill answered with."""
    return str(response.json()["response"]["outputSpeech"]["ssml"])


def test_valid_signed_request_gets_the_skill_response(service: RunningServer, chain: Chain) -> None:
    body = body_of(launch_envelope())
    response = post(service, body, signature=sign(chain.leaf_key, body))
    assert response.status_code == 200, response.text
    assert WELCOME in speech(response)


def test_tampered_body_is_refused(service: RunningServer, chain: Chain) -> None:
    body = body_of(launch_envelope())
    signature = sign(chain.leaf_key, body)
    tampered = body.replace(b"amzn1.ask.account.TESTUSER", b"amzn1.ask.account.ATTACKER")
    assert tampered != body
    assert post(service, tampered, signature=signature).status_code == 400


def test_signature_by_another_key_is_refused(service: RunningServer, chain: Chain) -> None:
    body = body_of(launch_envelope())
    assert post(service, body, signature=sign(chain.intermediate_key, body)).status_code == 400


def test_timestamp_older_than_150_seconds_is_refused(service: RunningServer, chain: Chain) -> None:
    old = alexa_timestamp(datetime.now(UTC) - timedelta(seconds=160))
    body = body_of(launch_envelope(timestamp=old))
    assert post(service, body, signature=sign(chain.leaf_key, body)).status_code == 400


def test_timestamp_within_tolerance_is_accepted(service: RunningServer, chain: Chain) -> None:
    recent = alexa_timestamp(datetime.now(UTC) - timedelta(seconds=100))
    body = body_of(launch_envelope(timestamp=recent))
    assert post(service, body, signature=sign(chain.leaf_key, body)).status_code == 200


def test_wrong_skill_id_is_refused(service: RunningServer, chain: Chain) -> None:
    body = body_of(launch_envelope(skill_id="amzn1.ask.skill.someone-else"))
    assert post(service, body, signature=sign(chain.leaf_key, body)).status_code == 400


def test_leaf_without_the_echo_api_san_is_refused(
    service: RunningServer, chain: Chain, download: FakeDownload
) -> None:
    url = "https://s3.amazonaws.com/echo.api/no-san.pem"
    download.chains[url] = chain.bundle(chain.leaf_with(sans=("example.com",)))
    body = body_of(launch_envelope())
    response = post(service, body, signature=sign(chain.leaf_key, body), cert_url=url)
    assert response.status_code == 400
    assert download.calls == [url]


def test_chain_from_an_untrusted_root_is_refused(
    service: RunningServer, download: FakeDownload
) -> None:
    from tests.skills.conftest import _key, make_cert, pem

    rogue_key = _key()
    rogue = make_cert(
        rogue_key,
        "echo-api.amazon.com",
        rogue_key,
        "echo-api.amazon.com",
        ca=False,
        sans=("echo-api.amazon.com",),
    )
    url = "https://s3.amazonaws.com/echo.api/self-signed.pem"
    download.chains[url] = pem(rogue)
    body = body_of(launch_envelope())
    assert post(service, body, signature=sign(rogue_key, body), cert_url=url).status_code == 400


@pytest.mark.parametrize(
    "url",
    [
        "http://s3.amazonaws.com/echo.api/echo-api-cert.pem",
        "https://notamazon.com/echo.api/echo-api-cert.pem",
        "https://s3.amazonaws.com.evil.example/echo.api/echo-api-cert.pem",
        "https://s3.amazonaws.com/EcHo.aPi/echo-api-cert.pem",
        "https://s3.amazonaws.com/invalid.path/echo-api-cert.pem",
        "https://s3.amazonaws.com/echo.api/../other/echo-api-cert.pem",
        "https://s3.amazonaws.com:563/echo.api/echo-api-cert.pem",
    ],
)
def test_non_amazon_cert_url_is_refused_before_any_download(
    service: RunningServer, chain: Chain, download: FakeDownload, url: str
) -> None:
    body = body_of(launch_envelope())
    response = post(service, body, signature=sign(chain.leaf_key, body), cert_url=url)
    assert response.status_code == 400
    assert download.calls == []


def test_missing_signature_header_is_refused(service: RunningServer) -> None:
    body = body_of(launch_envelope())
    assert post(service, body, signature=None).status_code == 400


def test_body_that_is_not_json_is_refused(service: RunningServer, chain: Chain) -> None:
    body = b"\xff\xfe not json"
    assert post(service, body, signature=sign(chain.leaf_key, body)).status_code == 400


def test_only_post_on_the_exact_path_is_served(service: RunningServer, chain: Chain) -> None:
    body = body_of(launch_envelope())
    signature = sign(chain.leaf_key, body)
    assert httpx.get(service.base_url + "/alexa", timeout=10).status_code == 405
    assert post(service, body, signature=signature, path="/alexa/").status_code == 404
    assert post(service, body, signature=signature, path="/alexa/x").status_code == 404
    assert post(service, body, signature=signature, path="/").status_code == 404


def test_chain_is_downloaded_once_and_cached(
    service: RunningServer, chain: Chain, download: FakeDownload
) -> None:
    for _ in range(3):
        body = body_of(launch_envelope())
        assert post(service, body, signature=sign(chain.leaf_key, body)).status_code == 200
    assert download.calls == [CERT_URL]


def test_dev_flag_skips_signature_but_warns_and_keeps_the_skill_id_check(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="skills.webservice"):
        app = build_asgi_app(make_skill(), skill_id=SKILL_ID, signatures=None, verify=False)
    assert "VERIFICATION IS OFF" in caplog.text
    running = start_uvicorn(app)
    try:
        old = alexa_timestamp(datetime.now(UTC) - timedelta(hours=1))
        unsigned = body_of(launch_envelope(timestamp=old))
        response = post(running, unsigned, signature=None, cert_url=None)
        assert response.status_code == 200
        assert WELCOME in speech(response)
        other = body_of(launch_envelope(skill_id="amzn1.ask.skill.someone-else"))
        assert post(running, other, signature=None, cert_url=None).status_code == 400
    finally:
        stop_uvicorn(running)


def test_verification_needs_a_signature_verifier() -> None:
    with pytest.raises(ValueError, match="SignatureVerifier"):
        build_asgi_app(make_skill(), skill_id=SKILL_ID, signatures=None)
    with pytest.raises(ValueError, match="skill_id"):
        build_asgi_app(make_skill(), skill_id="", signatures=None, verify=False)


def test_mounted_on_an_exact_starlette_route(chain: Chain, download: FakeDownload) -> None:
    """How server/ mounts it: Route("/alexa", asgi_app, methods=["POST"]) beside other routes."""
    verifier = SignatureVerifier(fetch=download, roots=[chain.root])
    alexa = build_asgi_app(make_skill(), skill_id=SKILL_ID, signatures=verifier)
    app = Starlette(routes=[Route("/alexa", alexa, methods=["POST"])])
    running = start_uvicorn(app)
    try:
        body = body_of(launch_envelope())
        response = post(running, body, signature=sign(chain.leaf_key, body))
        assert response.status_code == 200
        assert WELCOME in speech(response)
        assert httpx.get(running.base_url + "/alexa", timeout=10).status_code == 405
    finally:
        stop_uvicorn(running)


def test_application_id_reads_context_then_session() -> None:
    from ask_sdk_core.serialize import DefaultSerializer
    from ask_sdk_model import RequestEnvelope

    envelope = launch_envelope(skill_id="amzn1.ask.skill.x")
    parsed = DefaultSerializer().deserialize(json.dumps(envelope), RequestEnvelope)
    assert application_id(parsed) == "amzn1.ask.skill.x"
    del envelope["context"]
    parsed = DefaultSerializer().deserialize(json.dumps(envelope), RequestEnvelope)
    assert application_id(parsed) == "amzn1.ask.skill.x"
    del envelope["session"]
    parsed = DefaultSerializer().deserialize(json.dumps(envelope), RequestEnvelope)
    assert application_id(parsed) is None
