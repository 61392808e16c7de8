"""CREDIT_CARD: Presidio's card recognizer, plus the card numbers its pattern misses.

Presidio's pattern wants a first group of `3`, `4`, `5[0-5]`, `6` or `1` and at most
17 digits joined by single spaces or dashes. So Mastercard's 2-series (`2221` to
`2720`, issued since 2017: `2223 0031 2200 3222`), 19-digit numbers (`4062 3079 8683
0784 852`) and numbers written with other separators between their groups
(`4111.1111.1111.1111`, `4111/1111/1111/1111`, `5500 - 0000 - 0000 - 0004`, double
spaces) were never found, whatever the context. The patterns below find them; every
match must still pass the Luhn check and hold 13 to 19 digits. A dotted chain that
goes on (`2024.4111.1111.1111.1111`) is not read as a card. A number written one digit
at a time (`4 2 4 2 4 2 4 2 4 2 4 2 4 2 4 2`) is read whole.

A number starting with `3` must also have a length its issuer uses (`THREE_SERIES`):
a phone's IMEI (`IMEI 356938035643809`, 15 digits with a Luhn check digit, most of them
starting with `35`) is no card, as JCB's `35` cards have 16 to 19 digits.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from presidio_analyzer import Pattern
from presidio_analyzer.predefined_recognizers import CreditCardRecognizer

_TWO_SERIES = r"(?:222[1-9]|22[3-9]\d|2[3-6]\d{2}|27[01]\d|2720)"
_FIRST = rf"(?:4\d{{3}}|5[0-5]\d{{2}}|6\d{{3}}|3\d{{3}}|{_TWO_SERIES})"
TWO_SERIES = rf"\b{_TWO_SERIES}(?P<sep>[- ]?)\d{{4}}(?P=sep)\d{{4}}(?P=sep)\d{{4}}\b"
NINETEEN_DIGITS = r"\b[4-6]\d{3}(?P<sep>[- ]?)\d{4}(?P=sep)\d{4}(?P=sep)\d{4}(?P=sep)\d{3}\b"
ODD_SEPARATORS = (
    rf"(?<![\w.,/\-]){_FIRST}(?P<sep>[._/]|[ ]{{2,3}}|[ ]-[ ])\d{{3,6}}"
    rf"(?:(?P=sep)\d{{3,6}}){{1,3}}(?![\w]|[.,/\-]\d)"
)
# One digit at a time (`4 2 4 2 4 2 4 2 4 2 4 2 4 2 4 2`, `4-1-1-1-...`), written so
# that no group looks like a card's: 13 to 19 digits, one separator throughout.
ONE_BY_ONE = r"(?<![\w.,/\-])[2-6](?P<sep>[ \-.])\d(?:(?P=sep)\d){11,17}(?![\w]|[.,/\-]\d)"
# Card numbers starting with `3`: the lengths each issuer's prefix has (American
# Express 34 and 37, JCB 35, Diners Club 30, 36, 38 and 39); no card starts with 31-33.
THREE_SERIES: tuple[tuple[str, Sequence[int]], ...] = (
    ("34", (15,)), ("37", (15,)), ("35", range(16, 20)), ("31", ()), ("32", ()), ("33", ()),
    ("3", range(14, 20)),
)  # fmt: skip
SEPARATORS = [("-", ""), (" ", ""), (".", ""), ("_", ""), ("/", "")]
MIN_DIGITS, MAX_DIGITS = 13, 19


class GuardCardRecognizer(CreditCardRecognizer):
    """Presidio's CreditCardRecognizer with three more patterns (see the module doc)."""

    PATTERNS = [
        *CreditCardRecognizer.PATTERNS,
        Pattern("Mastercard 2-series", TWO_SERIES, 0.3),
        Pattern("Card of 19 digits", NINETEEN_DIGITS, 0.3),
        Pattern("Card with odd separators", ODD_SEPARATORS, 0.3),
        Pattern("Card one digit at a time", ONE_BY_ONE, 0.3),
    ]

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("replacement_pairs", SEPARATORS)
        super().__init__(**kwargs)

    def validate_result(self, pattern_text: str) -> bool:
        """True when the match holds 13 to 19 digits, as many as its issuer uses (for the
        `3` series), and passes the Luhn check."""
        digits = "".join(c for c in pattern_text if c.isdigit())
        if not MIN_DIGITS <= len(digits) <= MAX_DIGITS or not _issuer_length(digits):
            return False
        return bool(super().validate_result(pattern_text))


def _issuer_length(digits: str) -> bool:
    """False for a number starting with `3` whose length no issuer of its prefix uses."""
    for prefix, lengths in THREE_SERIES:
        if digits.startswith(prefix):
            return len(digits) in lengths
    return True
