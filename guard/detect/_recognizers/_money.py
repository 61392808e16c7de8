"""Money amounts that digit-run recognizers must not read as phone numbers.

`$2,500,000.00` is nine digits in four groups with odd separators, and `1.234.567,89`
the same the European way: both look like a phone number to a run-of-digits rule. An
amount is told apart by what stands next to it (a currency sign or an ISO code) or by
its shape (thousands grouping then a decimal part, with a different separator).
"""

from __future__ import annotations

import re
import unicodedata

# Currency codes and the abbreviations that are written like them before an amount.
CURRENCY_WORDS = frozenset(
    {
        "aud", "brl", "cad", "chf", "cny", "czk", "dkk", "eur", "euro", "euros", "gbp",
        "hkd", "huf", "ils", "inr", "jpy", "krw", "mxn", "nis", "nok", "nzd", "pln", "rmb",
        "rs", "rub", "sek", "sgd", "usd", "usdc", "usdt", "zar", "dollars", "bucks",
    }
)  # fmt: skip

_WORD_BEFORE = re.compile(r"([A-Za-z]{2,6})\.?\s?$")
_WORD_AFTER = re.compile(r"^\s?([A-Za-z]{2,7})\b")
# 1-3 digits, then groups of three joined by one separator, then a decimal part of 1-2
# digits after a different separator: 2,500,000.00 / 1.234.567,89 / 1 234 567,89
_AMOUNT = re.compile(
    r"\d{1,3}(?P<sep>[,.\u00a0\u202f' ])\d{3}(?:(?P=sep)\d{3})*(?P<dec>[.,])\d{1,2}"
)


def is_currency_sign(char: str) -> bool:
    """True for `$`, `€`, `£`, `₹` and every other character of Unicode category Sc."""
    return unicodedata.category(char) == "Sc"


def near_currency(text: str, start: int, end: int) -> bool:
    """True when a currency sign or code stands right before or after `text[start:end]`
    (at most one space between)."""
    before = text[max(0, start - 8) : start]
    after = text[end : end + 8]
    stripped_before, stripped_after = before.rstrip(), after.lstrip()
    if len(before) - len(stripped_before) <= 1 and stripped_before:
        if is_currency_sign(stripped_before[-1]):
            return True
    if len(after) - len(stripped_after) <= 1 and stripped_after:
        if is_currency_sign(stripped_after[0]):
            return True
    word = _WORD_BEFORE.search(before)
    if word is not None and word.group(1).lower() in CURRENCY_WORDS:
        return True
    word = _WORD_AFTER.match(after)
    return word is not None and word.group(1).lower() in CURRENCY_WORDS


def looks_like_amount(candidate: str) -> bool:
    """True when the candidate is thousands-grouped digits with a decimal part."""
    m = _AMOUNT.fullmatch(candidate.strip())
    return m is not None and m.group("sep") != m.group("dec")


def is_money(text: str, start: int, end: int) -> bool:
    """True when `text[start:end]` reads as an amount of money, not a number to call."""
    return looks_like_amount(text[start:end]) or near_currency(text, start, end)
