"""The public door of guard.detect, and what importing it costs."""

from __future__ import annotations

import subprocess
import sys

import guard.detect

EXPECTED = {
    "BUILTIN_ENTITIES",
    "DetectionError",
    "Detector",
    "EntityAwareDetector",
    "NER_ENTITIES",
    "PiiConfigError",
    "PiiScan",
    "PiiScanner",
    "PiiSettings",
    "PiiWarning",
    "PresidioDetector",
    "RecognizerSpec",
    "RegexTimeout",
    "ScanMismatch",
    "Span",
    "TextTooLarge",
}


def test_exported_names_are_exactly_the_intended_ones() -> None:
    assert guard.detect.__all__ == sorted(guard.detect.__all__)
    assert set(guard.detect.__all__) == EXPECTED
    for name in guard.detect.__all__:
        assert hasattr(guard.detect, name), name


def test_the_obfuscation_entities_are_built_in() -> None:
    assert {
        "OBFUSCATED_EMAIL",
        "OBFUSCATED_PHONE",
        "CONTACT_HANDLE",
    } <= guard.detect.BUILTIN_ENTITIES
    assert {"PERSON", "LOCATION"} <= guard.detect.NER_ENTITIES


def _run(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_importing_guard_detect_does_not_import_presidio_or_spacy() -> None:
    code = (
        "import sys, guard.detect; print([m for m in ('presidio_analyzer', 'presidio_anonymizer', "
        "'spacy', 'tldextract', 'phonenumbers', 'regex') if m in sys.modules])"
    )
    assert _run(code) == "[]"


def test_missing_presidio_says_how_to_install_it() -> None:
    code = (
        "import sys; sys.modules['presidio_analyzer'] = None\n"
        "from guard import DependencyMissing\n"
        "from guard.detect import PiiScanner, PiiSettings\n"
        "try:\n"
        "    PiiScanner(PiiSettings(entities=['EMAIL_ADDRESS'], fields=['m']))\n"
        "except DependencyMissing as exc:\n"
        "    print(exc)\n"
    )
    assert "pip install 'agent-guard[pii]'" in _run(code)
