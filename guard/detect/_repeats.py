"""Numbers a message writes again in a form no recognizer reads.

A message that gives its number twice, once as a recognizer reads it and once not
(`+44 7911 123456 i.e. 7911123456`, an IBAN and then its account part alone, an SSN
and then its nine digits), would keep the second after redaction. So, in the text a
number was found in, a run of digits (groups joined by one space, dash, dot or slash,
an area code in brackets) is that number again when it has seven digits or more and,
leading zeros aside, the same digits; or, for a phone number (or a handle that is
one), the same digits less or plus a country calling code (and a trunk `0` after it);
or, for an IBAN, the digits after its two check digits. Any other run (the last four
digits of a card, a quantity, another number sharing some digits) is left alone.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence

MIN_DIGITS = 7
PHONE_LIKE = frozenset({"PHONE_NUMBER", "OBFUSCATED_PHONE", "CONTACT_HANDLE"})
# Types whose values are numbers, compared by their digits (an allow-list entry too).
NUMBER_ENTITIES = frozenset(
    {"PHONE_NUMBER", "OBFUSCATED_PHONE", "CREDIT_CARD", "US_SSN", "US_ITIN", "UK_NHS"}
)
_RUN = re.compile(r"\+?\(?\d(?:(?:[ .\-/]|\)[ ]?|[ ]?\()?\d)*")
_GROUP = re.compile(r"[^ ]+")  # the groups of a run, between its spaces
MAX_GROUPS = 8  # the most groups one number is written in (`+44 (0) 79 11 12 34 56`)


def digits_of(text: str) -> str:
    """The decimal digits of `text` as ASCII (full-width and other-script digits too)."""
    return "".join(str(unicodedata.decimal(c)) for c in text if c.isdecimal())


@functools.cache
def _country_codes() -> frozenset[str]:
    try:
        import phonenumbers
    except ImportError:  # pragma: no cover - the built-in detector needs it anyway
        return frozenset()
    return frozenset(str(code) for code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE)


_INTERNATIONAL = re.compile(r"\A\W*(?:\+|00)")
_TRUNK = re.compile(r"\A\W*0")


def same_number(run: str, number: str, entity: str) -> bool:
    """True when the text `run` writes the `entity` written `number` again: the same
    digits, leading zeros aside; for an IBAN, the digits after its check digits; for a
    phone number, the same digits less or plus a country calling code, where the longer
    is written in international form (`+44 ...`, `0044 ...`) or the shorter with a trunk
    `0` (`07911 123456` and `447911123456`)."""
    return _same(run, digits_of(run), number, digits_of(number), entity)


def _same(run: str, run_digits: str, number: str, number_digits: str, entity: str) -> bool:
    """`same_number` with the digits of `run` and `number` read already."""
    r, n = run_digits.lstrip("0"), number_digits.lstrip("0")
    if len(r) < MIN_DIGITS or len(n) < MIN_DIGITS:
        return False
    if r == n:
        return True
    if entity == "IBAN_CODE":
        return len(n) > 2 and number_digits[2:].lstrip("0") == r
    if entity not in PHONE_LIKE:
        return False
    (longer, long_text), (shorter, short_text) = sorted(
        [(r, run), (n, number)], key=lambda x: len(x[0]), reverse=True
    )
    if len(longer) == len(shorter) or not longer.endswith(shorter):
        return False
    if not (_INTERNATIONAL.match(long_text) or _TRUNK.match(short_text)):
        return False
    head = longer[: len(longer) - len(shorter)]
    codes = _country_codes()
    return head in codes or (head.endswith("0") and head[:-1] in codes)


def repeats(text: str, numbers: Sequence[tuple[int, int, str]]) -> list[tuple[int, int, int]]:
    """(start, end, index into `numbers`) of each digit run of `text`, outside the
    `numbers` spans (start, end, entity type), that writes one of them again."""
    found = [(text[s:e], digits_of(text[s:e]), entity) for s, e, entity in numbers]
    if not any(len(digits.lstrip("0")) >= MIN_DIGITS for _, digits, _ in found):
        return []
    blanked = list(text)
    for start, end, _ in numbers:
        blanked[start:end] = "\x00" * (end - start)
    out = []
    for m in _RUN.finditer("".join(blanked)):
        if len(digits_of(m.group()).lstrip("0")) < MIN_DIGITS:
            continue
        # A run of space-separated groups may hold the number and more (`7911123456 2
        # boxes`, the number twice): the longest window of groups that is the number.
        groups = [(g.start() + m.start(), g.end() + m.start()) for g in _GROUP.finditer(m.group())]
        k = 0
        while k < len(groups):
            for stop in range(min(len(groups), k + MAX_GROUPS), k, -1):
                start, end = groups[k][0], groups[stop - 1][1]
                i = _which(text[start:end], found)
                if i is not None:
                    if text[start] == "(" and ")" not in text[start:end]:
                        start += 1
                    out.append((start, end, i))
                    k = stop
                    break
            else:
                k += 1
    return out


def _which(run: str, found: list[tuple[str, str, str]]) -> int | None:
    """The index of the number (text, digits, entity) that `run` writes again, if any."""
    run_digits = digits_of(run)
    for i, (number, digits, entity) in enumerate(found):
        if _same(run, run_digits, number, digits, entity):
            return i
    return None


# A value whose digit groups go on past it, joined as its own groups are
# (`4111-1111-1111-1111-1111`, `536-22-1234-99`): only a part of the chain is the value
# a recognizer read, and redacting that part alone left the rest (`<CREDIT_CARD>-1111`).
CHAINED = frozenset({"CREDIT_CARD", "IBAN_CODE", "US_SSN"})
_LAST_SEPARATOR = re.compile(r"\d([ .\-/_]|[ ]-[ ]|[ ]{2,3})\d+\W*\Z")
_FIRST_SEPARATOR = re.compile(r"\A\W*\w+?([ .\-/_]|[ ]-[ ]|[ ]{2,3})\d")


def chain_extent(text: str, start: int, end: int, lo: int, hi: int) -> tuple[int, int]:
    """`(start, end)` widened over the digit groups joined to it by its own separator,
    within `text[lo:hi]` (where the values before and after it end and start)."""
    value = text[start:end]
    last = _LAST_SEPARATOR.search(value)
    if last is not None:
        after = re.compile(re.escape(last.group(1)) + r"\d{2,}(?!\w|[.,/\-:]\d)")
        while (m := after.match(text, end, hi)) is not None:
            end = m.end()
    first = _FIRST_SEPARATOR.search(value)
    if first is not None:
        before = re.compile(r"(?<![\w.,/\-])\d{2,}" + re.escape(first.group(1)) + r"\Z")
        while (m := before.search(text, lo, start)) is not None:
            start = m.start()
    return start, end
