"""IBAN_CODE: Presidio's IBAN recognizer, plus IBANs typed in lower or mixed case.

Presidio's pattern wants upper-case letters, so `my iban is de89370400440532013000` or
`Gb82 West 1234 5698 7654 32` was never found. The text is read a second time with its
ASCII letters upper-cased (one character for one, so no offset moves) when it holds a
lower-case country code before two digits; what that reading finds and the first did
not is kept. The checksum and the country's format are checked as for any IBAN.
"""

from __future__ import annotations

import re
import string
from typing import Any

from presidio_analyzer.predefined_recognizers import IbanRecognizer

_UPPER = str.maketrans(string.ascii_lowercase, string.ascii_uppercase)
# Where an IBAN in other than upper case may start: a country code with a lower-case
# letter, then the two check digits.
_LOWER_START = re.compile(r"(?<![A-Za-z0-9])(?:[a-z][A-Za-z]|[A-Z][a-z])[0-9]{2}")


class GuardIbanRecognizer(IbanRecognizer):
    """Presidio's IbanRecognizer that also reads IBANs typed in lower or mixed case."""

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: Any = None, regex_flags: Any = None
    ) -> list[Any]:
        """Presidio's results, and those found with the text's letters upper-cased."""
        results = list(super().analyze(text, entities, nlp_artifacts, regex_flags))
        if _LOWER_START.search(text) is None:
            return results
        for found in super().analyze(text.translate(_UPPER), entities, nlp_artifacts, regex_flags):
            if not any(r.start < found.end and found.start < r.end for r in results):
                results.append(found)
        return results
