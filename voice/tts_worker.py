"""A pyttsx3 (espeak-ng) renderer in its own process, driven over a pipe by TtsWorker.

pyttsx3 is run in a child process because:
- espeak-ng can be initialised once per process and its engine is not thread-safe;
- the espeak driver prints "Audio saved to ..." on stdout, which must never reach ours
  (the child points its fd 1 at /dev/null and talks over a duplicate of it);
- a missing library or missing voice data makes espeak-ng call exit(), which must not take
  the server down with it.
"""

# ruff: noqa: N818  (errors are named for what happened, as in orders/errors.py)
from __future__ import annotations

import collections
import io
import json
import logging
import os
import select
import struct
import subprocess
import sys
import threading
import time
import wave
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO, Self

from orders.errors import VoiceCartError

logger = logging.getLogger(__name__)

READY, OK, FAILED = b"R", b"K", b"E"
_HEADER = struct.Struct(">cI")
_LENGTH = struct.Struct(">I")
_PACKAGE_ROOT = Path(__file__).resolve().parent.parent
RENDER_ATTEMPTS = 3
"""How often the child tries a text whose utterance espeak-ng cut off or left silent."""


class TtsError(VoiceCartError):
    """Text could not be rendered to speech."""

    status_code = 500


class TtsUnavailable(TtsError):
    """espeak-ng (or its data, or the voice asked for) is missing; says what to install."""

    status_code = 503


@dataclass(frozen=True)
class VoiceInfo:
    """One espeak-ng voice: id such as "gmw/en-us", display name and language codes."""

    id: str
    name: str
    languages: tuple[str, ...]


class _Engine:
    """The child's typed adapter over pyttsx3's espeak engine."""

    def __init__(self) -> None:
        import pyttsx3
        from pyttsx3.drivers import _espeak

        self._espeak: Any = _espeak
        self._engine: Any = pyttsx3.init("espeak")
        self._completed = True
        self._engine.connect("finished-utterance", self._on_finished)

    def _on_finished(self, name: object, completed: bool) -> None:
        self._completed = completed

    def voices(self) -> list[VoiceInfo]:
        """The voices espeak-ng has installed."""
        return [
            VoiceInfo(str(v.id), str(v.name), tuple(str(lang) for lang in v.languages or ()))
            for v in self._engine.getProperty("voices")
        ]

    def _wait_idle(self) -> None:
        # espeak-ng synthesises on its own thread; pyttsx3 cancels the queue when it starts its
        # loop, which drops property changes queued while the last utterance still drains.
        while self._espeak.IsPlaying():
            time.sleep(0.001)

    def render(self, text: str, *, voice: str, rate: int) -> bytes:
        """16-bit mono WAV bytes of `text` spoken with this voice and rate (words per minute).

        pyttsx3 cancels its utterance when espeak-ng looked busy as its loop started (a stop
        flag that outlives the loop); espeak-ng then ends the cancelled text with an empty
        WAV. Such a render, or one pyttsx3 reports as not completed, is tried again.
        """
        for attempt in range(1, RENDER_ATTEMPTS + 1):
            wav = self._render_once(text, voice=voice, rate=rate)
            if self._completed and wav_frames(wav) > 0:
                return wav
            logger.warning("espeak-ng cut off %r (attempt %d)", text[:40], attempt)
        raise RuntimeError(f"espeak-ng gave no audio for {text[:40]!r} {RENDER_ATTEMPTS} times")

    def _render_once(self, text: str, *, voice: str, rate: int) -> bytes:
        self._wait_idle()
        self._engine.setProperty("voice", voice)
        self._engine.setProperty("rate", rate)
        self._wait_idle()
        self._completed = True
        buffer = io.BytesIO()
        self._engine.save_to_file(text, buffer)
        self._engine.runAndWait()
        return buffer.getvalue()


def wav_frames(data: bytes) -> int:
    """How many frames of audio WAV bytes hold; 0 when they are not a WAV at all."""
    try:
        with wave.open(io.BytesIO(data), "rb") as reader:
            return reader.getnframes()
    except (wave.Error, EOFError):
        return 0


def _write_frame(out: BinaryIO, kind: bytes, payload: bytes) -> None:
    out.write(_HEADER.pack(kind, len(payload)) + payload)
    out.flush()


def _read_exact(stream: BinaryIO, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        chunk = stream.read(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def serve() -> None:
    """The child's main loop: read framed JSON requests on stdin, answer framed WAV bytes."""
    out = os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    try:
        engine = _Engine()
    except Exception as error:  # any import/init failure is reported, not raised
        _write_frame(out, FAILED, f"{type(error).__name__}: {error}".encode())
        return
    voices = [{"id": v.id, "name": v.name, "languages": list(v.languages)} for v in engine.voices()]
    _write_frame(out, READY, json.dumps(voices).encode())
    stdin = sys.stdin.buffer
    while (header := _read_exact(stdin, _LENGTH.size)) is not None:
        body = _read_exact(stdin, _LENGTH.unpack(header)[0])
        if body is None:
            return
        request = json.loads(body)
        try:
            wav = engine.render(request["text"], voice=request["voice"], rate=request["rate"])
        except Exception as error:  # the parent turns it into a TtsError
            _write_frame(out, FAILED, f"{type(error).__name__}: {error}".encode())
            continue
        _write_frame(out, OK, wav)


class TtsWorker:
    """A handle on one renderer process; thread-safe, restarts the child once if it died."""

    def __init__(
        self,
        *,
        python: str = sys.executable,
        env: Mapping[str, str] | None = None,
        timeout: float = 20.0,
    ) -> None:
        self._python = python
        self._env = dict(os.environ if env is None else env)
        self._timeout = timeout
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._stderr: collections.deque[str] = collections.deque(maxlen=20)
        self._voices: tuple[VoiceInfo, ...] = ()
        self.renders = 0
        """How many texts the child has rendered (cache hits never get here)."""

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def voices(self) -> tuple[VoiceInfo, ...]:
        """The installed voices, as reported by the child (starts it if needed)."""
        self.start()
        return self._voices

    @property
    def pid(self) -> int | None:
        """The child's process id while it runs, else None."""
        process = self._process
        return process.pid if process is not None and process.poll() is None else None

    def start(self) -> None:
        """Start the child if it is not running; TtsUnavailable when espeak-ng cannot start."""
        with self._lock:
            self._ensure_started()

    def render(self, text: str, *, voice: str, rate: int) -> bytes:
        """WAV bytes for `text`; TtsError if the child refuses or dies twice."""
        request = json.dumps({"text": text, "voice": voice, "rate": rate}).encode()
        with self._lock:
            for attempt in (1, 2):
                self._ensure_started()
                try:
                    kind, payload = self._exchange(request)
                except (BrokenPipeError, EOFError) as error:
                    logger.warning("tts worker died (attempt %d): %s", attempt, error)
                    self._stop()
                    continue
                if kind != OK:
                    raise TtsError(f"espeak-ng could not render {text[:40]!r}: {payload.decode()}")
                self.renders += 1
                return payload
        raise TtsError(f"the speech worker died twice; last messages: {self._stderr_tail()}")

    def close(self) -> None:
        """Stop the child process."""
        with self._lock:
            self._stop()

    def _ensure_started(self) -> None:
        if self._process is not None and self._process.poll() is None:
            return
        self._stop()
        env = dict(self._env)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(_PACKAGE_ROOT), env.get("PYTHONPATH", "")) if p
        )
        code = "from voice.tts_worker import serve; serve()"
        self._process = subprocess.Popen(
            [self._python, "-c", code],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        threading.Thread(target=self._drain_stderr, args=(self._process,), daemon=True).start()
        try:
            kind, payload = self._read_frame()
        except EOFError:
            self._stop()
            raise TtsUnavailable(_unavailable_message(self._stderr_tail())) from None
        if kind != READY:
            self._stop()
            raise TtsUnavailable(_unavailable_message(payload.decode()))
        self._voices = tuple(
            VoiceInfo(v["id"], v["name"], tuple(v["languages"])) for v in json.loads(payload)
        )

    def _exchange(self, request: bytes) -> tuple[bytes, bytes]:
        assert self._process is not None
        assert self._process.stdin is not None
        self._process.stdin.write(_LENGTH.pack(len(request)) + request)
        self._process.stdin.flush()
        return self._read_frame()

    def _read_frame(self) -> tuple[bytes, bytes]:
        header = self._read(_HEADER.size)
        kind, size = _HEADER.unpack(header)
        return kind, self._read(size)

    def _read(self, size: int) -> bytes:
        assert self._process is not None
        assert self._process.stdout is not None
        fd = self._process.stdout.fileno()
        deadline = time.monotonic() + self._timeout
        chunks: list[bytes] = []
        remaining = size
        while remaining:
            ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                self._stop()
                raise TtsError(f"the speech worker did not answer within {self._timeout:g} s")
            chunk = os.read(fd, remaining)
            if not chunk:
                # Give the stderr drain a moment so the error names espeak-ng's own message.
                self._process.wait(timeout=self._timeout)
                time.sleep(0.05)
                raise EOFError(f"worker exited with code {self._process.returncode}")
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)

    def _drain_stderr(self, process: subprocess.Popen[bytes]) -> None:
        assert process.stderr is not None
        with process.stderr:
            for raw in process.stderr:
                line = raw.decode(errors="replace").rstrip()
                if line:
                    self._stderr.append(line)
                    logger.warning("tts worker: %s", line)

    def _stderr_tail(self) -> str:
        return " | ".join(self._stderr) or "(no message)"

    def _stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                stream.close()
        try:
            process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _unavailable_message(reason: str) -> str:
    return (
        f"text-to-speech is unavailable: {reason}. Install espeak-ng and its library "
        "(Debian/Ubuntu: apt-get install espeak-ng libespeak-ng1) and check ESPEAK_DATA_PATH"
    )


def find_voice(voices: Sequence[VoiceInfo], *, voice: str | None, locale: str) -> VoiceInfo:
    """The voice named `voice` (id or name), else the best voice for `locale`."""
    if voice is not None:
        wanted = voice.lower()
        for info in voices:
            if wanted in (info.id.lower(), info.name.lower(), info.id.lower().split("/")[-1]):
                return info
        raise TtsUnavailable(_no_voice_message(f"no espeak-ng voice named {voice!r}", voices))
    tag = locale.lower().replace("_", "-")
    language = tag.split("-")[0]
    tiers = (
        lambda info: tag in (lang.lower() for lang in info.languages),
        lambda info: info.id.lower().split("/")[-1] == language,
        lambda info: any(lang.lower().split("-")[0] == language for lang in info.languages),
    )
    for fits in tiers:
        for info in voices:
            if fits(info):
                return info
    raise TtsUnavailable(_no_voice_message(f"no espeak-ng voice for locale {locale!r}", voices))


def _no_voice_message(what: str, voices: Sequence[VoiceInfo]) -> str:
    sample = ", ".join(v.id for v in voices[:8])
    return f"{what} (installed: {sample}{', ...' if len(voices) > 8 else ''})"
