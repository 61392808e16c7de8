"""Undo cheap text disguises while keeping a map back to the original offsets.

Obfuscated contact details hide behind full-width or circled characters (`jo＠example．com`,
`④①⑥`), zero-width characters inside words, and letter spacing (`j o @ e x a m p l e`).
`normalize` folds these away (NFKC, zero-width removal, optional collapse of letter
spacing) and keeps, for every character of the result, the offset it came from, so a
match found in the normalized text is reported on the original text.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

ZERO_WIDTH = frozenset("\u00ad\u180e\u200b\u200c\u200d\u2060\u2061\u2062\u2063\u2064\ufeff")
# Three or more single characters, each followed by spaces: "j o @ e x a m p l e".
_SPACED = re.compile(r"(?<!\S)(?:\S[ \t]+){2,}\S(?!\S)")


@dataclass(frozen=True, slots=True)
class Normalized:
    """A normalized text and, per character, the offset in the original text it came from."""

    text: str
    offsets: tuple[int, ...] | None  # None: identical to the original
    original_length: int

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Map a span of the normalized text back to the original text."""
        if self.offsets is None:
            return start, end
        if start >= end:
            point = self.offsets[start] if start < len(self.offsets) else self.original_length
            return point, point
        return self.offsets[start], self.offsets[end - 1] + 1


def normalize(text: str, *, collapse_spacing: bool = False) -> Normalized:
    """Fold compatibility characters and zero-width characters; optionally un-space letters."""
    chars: list[str]
    offsets: list[int]
    if text.isascii():
        chars, offsets = list(text), list(range(len(text)))
        changed = False
    else:
        chars, offsets = [], []
        changed = True
        for i, ch in enumerate(text):
            if ch in ZERO_WIDTH:
                continue
            folded = ch if ch.isascii() else unicodedata.normalize("NFKC", ch)
            for out in folded:
                chars.append(out)
                offsets.append(i)
    folded_text = "".join(chars)
    if collapse_spacing and _SPACED.search(folded_text):
        folded_text, offsets = _collapse(folded_text, offsets)
        changed = True
    if not changed:
        return Normalized(text, None, len(text))
    return Normalized(folded_text, tuple(offsets), len(text))


def _collapse(text: str, offsets: list[int]) -> tuple[str, list[int]]:
    keep_chars: list[str] = []
    keep_offsets: list[int] = []
    last = 0
    for m in _SPACED.finditer(text):
        keep_chars.append(text[last : m.start()])
        keep_offsets.extend(offsets[last : m.start()])
        for i in range(m.start(), m.end()):
            if text[i] not in " \t":
                keep_chars.append(text[i])
                keep_offsets.append(offsets[i])
        last = m.end()
    keep_chars.append(text[last:])
    keep_offsets.extend(offsets[last:])
    return "".join(keep_chars), keep_offsets
