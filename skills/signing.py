"""Checks that a request really comes from Alexa: certificate URL, chain, SAN and body signature.

Amazon's rules (host a custom skill as a web service): the SignatureCertChainUrl must be
https://s3.amazonaws.com[:443]/echo.api/...; the PEM chain it serves must be valid now, chain to a
trusted root and name echo-api.amazon.com in the signing certificate's SANs; the Signature-256
header is the base64 RSA PKCS#1 v1.5 SHA-256 signature of the raw body. We do the chain check with
cryptography's RFC 5280 verifier instead of ask-sdk's RequestVerifier (certvalidator + oscrypto),
so the trust root and the download can be passed in; see docs/alexa.md.
"""

from __future__ import annotations

import base64
import binascii
import logging
import posixpath
import threading
import warnings
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509.verification import PolicyBuilder, Store, VerificationError

from catalog.errors import VoiceCartError
from orders.clock import Clock, utc_now

logger = logging.getLogger(__name__)

CERT_URL_HEADER = "SignatureCertChainUrl"
SIGNATURE_HEADER = "Signature-256"
SIGNING_DOMAIN = "echo-api.amazon.com"
CERT_HOST = "s3.amazonaws.com"
CERT_PATH_PREFIX = "/echo.api/"
MAX_CHAIN_BYTES = 64 * 1024

Fetch = Callable[[str], bytes]
"""Downloads a certificate chain URL and returns its bytes (PEM)."""


class SignatureError(VoiceCartError):
    """A request failed the Alexa signature check; `detail` says which rule it broke."""

    status_code = 400


@dataclass(frozen=True)
class _Signer:
    """A validated signing certificate's key and the window in which its whole chain is valid."""

    key: rsa.RSAPublicKey
    not_before: datetime
    not_after: datetime


def check_cert_url(url: str) -> None:
    """Refuse a certificate URL that is not Amazon's S3 echo.api path (before any download)."""
    parts = urlsplit(url)
    if parts.scheme.lower() != "https":
        raise SignatureError(f"certificate URL must use https: {url!r}")
    if (parts.hostname or "").lower() != CERT_HOST:
        raise SignatureError(f"certificate URL host must be {CERT_HOST}: {url!r}")
    try:
        port = parts.port
    except ValueError as error:
        raise SignatureError(f"certificate URL has a bad port: {url!r}") from error
    if port not in (None, 443):
        raise SignatureError(f"certificate URL port must be 443: {url!r}")
    if parts.username is not None or parts.password is not None:
        raise SignatureError(f"certificate URL must not carry credentials: {url!r}")
    # The path is case-sensitive; normalise "/echo.api/../x" before comparing.
    if not posixpath.normpath(parts.path).startswith(CERT_PATH_PREFIX):
        raise SignatureError(f"certificate URL path must start with {CERT_PATH_PREFIX}: {url!r}")


def load_roots(pem: bytes) -> list[x509.Certificate]:
    """Trust roots from a PEM bundle."""
    with warnings.catch_warnings():
        # Some public bundles hold legacy roots (e.g. a zero serial) that cryptography warns about.
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        return x509.load_pem_x509_certificates(pem)


def default_roots() -> list[x509.Certificate]:
    """The public web roots that Alexa's chain leads to (certifi's Mozilla bundle)."""
    import certifi  # httpx depends on it, so it is always installed with us

    return load_roots(Path(certifi.where()).read_bytes())


def http_fetch(client: httpx.Client) -> Fetch:
    """A Fetch that downloads with `client` (no redirects, size-capped, 200 only)."""

    def fetch(url: str) -> bytes:
        try:
            with client.stream("GET", url, follow_redirects=False) as response:
                if response.status_code != 200:
                    raise SignatureError(f"certificate download got HTTP {response.status_code}")
                data = bytearray()
                for chunk in response.iter_bytes():
                    data += chunk
                    if len(data) > MAX_CHAIN_BYTES:
                        raise SignatureError("certificate chain is too large")
                return bytes(data)
        except httpx.HTTPError as error:
            raise SignatureError(f"certificate download failed: {error}") from error

    return fetch


class SignatureVerifier:
    """Verifies Alexa request signatures; validated chains are cached per URL (LRU)."""

    def __init__(
        self,
        *,
        fetch: Fetch,
        roots: Sequence[x509.Certificate],
        clock: Clock = utc_now,
        cache_size: int = 16,
    ) -> None:
        if not roots:
            raise ValueError("at least one trust root is needed")
        self._fetch = fetch
        self._store = Store(list(roots))
        self._clock = clock
        self._cache_size = cache_size
        self._cache: OrderedDict[str, _Signer] = OrderedDict()
        self._lock = threading.Lock()

    def verify(self, *, cert_url: str | None, signature: str | None, body: bytes) -> None:
        """Return if Alexa's current certificate signed `body`; raise SignatureError if not."""
        if not cert_url or not signature:
            raise SignatureError(f"missing {CERT_URL_HEADER} or {SIGNATURE_HEADER} header")
        check_cert_url(cert_url)
        now = self._clock()
        signer = self._signer(cert_url, now)
        try:
            raw = base64.b64decode(signature, validate=True)
        except (binascii.Error, ValueError) as error:
            raise SignatureError("signature is not valid base64") from error
        try:
            signer.key.verify(raw, body, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature as error:
            raise SignatureError("request body does not match its signature") from error

    def _signer(self, cert_url: str, now: datetime) -> _Signer:
        """The cached signer for this URL if still valid now, else download and validate."""
        with self._lock:
            cached = self._cache.get(cert_url)
            if cached is not None:
                self._cache.move_to_end(cert_url)
        if cached is not None and cached.not_before <= now <= cached.not_after:
            return cached
        signer = self._validate(self._fetch(cert_url), now)
        with self._lock:
            self._cache[cert_url] = signer
            self._cache.move_to_end(cert_url)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return signer

    def _validate(self, pem: bytes, now: datetime) -> _Signer:
        """Validate a downloaded chain (first certificate signs) and return its signer."""
        try:
            certs = x509.load_pem_x509_certificates(pem)
        except ValueError as error:
            raise SignatureError("certificate chain is not valid PEM") from error
        leaf, intermediates = certs[0], certs[1:]
        verifier = (
            PolicyBuilder()
            .store(self._store)
            .time(now)
            .build_server_verifier(x509.DNSName(SIGNING_DOMAIN))
        )
        try:
            chain = verifier.verify(leaf, intermediates)
        except VerificationError as error:
            raise SignatureError(f"certificate chain is not valid: {error}") from error
        _check_key_usage(leaf)
        key = leaf.public_key()
        if not isinstance(key, rsa.RSAPublicKey):
            raise SignatureError("signing certificate does not hold an RSA key")
        logger.info("validated Alexa signing certificate %s", leaf.subject.rfc4514_string())
        return _Signer(
            key=key,
            not_before=max(cert.not_valid_before_utc for cert in chain),
            not_after=min(cert.not_valid_after_utc for cert in chain),
        )


def _check_key_usage(leaf: x509.Certificate) -> None:
    """The signing certificate must allow digital signatures when it states its key usage."""
    try:
        usage = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return
    if not usage.digital_signature:
        raise SignatureError("signing certificate is not for digital signatures")
