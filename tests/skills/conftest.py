"""Fixtures for the Alexa tests: a generated certificate chain, signed envelopes, local servers."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# The shared conversations assert outside test modules; let pytest explain their failures.
pytest.register_assert_rewrite("tests.skills.flows", "tests.skills.shopping")

SKILL_ID = "amzn1.ask.skill.00000000-0000-0000-0000-000000000001"
CERT_URL = "https://s3.amazonaws.com/echo.api/echo-api-cert-test.pem"


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _usage(*, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=not ca,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def make_cert(
    key: rsa.RSAPrivateKey,
    subject: str,
    issuer_key: rsa.RSAPrivateKey,
    issuer: str,
    *,
    ca: bool,
    sans: tuple[str, ...] = (),
    not_before: datetime | None = None,
    days: int = 30,
) -> x509.Certificate:
    """One RFC 5280 certificate: a CA (root or intermediate) or a leaf with DNS SANs."""
    start = not_before or datetime.now(UTC) - timedelta(days=1)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(_usage(ca=ca), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
    )
    if not ca:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
    if sans:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(name) for name in sans]), critical=False
        )
    return builder.sign(issuer_key, hashes.SHA256())


def pem(*certs: x509.Certificate) -> bytes:
    """A PEM bundle, in the order given (Amazon's: signing certificate first)."""
    return b"".join(cert.public_bytes(serialization.Encoding.PEM) for cert in certs)


@dataclass
class Chain:
    """A generated root -> intermediate -> leaf chain and the keys that signed it."""

    root: x509.Certificate
    root_key: rsa.RSAPrivateKey
    intermediate: x509.Certificate
    intermediate_key: rsa.RSAPrivateKey
    leaf: x509.Certificate
    leaf_key: rsa.RSAPrivateKey

    def leaf_with(self, *, sans: tuple[str, ...], **options: Any) -> x509.Certificate:
        """Another leaf for the same key, issued by the same intermediate."""
        return make_cert(
            self.leaf_key,
            "echo-api.amazon.com",
            self.intermediate_key,
            "VoiceCart Test CA",
            ca=False,
            sans=sans,
            **options,
        )

    def bundle(self, leaf: x509.Certificate | None = None) -> bytes:
        """The PEM chain a SignatureCertChainUrl would serve."""
        return pem(leaf or self.leaf, self.intermediate)


@pytest.fixture(scope="session")
def chain() -> Chain:
    """root -> intermediate -> leaf (SAN echo-api.amazon.com), generated once per run."""
    root_key, intermediate_key, leaf_key = _key(), _key(), _key()
    root = make_cert(root_key, "VoiceCart Test Root", root_key, "VoiceCart Test Root", ca=True)
    intermediate = make_cert(
        intermediate_key, "VoiceCart Test CA", root_key, "VoiceCart Test Root", ca=True
    )
    leaf = make_cert(
        leaf_key,
        "echo-api.amazon.com",
        intermediate_key,
        "VoiceCart Test CA",
        ca=False,
        sans=("echo-api.amazon.com",),
    )
    return Chain(root, root_key, intermediate, intermediate_key, leaf, leaf_key)


@dataclass
class FakeDownload:
    """Plays S3's part: serves chains by URL and records every URL it was asked for."""

    chains: dict[str, bytes] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)

    def __call__(self, url: str) -> bytes:
        self.calls.append(url)
        return self.chains[url]


def sign(key: rsa.RSAPrivateKey, body: bytes) -> str:
    """The Signature-256 header value Alexa would send for this body."""
    return base64.b64encode(key.sign(body, padding.PKCS1v15(), hashes.SHA256())).decode()


def alexa_timestamp(when: datetime | None = None) -> str:
    """An Alexa request timestamp (ISO 8601, UTC, seconds)."""
    return (when or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")


def launch_envelope(*, skill_id: str = SKILL_ID, timestamp: str | None = None) -> dict[str, Any]:
    """A real LaunchRequest envelope, as Alexa sends it."""
    application = {"applicationId": skill_id}
    user = {"userId": "amzn1.ask.account.TESTUSER"}
    return {
        "version": "1.0",
        "session": {
            "new": True,
            "sessionId": "amzn1.echo-api.session.0001",
            "application": application,
            "user": user,
        },
        "context": {
            "System": {
                "application": application,
                "user": user,
                "device": {"deviceId": "amzn1.ask.device.TEST", "supportedInterfaces": {}},
                "apiEndpoint": "https://api.amazonalexa.com",
            }
        },
        "request": {
            "type": "LaunchRequest",
            "requestId": "amzn1.echo-api.request.0001",
            "timestamp": timestamp or alexa_timestamp(),
            "locale": "en-US",
        },
    }


def body_of(envelope: dict[str, Any]) -> bytes:
    """The raw JSON body, serialised once so the signature covers these exact bytes."""
    return json.dumps(envelope, separators=(",", ":")).encode()


@dataclass
class RunningServer:
    """A uvicorn server running an ASGI app on 127.0.0.1 in a thread."""

    base_url: str
    server: uvicorn.Server
    thread: threading.Thread


def start_uvicorn(app: Any) -> RunningServer:
    """Run `app` under uvicorn on a free 127.0.0.1 port; returns once it accepts connections."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_level="warning", lifespan="off", ws="none"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    return RunningServer(f"http://127.0.0.1:{port}", server, thread)


def stop_uvicorn(running: RunningServer) -> None:
    """Ask uvicorn to exit and wait for its thread."""
    running.server.should_exit = True
    running.thread.join(timeout=10)


@dataclass
class Recorded:
    """One request the fake Amazon server received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


Reply = tuple[int, dict[str, str], bytes]


class FakeAmazon:
    """A real HTTP server on 127.0.0.1 that answers from a script and records each request."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.routes: dict[str, list[Reply | Callable[[Recorded], Reply]]] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def script(self, path: str, *replies: Reply | Callable[[Recorded], Reply]) -> None:
        """Queue replies for a path; the last one repeats."""
        self.routes[path] = list(replies)

    def on(self, path: str) -> list[Recorded]:
        """The requests received on a path, in order."""
        return [r for r in self.requests if r.path == path]

    def _reply(self, recorded: Recorded) -> Reply:
        with self._lock:
            self.requests.append(recorded)
            queue = self.routes.get(recorded.path)
            if not queue:
                return 404, {}, b"{}"
            reply = queue.pop(0) if len(queue) > 1 else queue[0]
        return reply(recorded) if callable(reply) else reply

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self._serve()

            def do_GET(self) -> None:
                self._serve()

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                recorded = Recorded(
                    self.command,
                    self.path,
                    {k.lower(): v for k, v in self.headers.items()},
                    self.rfile.read(length),
                )
                status, headers, body = fake._reply(recorded)
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler

    def start(self) -> None:
        self._thread.start()

    def close_unstarted(self) -> None:
        """Release the port of a server that was never started."""
        self._server.server_close()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@pytest.fixture
def amazon() -> Iterator[FakeAmazon]:
    """A fresh fake Amazon HTTP server on 127.0.0.1 for one test."""
    fake = FakeAmazon()
    fake.start()
    yield fake
    fake.stop()
