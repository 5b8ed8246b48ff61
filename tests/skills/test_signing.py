"""The signature check on its own: URL rules, chain validity over time, the download, the cache."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from skills.signing import (
    MAX_CHAIN_BYTES,
    SignatureError,
    SignatureVerifier,
    check_cert_url,
    default_roots,
    http_fetch,
)
from tests.skills.conftest import CERT_URL, Chain, FakeAmazon, FakeDownload, pem, sign

BODY = b'{"version":"1.0","request":{"type":"LaunchRequest"}}'


@pytest.mark.parametrize(
    "url",
    [
        "https://s3.amazonaws.com/echo.api/echo-api-cert.pem",
        "https://s3.amazonaws.com:443/echo.api/echo-api-cert.pem",
        "https://s3.amazonaws.com/echo.api/../echo.api/echo-api-cert.pem",
        "HTTPS://s3.amazonaws.com/echo.api/echo-api-cert.pem",
        "https://S3.AMAZONAWS.COM/echo.api/echo-api-cert.pem",
    ],
)
def test_amazons_valid_certificate_urls_pass(url: str) -> None:
    check_cert_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://s3.amazonaws.com/echo.api/echo-api-cert.pem",
        "https://notamazon.com/echo.api/echo-api-cert.pem",
        "https://s3.amazonaws.com/EcHo.aPi/echo-api-cert.pem",
        "https://s3.amazonaws.com/invalid.path/echo-api-cert.pem",
        "https://s3.amazonaws.com:563/echo.api/echo-api-cert.pem",
        "https://s3.amazonaws.com:notaport/echo.api/echo-api-cert.pem",
        "https://user:pw@s3.amazonaws.com/echo.api/echo-api-cert.pem",
        "https://s3.amazonaws.com/echo.api",
        "",
    ],
)
def test_other_certificate_urls_are_refused(url: str) -> None:
    with pytest.raises(SignatureError):
        check_cert_url(url)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def verifier_for(chain: Chain, download: FakeDownload, clock: Clock) -> SignatureVerifier:
    return SignatureVerifier(fetch=download, roots=[chain.root], clock=clock)


def test_valid_signature_passes_and_the_chain_is_cached(chain: Chain) -> None:
    download = FakeDownload({CERT_URL: chain.bundle()})
    verifier = verifier_for(chain, download, Clock(datetime.now(UTC)))
    for _ in range(3):
        verifier.verify(cert_url=CERT_URL, signature=sign(chain.leaf_key, BODY), body=BODY)
    assert download.calls == [CERT_URL]


def test_cached_chain_stops_working_when_the_certificate_expires(chain: Chain) -> None:
    download = FakeDownload({CERT_URL: chain.bundle()})
    clock = Clock(datetime.now(UTC))
    verifier = verifier_for(chain, download, clock)
    verifier.verify(cert_url=CERT_URL, signature=sign(chain.leaf_key, BODY), body=BODY)
    clock.now += timedelta(days=40)  # the generated certificates last 30 days
    with pytest.raises(SignatureError, match="not valid"):
        verifier.verify(cert_url=CERT_URL, signature=sign(chain.leaf_key, BODY), body=BODY)
    assert download.calls == [CERT_URL, CERT_URL]


def test_certificate_not_yet_valid_is_refused(chain: Chain) -> None:
    future = chain.leaf_with(
        sans=("echo-api.amazon.com",), not_before=datetime.now(UTC) + timedelta(days=2)
    )
    download = FakeDownload({CERT_URL: chain.bundle(future)})
    verifier = verifier_for(chain, download, Clock(datetime.now(UTC)))
    with pytest.raises(SignatureError, match="not valid"):
        verifier.verify(cert_url=CERT_URL, signature=sign(chain.leaf_key, BODY), body=BODY)


def test_chain_without_its_intermediate_is_refused(chain: Chain) -> None:
    download = FakeDownload({CERT_URL: pem(chain.leaf)})
    verifier = verifier_for(chain, download, Clock(datetime.now(UTC)))
    with pytest.raises(SignatureError, match="not valid"):
        verifier.verify(cert_url=CERT_URL, signature=sign(chain.leaf_key, BODY), body=BODY)


@pytest.mark.parametrize(
    ("signature", "message"),
    [(None, "missing"), ("", "missing"), ("not base64!!", "base64"), ("AAAA", "does not match")],
)
def test_bad_signatures_are_refused(chain: Chain, signature: str | None, message: str) -> None:
    download = FakeDownload({CERT_URL: chain.bundle()})
    verifier = verifier_for(chain, download, Clock(datetime.now(UTC)))
    with pytest.raises(SignatureError, match=message):
        verifier.verify(cert_url=CERT_URL, signature=signature, body=BODY)


def test_garbage_instead_of_pem_is_refused(chain: Chain) -> None:
    download = FakeDownload({CERT_URL: b"<html>not a certificate</html>"})
    verifier = verifier_for(chain, download, Clock(datetime.now(UTC)))
    with pytest.raises(SignatureError, match="PEM"):
        verifier.verify(cert_url=CERT_URL, signature=sign(chain.leaf_key, BODY), body=BODY)


def test_cache_is_bounded(chain: Chain) -> None:
    urls = [f"https://s3.amazonaws.com/echo.api/cert-{n}.pem" for n in range(3)]
    download = FakeDownload({url: chain.bundle() for url in urls})
    verifier = SignatureVerifier(
        fetch=download, roots=[chain.root], clock=Clock(datetime.now(UTC)), cache_size=2
    )
    for url in [*urls, urls[0]]:
        verifier.verify(cert_url=url, signature=sign(chain.leaf_key, BODY), body=BODY)
    assert download.calls == [*urls, urls[0]]  # the first was evicted by the third


def test_http_fetch_downloads_from_a_real_server(chain: Chain, amazon: FakeAmazon) -> None:
    amazon.script("/echo.api/good.pem", (200, {}, chain.bundle()))
    amazon.script("/echo.api/missing.pem", (404, {}, b"no"))
    amazon.script("/echo.api/huge.pem", (200, {}, b"x" * (MAX_CHAIN_BYTES + 1)))
    amazon.script("/echo.api/moved.pem", (302, {"Location": "/echo.api/good.pem"}, b""))
    with httpx.Client(timeout=5) as client:
        fetch = http_fetch(client)
        assert fetch(amazon.base_url + "/echo.api/good.pem") == chain.bundle()
        with pytest.raises(SignatureError, match="HTTP 404"):
            fetch(amazon.base_url + "/echo.api/missing.pem")
        with pytest.raises(SignatureError, match="too large"):
            fetch(amazon.base_url + "/echo.api/huge.pem")
        with pytest.raises(SignatureError, match="HTTP 302"):
            fetch(amazon.base_url + "/echo.api/moved.pem")
    assert [r.path for r in amazon.requests] == [
        "/echo.api/good.pem",
        "/echo.api/missing.pem",
        "/echo.api/huge.pem",
        "/echo.api/moved.pem",
    ]


def test_http_fetch_reports_network_errors() -> None:
    dead = FakeAmazon()
    url = dead.base_url + "/echo.api/x.pem"
    dead.close_unstarted()
    with httpx.Client(timeout=5) as client, pytest.raises(SignatureError, match="download failed"):
        http_fetch(client)(url)


def test_default_roots_load_the_public_bundle() -> None:
    roots = default_roots()
    assert len(roots) > 50
    subjects = " ".join(root.subject.rfc4514_string() for root in roots)
    assert "Amazon Root CA 1" in subjects  # Amazon Trust Services roots are trusted


def test_a_verifier_needs_trust_roots() -> None:
    with pytest.raises(ValueError, match="trust root"):
        SignatureVerifier(fetch=FakeDownload(), roots=[])
