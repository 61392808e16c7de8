"""OBFUSCATED_PHONE: phone numbers written to slip past a phone-number parser.

Caught: digits spelled out (`four one six five five five zero one nine nine`, also mixed
with digits and `double five`), digits spaced one by one (`4 1 6 5 5 5 0 1 9 9`),
look-alike letters (`4l6-555-O199`), and digit groups joined by unusual separators
(`416.555.0199`, `416/555/0199`, `416_555_0199`, `07911🔸123456`), digit groups on
lines of their own (`416\n555\n0199`), digits and number words
glued together (`4one6 5five5`), and digits of two scripts in one number (`4١6٥٥٥٠١٩٩`).
Near misses left alone: prices
(`$2,500,000.00`, `1.234.567,89 EUR`: a currency sign or code beside the run, or
thousands grouping with decimals), dates, times, IP addresses, version numbers,
thousands separators, map coordinates (`43.6532, -79.3832`) and plain order numbers (a
bare run of digits is PHONE_NUMBER's business, not an obfuscation). Separators of
another kind (no-break, thin or figure spaces, a non-breaking hyphen) are separators, not
a disguise.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import phonenumbers
import regex

from guard.detect._normalize import normalize
from guard.detect._recognizers._base import GuardRecognizer
from guard.detect._recognizers._money import is_money
from guard.detect._settings import DEFAULT_PHONE_REGIONS

_TOKEN = regex.compile(r"[^\W_]+")
# A token mixing digits and letters is read piece by piece: `4one6` is 4, one, 6.
_PIECE = regex.compile(r"\d+|[^\W\d_]+")
_SEPARATORS = frozenset(" \t\r\n-\u2010\u2011\u2012\u2013\u2014.,/_*|~()+[]:")
_ODD_SEPARATORS = frozenset("./_*|~:")
# Emoji and other symbols between digit groups (`07911🔸123456`) are a separator, and an
# odd one; ordinary text puts a symbol beside a number, rarely between its groups.
_SYMBOL = "So"
MAX_GAP = 3
MIN_DIGITS, MAX_DIGITS = 7, 15
WORDS = {
    "zero": "0", "oh": "0", "o": "0", "one": "1", "two": "2", "three": "3", "four": "4",
    "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9",
}  # fmt: skip
ZERO_WORDS = frozenset({"oh", "o"})
MULTIPLIERS = {"double": 2, "triple": 3}
# Letters that look like 0 and 1: Latin, and the Cyrillic and Greek o/O and I (`416-555-О199`
# with a Cyrillic О was no number).
_ZEROS, _ONES = "oO\u043e\u041e\u03bf\u039f", "lI\u0456\u0406\u0399"
_GLYPH = re.compile(rf"^[0-9{_ZEROS}{_ONES}]+\Z")
_GLYPH_MAP = str.maketrans(_ZEROS + _ONES, "0" * len(_ZEROS) + "1" * len(_ONES))
_YEAR = re.compile(r"^(?:19|20)\d\d\Z")
_BULLET = re.compile(r"\n[ \t]*[-\u2010-\u2014]")
_COORDINATE_GAP = re.compile(r"\s*,?\s*[-+]?")


@dataclass(frozen=True, slots=True)
class _Token:
    start: int
    end: int
    kind: str  # digits | word | mult | glyph
    value: str  # the digits it stands for ("" for a multiplier)
    times: int = 1
    glued: bool = False  # a piece of a token that mixes digits and letters


def _tokens(n: str, timeout_s: float) -> Iterator[_Token | None]:
    """The digit-like tokens of `n` (None for a word that is none), a token that mixes
    digits and number words (`4one6`, `41six55`) piece by piece."""
    for m in _TOKEN.finditer(n, timeout=timeout_s):
        token = _classify(m.group(0), m.start(), m.end())
        if token is not None or not any(c.isdecimal() for c in m.group(0)):
            yield token
            continue
        pieces = [
            _classify(p.group(0), p.start(), p.end(), glued=True)
            for p in _PIECE.finditer(n, m.start(), m.end())
        ]
        if all(p is not None for p in pieces):
            yield from pieces
        else:
            yield None


def _classify(text: str, start: int, end: int, *, glued: bool = False) -> _Token | None:
    lower = text.lower()
    if text.isdecimal():
        digits = "".join(str(unicodedata.decimal(c)) for c in text)
        return _Token(start, end, "digits", digits, glued=glued)
    if lower in WORDS and not (glued and lower in ZERO_WORDS):
        return _Token(start, end, "word", WORDS[lower], glued=glued)
    if lower in MULTIPLIERS and not glued:
        return _Token(start, end, "mult", "", MULTIPLIERS[lower])
    if not glued and _GLYPH.match(text) and any(c.isdigit() for c in text) and not text.isdigit():
        return _Token(start, end, "glyph", text.translate(_GLYPH_MAP))
    return None


def digits_of(run: list[_Token], n: str) -> str:
    """The decimal digits written in a run, as written (any script)."""
    return "".join(c for t in run if t.kind == "digits" for c in n[t.start : t.end])


def _mixed_scripts(digits: str) -> bool:
    """True when the digits come from more than one script (`4١6`): each script's digits
    are ten code points in a row, so a digit's zero is its code point minus its value."""
    return len({ord(c) - unicodedata.decimal(c) for c in digits}) > 1


class ObfuscatedPhoneRecognizer(GuardRecognizer):
    """Finds runs of digit-like tokens that spell a phone number in a disguised way.

    Scores: spelled digits 0.85, one-by-one spacing 0.75, look-alike letters 0.7,
    unusual separators or a number word or two among digits 0.6, groups on lines of
    their own 0.4 (a cue word lifts it).
    """

    ENTITY = "OBFUSCATED_PHONE"
    CONTEXT = ("phone", "call", "text", "number", "cell", "mobile", "whatsapp", "tel", "reach")

    def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[Any]:
        """Group digit-like tokens separated by short punctuation into runs, then judge each."""
        norm = normalize(text)
        n = norm.text
        results: list[Any] = []
        run: list[_Token] = []
        for token in _tokens(n, self.timeout_s):
            if token is not None and run and self._joined(n, run[-1], token):
                run.append(token)
                continue
            self._judge(run, text, n, norm.span, results)
            run = [token] if token is not None else []
        self._judge(run, text, n, norm.span, results)
        return results

    @staticmethod
    def _joined(n: str, before: _Token, token: _Token) -> bool:
        gap = n[before.end : token.start]
        if not gap:  # pieces of one token: `4one6`
            return before.glued or token.glued
        if len(gap) > MAX_GAP:
            return False
        return all(c in _SEPARATORS or unicodedata.category(c) == _SYMBOL for c in gap)

    def _judge(
        self, run: list[_Token], text: str, n: str, to_original: Any, out: list[Any]
    ) -> None:
        run = _trim(run)
        if not run:
            return
        digits = _digits(run)
        if not MIN_DIGITS <= len(digits) <= MAX_DIGITS:
            return
        start, end = to_original(run[0].start, run[-1].end)
        if is_money(text, start, end):
            return
        if _mixed_scripts(digits_of(run, n)) or any(
            text[slice(*to_original(t.start, t.end))] != n[t.start : t.end] for t in run
        ):
            # Digits in disguise: other digits than ASCII ones, or invisible characters
            # between them. Odd separators (`416\u00a0555\u2011 0199`) are no disguise.
            verdict: tuple[float, str] | None = (0.7, "look-alike digits")
        else:
            verdict = _rule(run, n, digits) if len(run) >= 2 else None
        if verdict is not None:
            out.append(self.result(start, end, verdict[0], verdict[1], digits))


def _trim(run: list[_Token]) -> list[_Token]:
    """Drop what cannot start or end a number: a leading `oh`/`o`, a dangling `double`."""
    while run and (run[0].kind == "word" and run[0].value == "0" and _is_zero_word(run[0])):
        run = run[1:]
    while run and run[-1].kind == "mult":
        run = run[:-1]
    return run


def _is_zero_word(token: _Token) -> bool:
    return token.end - token.start <= 2  # "o" or "oh", not "zero"


def _digits(run: list[_Token]) -> str:
    out: list[str] = []
    times = 1
    for token in run:
        if token.kind == "mult":
            times = token.times
            continue
        out.append(token.value[:1] * times + token.value[1:])
        times = 1
    return "".join(out)


def _rule(run: list[_Token], n: str, digits: str) -> tuple[float, str] | None:
    kinds = [t.kind for t in run]
    words = kinds.count("word") + kinds.count("mult")
    if words >= 3:
        return None if _counting(list(digits)) else (0.85, "spelled digits")
    if "glyph" in kinds and sum(c.isdigit() for t in run for c in n[t.start : t.end]) >= 4:
        return 0.7, "look-alike digits"
    if words and "glyph" not in kinds and kinds[0] == kinds[-1] == "digits":
        # `4 one 6 555 0199`, `416 triple five 0199`: a word or two between digits is a
        # disguise only when the whole is a valid number of ten digits or more (a word
        # before or after numbers, `two 1000 2000 3000`, is a count).
        if len(digits) >= 10 and _valid_number(digits):
            return 0.6, "digits and number words"
        return None
    if words or "glyph" in kinds:
        return None
    groups = [t.value for t in run]
    if sum(len(g) == 1 for g in groups) >= 6 and sum(len(g) > 1 for g in groups) <= 1:
        # `1 2 3 4 5 6 7 8`, `9 8 7 6 5 4 3 2 1` and `1 2 ... 9 10` count pages or steps
        return None if _counting(groups) else (0.75, "spaced digits")
    return _unusual_separators(run, n, groups, digits)


def _counting(numbers: Sequence[str]) -> bool:
    """`one two three four five six seven` (or `1 2 3 4 5 6 7 8 9 10`) counts; it is not a
    number someone dials. `numbers`: the run's numbers, one a digit or a group."""
    steps = {int(b) - int(a) for a, b in zip(numbers, numbers[1:], strict=False)}
    return steps == {1} or steps == {-1}


def _unusual_separators(
    run: list[_Token], n: str, groups: list[str], digits: str
) -> tuple[float, str] | None:
    gaps = "".join(n[a.end : b.start] for a, b in zip(run, run[1:], strict=False))
    if any(unicodedata.category(c) == _SYMBOL for c in gaps):
        # `100 ➡️ 120 ➡️ 150` is prose: only a valid number of ten digits or more (a
        # national number with its trunk prefix, or an international one) is a disguise.
        if len(digits) >= 10 and _valid_number(digits):
            return 0.6, "symbols between digit groups"
        return None
    # `416\n555\n0199`: groups on lines of their own. Lists put numbers one a line
    # (`2019\n2020\n2021`, quantities), so only a valid number without a year, written
    # with a trunk `0` or as 3-3-4 digits, is one, and only with a cue word (`call me`).
    line_broken = (
        "\n" in gaps
        and not any(c in _ODD_SEPARATORS for c in gaps)
        # `- 250\n- 350\n- 4100` is a bulleted list
        and not any(_BULLET.search(n[a.end : b.start]) for a, b in zip(run, run[1:], strict=False))
    )
    if not (line_broken or any(c in _ODD_SEPARATORS for c in gaps)) or not 9 <= len(digits) <= 13:
        return None
    if any(len(g) > 4 for g in groups) or sum(len(g) >= 2 for g in groups) < 3:
        return None
    if _like_ip(groups, gaps) or _like_date(groups) or _like_thousands(groups):
        return None
    if line_broken:
        shaped = digits.startswith("0") or [len(g) for g in groups] == [3, 3, 4]
        if not shaped or any(_YEAR.match(g) for g in groups) or not _valid_number(digits):
            return None
        return 0.4, "digit groups on separate lines"
    if _like_coordinates(groups, [n[a.end : b.start] for a, b in zip(run, run[1:], strict=False)]):
        return None
    return 0.6, "unusual separators"


def _valid_number(digits: str) -> bool:
    """True when the digits are a valid phone number read from one of the default regions."""
    for region in DEFAULT_PHONE_REGIONS:
        try:
            if phonenumbers.is_valid_number(phonenumbers.parse(digits, region)):
                return True
        except phonenumbers.NumberParseException:
            continue
    return False


def _like_ip(groups: list[str], gaps: str) -> bool:
    return len(groups) == 4 and set(gaps) == {"."} and all(int(g) <= 255 for g in groups)


def _like_date(groups: list[str]) -> bool:
    for i, g in enumerate(groups):
        if _YEAR.match(g):
            before, after = groups[max(0, i - 2) : i], groups[i + 1 : i + 3]
            if (len(before) == 2 and all(len(x) <= 2 for x in before)) or (
                len(after) == 2 and all(len(x) <= 2 for x in after)
            ):
                return True
    return False


def _like_coordinates(groups: list[str], gaps: list[str]) -> bool:
    """`43.6532, -79.3832`: a latitude and a longitude in decimal degrees."""
    if len(groups) != 4 or gaps[0] != "." or gaps[2] != ".":
        return False
    if not _COORDINATE_GAP.fullmatch(gaps[1]):
        return False
    latitude, lat_decimals, longitude, lon_decimals = groups
    return (
        int(latitude) <= 90
        and int(longitude) <= 180
        and len(latitude) <= 2
        and len(longitude) <= 3
        and min(len(lat_decimals), len(lon_decimals)) >= 2
    )


def _like_thousands(groups: list[str]) -> bool:
    return len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:])
