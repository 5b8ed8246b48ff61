"""Alexa web-service timings: the signature check alone, and POST /alexa through uvicorn.

    .venv/bin/python benchmarks/alexa_bench.py [--iterations 300]

Signature check (skills/signing.py) on a generated root -> intermediate -> leaf chain:
  cold = certificate URL check + chain "download" (in memory) + RFC 5280 chain validation + RSA
         signature check (what the first request after a new Alexa certificate costs);
  warm = cached chain, RSA signature check only (every other request).
HTTP route: real POSTs to the ASGI app under uvicorn on 127.0.0.1 with verification on (signed
envelopes) and off (the development flag). The skill is a one-handler placeholder until the real
handlers land, so the route figures measure the web service, not the dialogue.
Targets (issue): p99 <= 50 ms without signature checking, <= 80 ms with it.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402

from skills.signing import SignatureVerifier  # noqa: E402
from skills.webservice import build_asgi_app  # noqa: E402
from tests.skills.conftest import (  # noqa: E402
    CERT_URL,
    SKILL_ID,
    Chain,
    FakeDownload,
    _key,
    body_of,
    launch_envelope,
    make_cert,
    sign,
    start_uvicorn,
    stop_uvicorn,
)
from tests.skills.test_webservice import make_skill  # noqa: E402

TARGET_WITHOUT_SIGNATURE_MS = 50.0
TARGET_WITH_SIGNATURE_MS = 80.0


def make_chain() -> Chain:
    """A fresh root -> intermediate -> leaf chain with the echo-api.amazon.com SAN."""
    root_key, inter_key, leaf_key = _key(), _key(), _key()
    root = make_cert(root_key, "Bench Root", root_key, "Bench Root", ca=True)
    inter = make_cert(inter_key, "VoiceCart Test CA", root_key, "Bench Root", ca=True)
    leaf = make_cert(
        leaf_key,
        "echo-api.amazon.com",
        inter_key,
        "VoiceCart Test CA",
        ca=False,
        sans=("echo-api.amazon.com",),
    )
    return Chain(root, root_key, inter, inter_key, leaf, leaf_key)


def percentiles(samples_ms: list[float]) -> tuple[float, float]:
    """p50 and p99 of a list of milliseconds."""
    cuts = statistics.quantiles(samples_ms, n=100, method="inclusive")
    return statistics.median(samples_ms), cuts[98]


def timed(run: Callable[[], object], iterations: int) -> list[float]:
    """Milliseconds per call over `iterations` calls (after one warm-up call)."""
    run()
    out = []
    for _ in range(iterations):
        start = time.perf_counter()
        run()
        out.append((time.perf_counter() - start) * 1000)
    return out


def bench_signature(chain: Chain, iterations: int) -> dict[str, list[float]]:
    """The verifier alone, cold (new URL each time) and warm (cached chain)."""
    body = body_of(launch_envelope())
    signature = sign(chain.leaf_key, body)
    download = FakeDownload({CERT_URL: chain.bundle()})
    verifier = SignatureVerifier(fetch=download, roots=[chain.root], cache_size=1)
    counter = iter(range(10**9))

    def cold() -> None:
        url = f"https://s3.amazonaws.com/echo.api/cert-{next(counter)}.pem"
        download.chains[url] = download.chains[CERT_URL]
        verifier.verify(cert_url=url, signature=signature, body=body)

    def warm() -> None:
        verifier.verify(cert_url=CERT_URL, signature=signature, body=body)

    return {"signature cold": timed(cold, iterations), "signature warm": timed(warm, iterations)}


def _signed(chain: Chain, *, verify: bool) -> tuple[bytes, dict[str, str]]:
    """A fresh LaunchRequest body and its headers (signed when verification is on)."""
    body = body_of(launch_envelope())
    headers = {"Content-Type": "application/json"}
    if verify:
        headers["Signature-256"] = sign(chain.leaf_key, body)
        headers["SignatureCertChainUrl"] = CERT_URL
    return body, headers


def bench_route(chain: Chain, iterations: int, *, verify: bool) -> list[float]:
    """Round trips of a LaunchRequest POST /alexa through uvicorn + a2wsgi + Flask + ask-sdk."""
    download = FakeDownload({CERT_URL: chain.bundle()})
    verifier = SignatureVerifier(fetch=download, roots=[chain.root]) if verify else None
    app = build_asgi_app(make_skill(), skill_id=SKILL_ID, signatures=verifier, verify=verify)
    running = start_uvicorn(app)
    try:
        # Sign ahead so the timings hold only the server's work (Alexa does the signing).
        requests = [_signed(chain, verify=verify) for _ in range(iterations + 1)]
        with httpx.Client(base_url=running.base_url, timeout=10) as client:
            pending = iter(requests)

            def post() -> None:
                body, headers = next(pending)
                response = client.post("/alexa", content=body, headers=headers)
                if response.status_code != 200:
                    raise RuntimeError(f"HTTP {response.status_code}: {response.text}")

            return timed(post, iterations)
    finally:
        stop_uvicorn(running)


def main() -> int:
    """Print p50/p99 for each measurement and whether the targets hold."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=300, help="calls per measurement")
    args = parser.parse_args()
    chain = make_chain()
    results = bench_signature(chain, args.iterations)
    results["route, verification off"] = bench_route(chain, args.iterations, verify=False)
    results["route, verification on"] = bench_route(chain, args.iterations, verify=True)
    print(f"alexa_bench {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {args.iterations} calls each")
    for name, samples in results.items():
        p50, p99 = percentiles(samples)
        print(f"  {name:26s} p50 {p50:7.2f} ms   p99 {p99:7.2f} ms")
    targets = (
        ("route, verification off", TARGET_WITHOUT_SIGNATURE_MS),
        ("route, verification on", TARGET_WITH_SIGNATURE_MS),
    )
    failed = False
    for name, target in targets:
        p99 = percentiles(results[name])[1]
        ok = p99 <= target
        failed |= not ok
        verdict = "yes" if ok else "NO"
        print(
            f"  target {name}: p99 {p99:.2f} <= {target:.0f} ms: {verdict}"
            f" (ratio {p99 / target:.2f})"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
