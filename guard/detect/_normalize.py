"""Undo cheap text disguises while keeping a map back to the original offsets.

Obfuscated contact details hide behind full-width or circled characters (`jo＠example．com`,
`④①⑥`), zero-width characters inside words, keycap emoji (`4️⃣1️⃣6️⃣`), HTML entities and
percent-escapes (`jo&#64;example&#46;com`, `jo%40example.com`, which a browser or a mail
client shows decoded), and letter spacing (`j o @ e x a m p l e`). `normalize` folds these
away (escapes decoded, NFKC, zero-width removal, optional collapse of letter spacing) and
keeps, for every character of the result, the original characters it came from, so a match
found in the normalized text is reported on the original text.
"""

from __future__ import annotations

import bisect
import functools
import html
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

ZERO_WIDTH = frozenset("\u00ad\u180e\u200b\u200c\u200d\u2060\u2061\u2062\u2063\u2064\ufeff")
# Variation selectors and the combining keycap: `4\ufe0f\u20e3` is the keycap emoji 4️⃣.
EMOJI_MARKS = frozenset(map(chr, range(0xFE00, 0xFE10))) | {"\u20e3"}
_IGNORED = ZERO_WIDTH | EMOJI_MARKS
# `&#64;`, `&#x40;`, `&commat;` (the `;` required: `AT&T` is prose) and `%40`.
_ESCAPE = re.compile(
    r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});|%[0-9A-Fa-f]{2}"
)
# Three or more single characters, each followed by spaces: "j o @ e x a m p l e".
_SPACED = re.compile(r"(?<!\S)(?:\S[ \t]+){2,}\S(?!\S)")


@dataclass(frozen=True, slots=True)
class Normalized:
    """A normalized text and, per character, the span of the original text it came from."""

    text: str
    offsets: tuple[int, ...] | None  # None: identical to the original
    original_length: int
    ends: tuple[int, ...] | None = None  # per character, where its original ends

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Map a span of the normalized text back to the original text."""
        if self.offsets is None:
            return start, end
        if start >= end:
            point = self.offsets[start] if start < len(self.offsets) else self.original_length
            return point, point
        last = self.ends[end - 1] if self.ends is not None else self.offsets[end - 1] + 1
        return self.offsets[start], last


def normalize(text: str, *, collapse_spacing: bool = False) -> Normalized:
    """Decode escapes, fold compatibility characters and drop zero-width characters and
    emoji marks; optionally un-space letters."""
    chars: list[str]
    offsets: list[int]
    ends: list[int]
    if text.isascii() and not _has_escape(text):
        chars, offsets, ends = list(text), list(range(len(text))), list(range(1, len(text) + 1))
        changed = False
    else:
        chars, offsets, ends = [], [], []
        changed = True
        for piece, start, end in _pieces(text):
            folded = piece if piece.isascii() else unicodedata.normalize("NFKC", piece)
            for out in folded:
                if out not in _IGNORED:
                    chars.append(out)
                    offsets.append(start)
                    ends.append(end)
    folded_text = "".join(chars)
    if collapse_spacing and _SPACED.search(folded_text):
        folded_text, offsets, ends = _collapse(folded_text, offsets, ends)
        changed = True
    if not changed:
        return Normalized(text, None, len(text))
    return Normalized(folded_text, tuple(offsets), len(text), tuple(ends))


def _has_escape(text: str) -> bool:
    return ("&" in text or "%" in text) and _ESCAPE.search(text) is not None


def _pieces(text: str) -> Iterator[tuple[str, int, int]]:
    """Each character of `text`, or what an escape stands for, with its original span."""
    done = 0
    for m in _ESCAPE.finditer(text) if "&" in text or "%" in text else ():
        yield from ((ch, i, i + 1) for i, ch in enumerate(text[done : m.start()], done))
        decoded = _decode(m.group(0))
        if decoded is None:
            yield from ((ch, i, i + 1) for i, ch in enumerate(m.group(0), m.start()))
        else:
            yield decoded, m.start(), m.end()
        done = m.end()
    yield from ((ch, i, i + 1) for i, ch in enumerate(text[done:], done))


def _decode(escape: str) -> str | None:
    """The one printable character an escape stands for, else None (left as written)."""
    if escape.startswith("%"):
        decoded = chr(int(escape[1:], 16))
    else:
        decoded = html.unescape(escape)
    if len(decoded) != 1 or decoded == escape or not decoded.isprintable() or decoded.isspace():
        return None
    return decoded


def _collapse(text: str, offsets: list[int], ends: list[int]) -> tuple[str, list[int], list[int]]:
    keep_chars: list[str] = []
    keep_offsets: list[int] = []
    keep_ends: list[int] = []
    last = 0
    for m in _SPACED.finditer(text):
        keep_chars.append(text[last : m.start()])
        keep_offsets.extend(offsets[last : m.start()])
        keep_ends.extend(ends[last : m.start()])
        for i in range(m.start(), m.end()):
            if text[i] not in " \t":
                keep_chars.append(text[i])
                keep_offsets.append(offsets[i])
                keep_ends.append(ends[i])
        last = m.end()
    keep_chars.append(text[last:])
    keep_offsets.extend(offsets[last:])
    keep_ends.extend(ends[last:])
    return "".join(keep_chars), keep_offsets, keep_ends


# -- folding for the digit recognizers -----------------------------------------------------
#
# Card numbers, IBANs, SSNs and phone numbers slip past Presidio's patterns when written
# with other digits or separators than ASCII ones: no-break, thin or figure spaces between
# the groups of `4111 1111 1111 1111`, full-width digits (`４１１１`), a zero-width space.
# `fold_digits` gives those recognizers a text they can read and a map back to the
# original offsets, so a finding covers the original characters (odd separators
# included) and redaction replaces them. Each character becomes one character
# (`str.translate`), except invisible ones: a run of them is dropped between two digits
# (`4111<ZWSP>1111`) and next to what is no word character, and reads as a space between
# two words otherwise (`ssn<ZWSP>536228761` keeps its word boundary). An ASCII text costs
# one `isascii`.

# Invisible format characters: the zero-width ones and the bidirectional controls.
INVISIBLE = (
    ZERO_WIDTH
    | EMOJI_MARKS
    | frozenset("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
)
_INVISIBLE_RUN = re.compile("[" + "".join(sorted(INVISIBLE)) + "]+")
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63"
_ASCII_DIGITS = frozenset("0123456789")
# Every decimal digit and space separator Unicode has is in its first two planes.
_PLANES_WITH_DIGITS = 0x20000


@functools.cache
def fold_table() -> dict[int, str]:
    """Decimal digits of every script to ASCII digits, full-width ASCII to ASCII, every
    space separator to ` ` and dashes to `-`: one character each, so no offset moves."""
    everything = "".join(map(chr, range(_PLANES_WITH_DIGITS)))
    table = {ord(c): str(unicodedata.decimal(c)) for c in re.findall(r"\d", everything)}
    table.update(
        (ord(c), " ") for c in re.findall(r"\s", everything) if unicodedata.category(c) == "Zs"
    )
    table.update((cp, chr(cp - 0xFEE0)) for cp in range(0xFF01, 0xFF5F))  # ！..～ to !..~
    table.update((ord(c), "-") for c in _DASHES)
    return {k: v for k, v in table.items() if chr(k) != v}


@dataclass(frozen=True, slots=True)
class Folded:
    """A folded text and the map back: pieces that start at `folded_starts[i]` in it and
    at `original_starts[i]` in the original run on one for one (no pieces: the same)."""

    text: str
    folded_starts: tuple[int, ...] = ()
    original_starts: tuple[int, ...] = ()

    def offset(self, index: int) -> int:
        """The original offset of the folded character at `index`."""
        if not self.folded_starts:
            return index
        piece = bisect.bisect_right(self.folded_starts, index) - 1
        return self.original_starts[piece] + index - self.folded_starts[piece]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Map a non-empty span of the folded text back to the original text."""
        return self.offset(start), self.offset(end - 1) + 1


# Scripts written without spaces between words, as a character-class body for `re` and
# `regex` (code point ranges: a script property costs twice as much in a hot pattern):
# Thai, Lao, Myanmar, Hangul, Khmer, Han, Hiragana and Katakana. Their letters next to a
# number are the sentence around it, as a space would be in English:
# `카드4111 1111 1111 1111입니다` or `卡号4111111111111111` hold a card number, but a
# `\b` of the recognizers' patterns sees one word. The digit recognizers read such a
# letter next to an ASCII letter or digit as `¶` (one character for one, so no offset
# moves): no word character, and no separator either, so `4111号1111号1111号1111`
# stays no card.
UNSPACED_SCRIPTS = (
    r"\u0e00-\u0eff\u1000-\u109f\u1100-\u11ff\u1780-\u17ff\u3005-\u3007\u3040-\u30ff"
    r"\u3130-\u318f\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\ua960-\ua97f\uac00-\ud7ff"
    r"\uf900-\ufaff\uff66-\uffdc\U00020000-\U0003134f"
)
_UNSPACED_EDGE = re.compile(
    rf"[{UNSPACED_SCRIPTS}](?=[0-9A-Za-z])|(?<=[0-9A-Za-z])[{UNSPACED_SCRIPTS}]"
)


def _folded(text: str) -> str:
    """A non-ASCII text through `fold_table`, the letters of `UNSPACED_SCRIPTS` next to
    an ASCII letter or digit as `¶`."""
    return _UNSPACED_EDGE.sub("\u00b6", text.translate(fold_table()))


def fold_digits(text: str) -> Folded | None:
    """`text` with look-alike digits, spaces, dashes and invisible characters folded (see
    above), or None when there is nothing to fold."""
    if text.isascii():
        return None
    folded = _folded(text)
    edits = list(_invisible_edits(folded))
    if not edits:
        return None if folded == text else Folded(folded)
    return _edited(folded, edits)


# -- digit groups across a tab or a line break -----------------------------------------------
#
# `4111\t1111\t1111\t1111`, `4111 1111\n1111 1111` or `+44 20\n7946 0958` (a form, a
# table cell, a wrapped line) are one number to a reader, but no digit recognizer joins
# groups across a tab or a line break. Reading every such break as a space would merge
# what ordinary text keeps apart (a phone number ending one line and a quantity starting
# the next: `call 416 555 0199\n2 boxes` would be one long invalid number, and lost), so
# the joined text is a second reading: the engine keeps from it only the findings that
# span a tab or exactly one line break (`spans_a_break`), and everything the first
# reading finds stays found.

# Spaces and tabs around one line break, or a run of tabs and spaces holding a tab,
# between two digits: read as one space. A blank line is never crossed. A line wrapped
# right after a group's dash or dot (`416-555-\n0199`) reads as no break at all.
_DIGIT_BREAK = re.compile(r"(?<=\d)(?:[ \t]*(?:\r\n|\r|\n)[ \t]*|[ ]*\t[ \t]*)(?=\d)")
_SEPARATOR_BREAK = re.compile(r"(?<=\d[-.])[ \t]*(?:\r\n|\r|\n)[ \t]*(?=\d)")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_DIGITS = re.compile(r"\d+")


def join_digit_breaks(text: str) -> Folded | None:
    """`text` folded as `fold_digits` folds it, with each tab or single line break between
    two digit groups read as one space (as nothing after a group's dash or dot); None
    when no such break is there."""
    folded = _folded(text) if not text.isascii() else text
    breaks = [(m.start(), m.end(), " ") for m in _DIGIT_BREAK.finditer(folded)]
    if "\n" in folded or "\r" in folded:
        breaks += [(m.start(), m.end(), "") for m in _SEPARATOR_BREAK.finditer(folded)]
    if not breaks:
        return None
    edits = sorted([*_invisible_edits(folded), *breaks])
    return _edited(folded, edits)


def spans_a_break(text: str, start: int, end: int) -> bool:
    """True when `text[start:end]` reads as one number across a tab or one line break.

    It holds a tab or a line break, at most one line break, three digit groups or more,
    and two or more before its line break: `4111 1111\\n1111 1111`, `+44 20\\n7946 0958`
    and `4111\\t1111\\t1111\\t1111` do; a list of numbers one per line (`3000\\n4000`,
    `416\\n555 0199`) and two cells of a table (`3000\\t4000`) do not.
    """
    inside = text[start:end]
    lines = _LINE_BREAK.split(inside)
    if len(lines) > 2 or ("\t" not in inside and len(lines) == 1):
        return False
    return len(_DIGITS.findall(inside)) >= 3 and len(_DIGITS.findall(lines[0])) >= 2


def _invisible_edits(folded: str) -> Iterator[tuple[int, int, str]]:
    """Runs of invisible characters: dropped, or one space between two words (see above)."""
    for m in _INVISIBLE_RUN.finditer(folded):
        start, end = m.span()
        before = folded[start - 1] if start else ""
        after = folded[end] if end < len(folded) else ""
        keep = _word(before) and _word(after) and not {before, after} <= _ASCII_DIGITS
        yield start, end, " " if keep else ""


def _edited(folded: str, edits: list[tuple[int, int, str]]) -> Folded:
    """`folded` with each `[start, end)` replaced (by "" or one space), and the map back."""
    parts: list[str] = []
    folded_starts, original_starts = [0], [0]
    done = size = 0
    for start, end, replacement in edits:
        parts.append(folded[done:start])
        size += start - done
        if replacement:
            parts.append(replacement)
            folded_starts.append(size)
            original_starts.append(start)
            size += len(replacement)
        folded_starts.append(size)
        original_starts.append(end)
        done = end
    parts.append(folded[done:])
    return Folded("".join(parts), tuple(folded_starts), tuple(original_starts))


def _word(char: str) -> bool:
    return char.isalnum() or char == "_"
