"""EMAIL_ADDRESS: Presidio's e-mail recognizer, with its TLD check kept offline."""

from __future__ import annotations

from presidio_analyzer.predefined_recognizers import EmailRecognizer

from guard.detect._recognizers._base import is_registrable


class OfflineEmailRecognizer(EmailRecognizer):
    """Presidio's EmailRecognizer whose domain check uses the bundled public-suffix list.

    The stock recognizer validates with `tldextract.extract`, which downloads the list on
    first use (a failed connection and a logged traceback per process when offline).
    """

    def validate_result(self, pattern_text: str) -> bool:
        """True when the text after `@` ends in a known public suffix."""
        domain = pattern_text.rpartition("@")[2]
        return is_registrable(domain)
