"""The oscrypto fix: flask_ask_sdk imports in a fresh interpreter, and oscrypto really works."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from skills.compat import REPLACEMENTS, TARGETS, fix_oscrypto, patch_source
from tests.conftest import REPO
from tests.skills.conftest import Chain, make_cert

FIXED_IMPORT = """
import json
from skills.compat import fix_oscrypto
fix_oscrypto()
import flask_ask_sdk.skill_adapter
from oscrypto._openssl import _libcrypto
from oscrypto._openssl._libcrypto import libcrypto_version, libcrypto_version_info
import sys
loaded = [m for m in sys.modules if m.startswith("oscrypto._openssl._libcrypto_")]
source = sys.modules[loaded[0]]
print(json.dumps({"version": libcrypto_version, "info": list(libcrypto_version_info),
                  "string": source.version_string}))
"""


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    """Run code in a fresh interpreter of this venv, from the repository root."""
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def libcrypto_version_string() -> str:
    """The version string of the libcrypto that oscrypto would load (read with ctypes)."""
    code = (
        "import ctypes, ctypes.util\n"
        "lib = ctypes.CDLL(ctypes.util.find_library('crypto'))\n"
        "lib.OpenSSL_version.restype = ctypes.c_char_p\n"
        "lib.OpenSSL_version.argtypes = [ctypes.c_int]\n"
        "print(lib.OpenSSL_version(0).decode())\n"
    )
    result = run_python(code)
    if result.returncode != 0:
        pytest.skip(f"no OpenSSL 1.1+/3 libcrypto to read: {result.stderr.strip()[-200:]}")
    return result.stdout.strip()


def test_flask_ask_sdk_imports_in_a_fresh_interpreter_with_the_fix() -> None:
    result = run_python(FIXED_IMPORT)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert len(found["info"]) >= 3
    assert found["version"] in found["string"]
    assert (
        ".".join(str(part) for part in found["info"][:3])
        == re.search(r"\d+\.\d+\.\d+", found["string"]).group()
    )  # type: ignore[union-attr]


def test_building_the_web_service_in_a_fresh_interpreter_needs_nothing_else() -> None:
    code = (
        "from ask_sdk_core.skill_builder import SkillBuilder\n"
        "from skills.webservice import build_wsgi_app\n"
        "skill = SkillBuilder().create()\n"
        "app = build_wsgi_app(skill, skill_id='x', signatures=None, verify=False)\n"
        "import flask_ask_sdk.skill_adapter, certvalidator\n"
        "print(sorted(r.rule for r in app.url_map.iter_rules()))\n"
    )
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    assert "'/alexa'" in result.stdout


def test_without_the_fix_this_openssl_breaks_the_import() -> None:
    """Shows the bug the fix is for, on machines whose OpenSSL has a two-digit version part."""
    version = libcrypto_version_string()
    if re.search(r"\b\d\.\d\.\d[a-z]*\b", version):
        pytest.skip(f"{version!r} is one that oscrypto 1.3.0 parses by itself")
    result = run_python("import flask_ask_sdk.skill_adapter")
    assert result.returncode != 0
    assert "Error detecting the version of libcrypto" in result.stderr


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_patch_applies_exactly_to_the_installed_oscrypto(name: str) -> None:
    spec = importlib.util.find_spec(name)
    assert spec is not None
    assert spec.origin is not None
    source = Path(spec.origin).read_text(encoding="utf-8")
    patched = patch_source(source)
    assert patched is not None
    for old, new in REPLACEMENTS:
        assert old not in patched
        assert new in patched
    changed = [
        (a, b) for a, b in zip(source.splitlines(), patched.splitlines(), strict=True) if a != b
    ]
    assert len(changed) == len(REPLACEMENTS)  # nothing else in the module moved
    assert patch_source(patched) is None  # a fixed oscrypto is left alone
    assert patch_source("print('hello')") is None


@pytest.mark.parametrize(
    ("version_string", "expected", "old_reads_it"),
    [
        ("OpenSSL 3.0.19 27 Jan 2026", "3.0.19", False),
        ("OpenSSL 3.5.10 1 Jul 2027", "3.5.10", False),
        ("OpenSSL 1.1.1w  11 Sep 2023", "1.1.1w", True),
        ("OpenSSL 3.0.2 15 Mar 2022", "3.0.2", True),
    ],
)
def test_fixed_regex_reads_versions_the_old_one_missed(
    version_string: str, expected: str, old_reads_it: bool
) -> None:
    (old, new), *_ = REPLACEMENTS
    scope = {"re": re, "version_string": version_string}
    match = eval(new, scope)  # the exact expression oscrypto will run
    assert match is not None
    assert match.group(1) == expected
    old_match = eval(old, scope)
    assert (old_match is not None) == old_reads_it


def test_patched_oscrypto_validates_a_chain_through_certvalidator(chain: Chain) -> None:
    """The fix makes oscrypto usable, not just importable: its libcrypto does the RSA checks."""
    fix_oscrypto()
    from certvalidator import CertificateValidator, ValidationContext
    from certvalidator.errors import PathBuildingError, PathValidationError
    from cryptography.hazmat.primitives import serialization

    def der(cert: object) -> bytes:
        return cert.public_bytes(serialization.Encoding.DER)  # type: ignore[attr-defined, no-any-return]

    context = ValidationContext(trust_roots=[der(chain.root)])
    CertificateValidator(der(chain.leaf), [der(chain.intermediate)], context).validate_usage(
        {"digital_signature"}
    )
    forged = make_cert(
        chain.leaf_key,
        "echo-api.amazon.com",
        chain.leaf_key,
        "VoiceCart Test CA",
        ca=False,
        sans=("echo-api.amazon.com",),
    )
    validator = CertificateValidator(der(forged), [der(chain.intermediate)], context)
    with pytest.raises((PathValidationError, PathBuildingError)):
        validator.validate_usage({"digital_signature"})
