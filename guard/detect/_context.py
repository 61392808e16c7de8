"""Context words lift a pattern's score, as Presidio's LemmaContextAwareEnhancer does, minus spaCy.

Presidio boosts a result by 0.35 (to at least 0.4) when one of its recognizer's
context words occurs, as a substring, among the five non-stop-word lemmas before the
match (or in the match's own first token). It takes the lemmas from the spaCy
pipeline, which is why the stock engine runs the whole pipeline even for pattern-only
requests. Here the words are the text's lower-cased word tokens: a context word that is
a substring of a lemma is a substring of its inflected forms too ("call" in "calling",
"number" in "numbers"), so the same matches are found without tagging the text.
One deliberate difference: a recognizer's own context words are not dropped as stop
words (spaCy counts "call" as one), so "call me on 416-555-0199" lifts a phone score.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

SIMILARITY_FACTOR = 0.35
MIN_SCORE_WITH_CONTEXT = 0.4
PREFIX_COUNT = 5
SUFFIX_COUNT = 0
MAX_SCORE = 1.0

_WORD = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class _Words:
    ends: list[int]
    words: list[str]
    keyword: list[bool]


class ContextWindow:
    """The words of one text, indexed so each match's context costs a few steps."""

    def __init__(self, text: str, stop_words: frozenset[str]) -> None:
        self._text = text
        self._stop = stop_words
        self._words: _Words | None = None

    def _index(self) -> _Words:
        if self._words is None:
            ends: list[int] = []
            words: list[str] = []
            keyword: list[bool] = []
            for m in _WORD.finditer(self._text):
                word = m.group(0).lower()
                ends.append(m.end())
                words.append(word)
                keyword.append(word not in self._stop and word != "be")
            self._words = _Words(ends, words, keyword)
        return self._words

    def around(self, start: int) -> list[str]:
        """The context keywords of a match starting at `start` (Presidio's window)."""
        idx = self._index()
        if not idx.words:
            return []
        i = min(bisect.bisect_right(idx.ends, start), len(idx.words) - 1)
        return self._collect(idx, i, PREFIX_COUNT + 1, -1) + self._collect(
            idx, i, SUFFIX_COUNT + 1, 1
        )

    @staticmethod
    def _collect(idx: _Words, i: int, remaining: int, step: int) -> list[str]:
        out: list[str] = []
        while 0 <= i < len(idx.words) and remaining > 0:
            if idx.keyword[i]:
                out.append(idx.words[i])
                remaining -= 1
            i += step
        return out


def supportive_word(window: Iterable[str], context: Sequence[str]) -> str | None:
    """The first context word found as a substring of a window word, as Presidio matches."""
    words = list(window)
    for candidate in context:
        lowered = candidate.lower()
        if any(lowered in word for word in words):
            return candidate
    return None


def boosted(score: float) -> float:
    """The score after a supportive context word was found."""
    return min(max(score + SIMILARITY_FACTOR, MIN_SCORE_WITH_CONTEXT), MAX_SCORE)
