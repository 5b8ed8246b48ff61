"""Let oscrypto 1.3.0 read OpenSSL versions with two-digit parts (3.0.19) before ask-sdk loads it.

ask-sdk-webservice-support imports certvalidator, which imports oscrypto. oscrypto 1.3.0 (the
latest release on PyPI) finds the libcrypto version with the regex `\\d\\.\\d\\.\\d[a-z]*`, so
"OpenSSL 3.0.19" does not match and the import fails with "Error detecting the version of
libcrypto" (wbond/oscrypto issues 75 and 78, fixed on master but never released). `fix_oscrypto`
installs an import hook that compiles oscrypto's two libcrypto loader modules with upstream's
fixed regexes. It changes nothing else, and does nothing when the buggy lines are not there
(a fixed oscrypto release, or a different file). See docs/alexa.md for the options we weighed.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import logging
import sys
from collections.abc import Sequence
from types import CodeType, ModuleType

logger = logging.getLogger(__name__)

TARGETS = frozenset({"oscrypto._openssl._libcrypto_cffi", "oscrypto._openssl._libcrypto_ctypes"})

# (buggy line in oscrypto 1.3.0, upstream's fix), exactly as the characters appear in the source.
REPLACEMENTS = (
    (
        r"re.search('\\b(\\d\\.\\d\\.\\d[a-z]*)\\b', version_string)",
        r"re.search('\\b(\\d+\\.\\d+\\.\\d+[a-z]*)\\b', version_string)",
    ),
    (
        r"re.search('(?<=LibreSSL )(\\d\\.\\d(\\.\\d)?)\\b', version_string)",
        r"re.search('(?<=LibreSSL )(\\d+\\.\\d+(\\.\\d+)?)\\b', version_string)",
    ),
    (
        r"re.sub('(\\d)([a-z]+)', '\\1.\\2', version)",
        r"re.sub('(\\d+)([a-z]+)', '\\1.\\2', version)",
    ),
)


def patch_source(source: str) -> str | None:
    """The loader source with upstream's fixed regexes, or None when the buggy lines are absent."""
    if not all(source.count(old) == 1 for old, _ in REPLACEMENTS):
        return None
    for old, new in REPLACEMENTS:
        source = source.replace(old, new)
    return source


class _PatchingLoader(importlib.machinery.SourceFileLoader):
    """Compiles the module from its patched source (never from, or into, a stale .pyc)."""

    def get_code(self, fullname: str) -> CodeType:
        """Code for the module, from the patched source when the patch applies."""
        source = self.get_data(self.path).decode("utf-8")
        patched = patch_source(source)
        if patched is None:
            logger.info("oscrypto %s has no buggy version regex; loading it unchanged", fullname)
            return super().get_code(fullname)  # type: ignore[return-value]
        logger.debug("loading %s with the fixed OpenSSL version regexes", fullname)
        return compile(patched, self.path, "exec", dont_inherit=True)


class _VersionRegexFinder(importlib.abc.MetaPathFinder):
    """Finds oscrypto's libcrypto loader modules and hands them to the patching loader."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        """The normal spec for the two target modules, with our loader; None for anything else."""
        if fullname not in TARGETS:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.origin is None:
            return None
        if not isinstance(spec.loader, importlib.machinery.SourceFileLoader):
            return spec
        spec.loader = _PatchingLoader(fullname, spec.origin)
        return spec


def fix_oscrypto() -> None:
    """Install the import hook (idempotent); call it before anything imports certvalidator."""
    if any(isinstance(finder, _VersionRegexFinder) for finder in sys.meta_path):
        return
    loaded = TARGETS.intersection(sys.modules)
    if loaded:
        # Already imported, so its version detection worked: nothing to fix.
        logger.debug("oscrypto loader already imported (%s); hook not needed", sorted(loaded))
        return
    sys.meta_path.insert(0, _VersionRegexFinder())
