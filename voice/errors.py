"""Errors raised by the voice package: bad audio, missing models, unusable engines."""

# The issue and STYLE.md name these errors without an "Error" suffix (AudioEmpty,
# ModelMissing, like ProductNotFound), so pep8-naming's suffix rule is off here.
# ruff: noqa: N818

from __future__ import annotations

from catalog.errors import VoiceCartError


class VoiceError(VoiceCartError):
    """Base of every voice error."""


class AudioFormatError(VoiceError):
    """The input is not audio we can decode; the detail names what was received."""

    status_code = 415


class AudioTooLarge(VoiceError):
    """The input is longer or bigger than the configured limit."""

    status_code = 413


class AudioEmpty(VoiceError):
    """The input holds no samples at all."""

    status_code = 422


class ModelMissing(VoiceError):
    """A speech model is not installed; the detail says the exact command or URL that fixes it."""

    status_code = 503


class ModelInvalid(VoiceError):
    """A model file or archive is damaged: wrong checksum, missing files, unsafe archive."""

    status_code = 503


class DownloadFailed(VoiceError):
    """A model download did not complete."""

    status_code = 502


class EngineUnavailable(VoiceError):
    """A speech engine's Python package is not installed or cannot run here."""

    status_code = 503
