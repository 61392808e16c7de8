"""US_SSN: Presidio's SSN recognizer, plus SSNs written right after their name.

Presidio scores nine digits in a row 0.05 (`SSN4 (very weak)`), and its context words
lift that to 0.4: under a 0.5 threshold `SSN: 536228761` was never reported, and
`social security number is 097630465` was reported as the phone number its digits also
spell (the word "number" lifts a phone match). Here nine digits written as an SSN is
written (`536228761`, `536-22-8761`, `536 22 8761`, `536.22.8761`, `536 - 22 - 8761`)
right after its name
(`SSN`, `SSN#`, `social security`, `social security number`, `social security no.`, with
`is`, `:`, `#` or a form's line break between) score `NAMED_SCORE`, and a phone match on
the same digits is dropped (see `_entities.OUTRANKS`). Presidio's checks still apply
(`000`, `666`, `00`, `0000`, one repeated digit, the well-known samples). Nine digits
with no such name before them are scored as Presidio scores them.
"""

from __future__ import annotations

import re

from presidio_analyzer import Pattern
from presidio_analyzer.predefined_recognizers import UsSsnRecognizer

from guard.detect._entities import SSN_AFTER_ITS_NAME

NAMED_SCORE = 0.7
_NAME = r"(?:ssns?|ss\#|social[ \t\-]*security(?:[ \t\-]*(?:numbers?|nos?|num|\#))?)"
_BETWEEN = r"(?:[ \t\r\n:#=\-.,(]|\b(?:is|was|number|no|num)\b)*"
_SEP = r"(?:[- .]|[ \t]-[ \t])"  # `536-22-8761`, also `536 - 22 - 8761` as typed by hand
_DIGITS = rf"(?:[0-9]{{9}}|[0-9]{{3}}(?P<sep>{_SEP})[0-9]{{2}}(?P=sep)[0-9]{{4}})"
# The look-behind reads the digits again, backwards: tried only after nine digits matched,
# it costs no more than one of Presidio's patterns.
_LOOSE_DIGITS = rf"[0-9]{{3}}{_SEP}?[0-9]{{2}}{_SEP}?[0-9]{{4}}"
_SPACED_HYPHEN = re.compile(r"[ \t]-[ \t]")
NAMED_SSN = rf"\b{_DIGITS}\b(?<=\b{_NAME}{_BETWEEN}{_LOOSE_DIGITS})"


class GuardSsnRecognizer(UsSsnRecognizer):
    """Presidio's UsSsnRecognizer with one more pattern: nine digits right after `SSN`."""

    PATTERNS = [*UsSsnRecognizer.PATTERNS, Pattern(SSN_AFTER_ITS_NAME, NAMED_SSN, NAMED_SCORE)]

    def invalidate_result(self, pattern_text: str) -> bool:
        """Presidio's checks, a hyphen with a space either side (`536 - 22 - 8761`) being
        one separator: Presidio read its spaces and hyphens as mismatched separators."""
        return bool(super().invalidate_result(_SPACED_HYPHEN.sub("-", pattern_text)))
