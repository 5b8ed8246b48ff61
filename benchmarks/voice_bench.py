"""Voice turn latency over WS /v1/voice/stream, and eight streaming sessions at once.

    .venv/bin/python benchmarks/voice_bench.py [--sessions 8] [--rounds 1]

The server is the real app (server.app.create_app + server.voice_deps.install_voice: Whisper
with the server's options, espeak-ng replies, the dialogue and order service on a migrated
SQLite database with both demo catalogs) under uvicorn in its own process, so the client does
not share its GIL. Clients are `websockets` connections that play the committed recorded
conversations (tests/fixtures/conversations, grocery_* and coffee_*) turn by turn, sending
20 ms PCM frames at real-time pace, as the /app page does.

Latency of a turn = from the shopper's last audio frame to the first byte of reply audio:
  push-to-talk: from sending {"type": "end"} (right after the recording's last frame);
  hands-free:   from sending the frame that completed the server's silence endpoint
                (the recording is followed by paced silence until the endpoint event).
Server-side parts per turn (from the events): STT finish = endpoint to the Understanding
(lane queue + what is left of the decode + the finish: gate check and n-best parse with the
shopper's history); dialogue + database; TTS of the first sentence.
Targets (issue): one session p50 <= 400 ms, p95 <= 800 ms; eight sessions p95 <= 1.5 s with
no dropped audio. Memory per session = (peak server RSS with all sessions open - RSS before)
/ sessions.
"""

from __future__ import annotations

import argparse
import asyncio
import faulthandler
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import websockets  # noqa: E402

from voice import audio  # noqa: E402
from voice.conversations import find_conversations, load_conversation  # noqa: E402

CONVERSATIONS = REPO / "tests" / "fixtures" / "conversations"
FRAME = 640
CLOCK = "2025-03-04T17:00:00+00:00"


@dataclass
class Turn:
    """One measured turn."""

    conversation: str
    mode: str
    latency: float
    stt_finish: float
    finish: float
    dialog: float
    tts: float
    early: bool
    heard: str


@dataclass
class Session:
    """What one client saw; `sent` and `received` are the PCM bytes it sent and the server
    says it received (asked with a ping at the end)."""

    turns: list[Turn] = field(default_factory=list)
    sent: int = 0
    received: int = 0
    audio_accounted: int = 0


def serve(port: int, database_url: str) -> None:
    """The server process: the app with voice on the benchmark database, under uvicorn."""
    from datetime import datetime

    import uvicorn

    from server.app import create_app
    from server.settings import Settings
    from server.voice_deps import VoiceConfig, VoiceSettings, install_voice, load_transcriber
    from voice.stt import Engine
    from voice.tts import Pyttsx3Speaker

    faulthandler.register(signal.SIGUSR1, all_threads=True)  # kill -USR1: where is it stuck?
    fixed = datetime.fromisoformat(CLOCK)
    app = create_app(Settings(database_url=database_url, dispatcher=False), clock=lambda: fixed)
    speaker = Pyttsx3Speaker()
    speaker.start()
    config = VoiceConfig(turns_per_minute=10_000, turn_burst=1000, streams_per_customer=100)
    transcriber = load_transcriber(VoiceSettings(stt_engine=Engine.WHISPER))
    install_voice(app, transcriber=transcriber, speaker=speaker, config=config)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", ws_max_size=1 << 20)


def prepare(folder: Path, sessions: int) -> tuple[str, list[str]]:
    """A migrated database with both demo catalogs and one customer per session."""
    from datetime import datetime

    from catalog.demo import load_demo_store
    from orders.catalog_store import load_catalog_into
    from orders.customers import create_customer
    from orders.db import make_engine, make_sessions, upgrade

    url = f"sqlite:///{folder}/bench.db"
    engine = make_engine(url)
    upgrade(engine)
    fixed = datetime.fromisoformat(CLOCK)
    tokens = []
    with make_sessions(engine)() as db:
        load_catalog_into(db, load_demo_store(), source="bench", clock=lambda: fixed)
        for number in range(sessions):
            _, token = create_customer(db, name=f"Shopper {number}", clock=lambda: fixed)
            tokens.append(token)
    engine.dispose()
    return url, tokens


def recordings() -> list[tuple[str, list[str], list[bytes]]]:
    """(name, setup turns, turn PCM) of the grocery and coffee conversations."""
    found = []
    for folder in find_conversations(CONVERSATIONS):
        conversation = load_conversation(folder)
        pcm = [audio.load(turn.audio).pcm for turn in conversation.turns]
        found.append((conversation.name, list(conversation.setup), pcm))
    return found


async def paced(ws: Any, pcm: bytes, clock: list[float], log: list[tuple[int, float]]) -> None:
    """Send PCM in 20 ms frames at real-time pace; log (stream offset, send time) per frame."""
    for offset in range(0, len(pcm), FRAME):
        clock[0] += 0.02
        delay = clock[0] - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        await ws.send(pcm[offset : offset + FRAME])
        log.append((int(clock[1]) + offset + FRAME, time.perf_counter()))
    clock[1] += len(pcm)


async def play(
    url: str,
    token: str,
    conversation: tuple[str, list[str], list[bytes]],
    *,
    mode: str,
) -> Session:
    """One conversation on one socket; every turn measured."""
    name, setup, turns = conversation
    session = Session()
    async with websockets.connect(url, max_size=1 << 22) as ws:
        start = {"type": "start", "token": token, "session_id": f"{name}-{mode}", "mode": mode}
        await ws.send(json.dumps(start))
        assert json.loads(await ws.recv())["type"] == "ready"
        for text in setup:
            await ws.send(json.dumps({"type": "text", "text": text}))
            await until_audio_end(ws)
        clock = [time.perf_counter(), 0.0]
        for pcm in turns:
            session.turns.append(await one_turn(ws, pcm, clock, session, name=name, mode=mode))
            clock[0] = time.perf_counter()
        await ws.send(json.dumps({"type": "ping"}))
        while True:
            message = await ws.recv()
            if isinstance(message, str) and json.loads(message)["type"] == "pong":
                session.received = json.loads(message)["received_bytes"]
                break
        session.sent = int(clock[1])
    return session


async def one_turn(
    ws: Any, pcm: bytes, clock: list[float], session: Session, *, name: str, mode: str
) -> Turn:
    """Stream one recording; in hands-free mode keep sending silence until the endpoint."""
    log: list[tuple[int, float]] = []
    await paced(ws, pcm, clock, log)
    if mode == "push_to_talk":
        await ws.send(json.dumps({"type": "end"}))
        ended = time.perf_counter()
    events: list[dict[str, Any]] = []
    first_audio: float | None = None
    silence_sender = None
    if mode == "hands_free":
        silence_sender = asyncio.create_task(keep_silent(ws, clock, log))
    while True:
        message = await ws.recv()
        if isinstance(message, bytes):
            first_audio = first_audio or time.perf_counter()
            continue
        event = json.loads(message)
        events.append(event)
        if event["type"] == "endpoint" and silence_sender is not None:
            silence_sender.cancel()
            position = session.audio_accounted + event["audio_ms"] * 32
            ended = next(at for offset, at in log if offset >= position)
        if event["type"] == "endpoint":
            session.audio_accounted += event["audio_ms"] * 32
        if event["type"] in ("audio_end", "error"):
            break
    if silence_sender is not None:
        silence_sender.cancel()
    assert first_audio is not None, events
    return measured(name, mode, first_audio - ended, events)


async def keep_silent(ws: Any, clock: list[float], log: list[tuple[int, float]]) -> None:
    """The microphone keeps sending (silence) until the server hears the end of speech."""
    while True:
        await paced(ws, bytes(FRAME), clock, log)


async def until_audio_end(ws: Any) -> None:
    """Read until the end of a turn."""
    while True:
        message = await ws.recv()
        if isinstance(message, str) and json.loads(message)["type"] in ("audio_end", "error"):
            return


def measured(name: str, mode: str, latency: float, events: list[dict[str, Any]]) -> Turn:
    """A Turn from the events of one turn."""
    by_type = {e["type"]: e for e in events}
    transcript = by_type["transcript"]
    timings = by_type["audio_end"]["timings_ms"]
    return Turn(
        conversation=name,
        mode=mode,
        latency=latency,
        stt_finish=transcript["timings_ms"]["stt_finish"] / 1000,
        finish=transcript["timings_ms"]["finish"] / 1000,
        dialog=timings.get("dialog", 0.0) / 1000,
        tts=timings.get("tts_0", 0.0) / 1000,
        early=transcript["early_decode"],
        heard=transcript["heard"],
    )


def rss_kib(pid: int) -> int:
    """A process's resident set size (KiB), children (the espeak-ng worker) included."""
    total = 0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for each in pids:
        for line in Path(f"/proc/{each}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(share * len(ordered) + 0.5) - 1))]


def report(title: str, turns: Sequence[Turn]) -> None:
    """Print latency percentiles and where the time went."""
    latencies = [t.latency for t in turns]
    ms = 1000
    print(f"{title}: {len(turns)} turns")
    print(
        f"  last frame -> first reply audio byte: p50 {percentile(latencies, 0.5) * ms:.0f} ms,"
        f" p95 {percentile(latencies, 0.95) * ms:.0f} ms, max {max(latencies) * ms:.0f} ms"
    )
    for label, values in (
        ("STT finish (endpoint -> Understanding)", [t.stt_finish for t in turns]),
        ("  of which the finish itself (gate check + n-best parse)", [t.finish for t in turns]),
        ("dialogue + database", [t.dialog for t in turns]),
        ("TTS, first sentence", [t.tts for t in turns]),
    ):
        print(
            f"  {label}: median {statistics.median(values) * ms:.0f} ms,"
            f" p95 {percentile(values, 0.95) * ms:.0f} ms"
        )
    early = sum(t.early for t in turns)
    print(f"  draft decode (made during the silence) used in {early} of {len(turns)} turns")


async def single(url: str, tokens: list[str], rounds: int) -> list[Turn]:
    """Each grocery and coffee conversation alone, in both modes, `rounds` times."""
    turns: list[Turn] = []
    for _ in range(rounds):
        for mode in ("push_to_talk", "hands_free"):
            for conversation in recordings():
                session = await play(url, tokens[0], conversation, mode=mode)
                turns += session.turns
    return turns


async def concurrent(url: str, tokens: list[str], pid: int) -> tuple[list[Session], int, int]:
    """`len(tokens)` sessions at once, each a conversation at real-time pace, staggered."""
    conversations = recordings()
    rng = random.Random(7)
    before = rss_kib(pid)
    peak = [before]
    stop = asyncio.Event()

    async def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], rss_kib(pid))
            await asyncio.sleep(0.1)

    async def one(number: int) -> Session:
        await asyncio.sleep(rng.uniform(0, 2))
        mode = "hands_free" if number % 2 else "push_to_talk"
        return await play(
            url, tokens[number], conversations[number % len(conversations)], mode=mode
        )

    sampler = asyncio.create_task(sample())
    sessions = await asyncio.gather(*(one(n) for n in range(len(tokens))))
    stop.set()
    await sampler
    return list(sessions), before, peak[0]


def main(argv: Sequence[str] | None = None) -> int:
    """Start the server, warm it up, measure one session, then many."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=8, help="concurrent sessions")
    parser.add_argument("--rounds", type=int, default=1, help="rounds of the single-session run")
    parser.add_argument("--serve", nargs=2, metavar=("PORT", "URL"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(int(args.serve[0]), args.serve[1])
        return 0
    with tempfile.TemporaryDirectory() as folder:
        url, tokens = prepare(Path(folder), args.sessions)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        server = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(port), url],
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
        try:
            return asyncio.run(run(f"ws://127.0.0.1:{port}/v1/voice/stream", tokens, server, args))
        finally:
            server.terminate()
            server.wait(20)


async def run(url: str, tokens: list[str], server: subprocess.Popen[bytes], args: Any) -> int:
    """The measurements, printed."""
    await wait_listening(url, server)
    load = os.getloadavg()
    print(f"machine: {os.cpu_count()} CPUs, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    await play(url, tokens[0], recordings()[0], mode="push_to_talk")  # warm-up, not counted
    turns = await single(url, tokens, args.rounds)
    for mode in ("push_to_talk", "hands_free"):
        report(f"one session, {mode}", [t for t in turns if t.mode == mode])
    report("one session, both modes", turns)
    sessions, before, peak = await concurrent(url, tokens, server.pid)
    together = [t for s in sessions for t in s.turns]
    report(f"{len(sessions)} sessions at once", together)
    sent = sum(s.sent for s in sessions)
    received = sum(s.received for s in sessions)
    print(f"  audio sent {sent} bytes, received by the server {received}: {sent - received} lost")
    print(
        f"  server RSS {before / 1024:.0f} MiB before, {peak / 1024:.0f} MiB peak:"
        f" {(peak - before) / 1024 / len(sessions):.1f} MiB per session"
    )
    return 0


async def wait_listening(url: str, server: subprocess.Popen[bytes]) -> None:
    """Wait until the server accepts connections."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("the server exited")
        try:
            async with websockets.connect(url):
                return
        except OSError:
            await asyncio.sleep(0.2)
    raise TimeoutError("the server did not start")


if __name__ == "__main__":
    sys.exit(main())
