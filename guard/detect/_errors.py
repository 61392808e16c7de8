"""Errors and warnings of PII detection; every error derives from the guard's GuardError."""

from __future__ import annotations

from guard._exceptions import DependencyMissing, GuardError, PolicyError

INSTALL_HINT = "pip install 'agent-guard[pii]'"


class PiiConfigError(PolicyError):
    """The pack's `pii` section names something the detector cannot provide or build.

    A PolicyError, so pack loading reports it like any other pack error; it carries no
    file position because it is raised after parsing, when the detector is built.
    """

    code = "pii_config_invalid"

    def __init__(self, message: str) -> None:
        GuardError.__init__(self, message)
        self.file = self.line = self.column = self.text = None
        self.reason = message


class DetectionError(GuardError):
    """One text could not be scanned; the scanner reports it as that field's outcome."""

    code = "pii_detection_error"


class TextTooLarge(DetectionError):
    """A text is longer than `max_text_chars`, so it is refused rather than scanned in part."""

    code = "pii_text_too_large"


class RegexTimeout(DetectionError):
    """A recognizer's pattern ran past its time budget on one text."""

    code = "pii_regex_timeout"


class ScanMismatch(DetectionError):
    """`redact` or `mask_for_audit` was given an action that is not the one scanned."""

    code = "pii_scan_mismatch"


class PiiWarning(UserWarning):
    """Detection will run with less coverage than the pack asked for (e.g. no NER model)."""


def missing_presidio(exc: ImportError) -> DependencyMissing:
    """The error raised when presidio (or spaCy) is not installed, with the install hint."""
    name = exc.name or "presidio-analyzer"
    return DependencyMissing(
        f"PII detection needs {name!r}, which is not installed: {INSTALL_HINT}"
    )
