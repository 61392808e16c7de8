"""PII detection: find, redact and mask personal data in the fields of an action.

`PiiScanner` reads a pack's `pii` section, scans the named fields with a `Detector`
(by default Presidio's recognizers and spaCy NER, built once per process and never
downloading anything) and redacts copies. Presidio and spaCy are imported only when a
scanner is built; without them the error says `pip install 'agent-guard[pii]'`.
"""

from __future__ import annotations

from guard.detect._engine import PresidioDetector
from guard.detect._entities import BUILTIN_ENTITIES, NER_ENTITIES
from guard.detect._errors import (
    DetectionError,
    PiiConfigError,
    PiiWarning,
    RegexTimeout,
    ScanMismatch,
    TextTooLarge,
)
from guard.detect._protocol import Detector, EntityAwareDetector, Span
from guard.detect._scanner import PiiScan, PiiScanner
from guard.detect._settings import PiiSettings, RecognizerSpec

__all__ = [
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
]
