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

Another: a value (`values`: one that will be redacted anyway, or a redaction
placeholder already in the text) is one word of the window that no context word
matches, however many words it is written with. Redaction turns each value into one
placeholder, so a match sees the same window before and after redaction and redacting
twice changes nothing the first pass did not (see `PresidioDetector._scored`).
spaCy, where Presidio reads its window, makes one token of `jo@example.com` too; the
guard's word tokens would make it three, and "phone" in `phone jo@example.com
jo@example.com 416-555-0199` would fall out of the number's window until the e-mails
were placeholders. Values that overlap or touch are one value, as the placeholders of
values that touch are one run of text (`****`); a word cut by a value keeps its part
outside it, as the redacted text does (`x<EMAIL_ADDRESS>` still has the word `x`).

Last, a lift that finds the value's type named in its window (`names`: a word that
the type's cue in `_entities.LABEL_CUES` starts, in the match's own sentence) scores at
least `NAMED_SCORE`. Presidio lifts a bare nine-digit passport number (0.05) to 0.4 on
"passport" or on "us", "travel" and "document" alike, and reports it when the threshold
is Presidio's default of 0; under the guard's 0.5 it was never reported. With the cue,
`my passport number is 912345678` is; with only "us" or "travel", or no word at all,
it stays as Presidio scores it.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from guard.detect._entities import SENTENCE_END

SIMILARITY_FACTOR = 0.35
MIN_SCORE_WITH_CONTEXT = 0.4
PREFIX_COUNT = 5
SUFFIX_COUNT = 0
MAX_SCORE = 1.0
NAMED_SCORE = 0.6  # a lifted value that its cue names: over the default 0.5 threshold

_WORD = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class _Words:
    ends: list[int]
    words: list[str]
    keyword: list[bool]


class ContextWindow:
    """The words of one text, indexed so each match's context costs a few steps."""

    def __init__(
        self,
        text: str,
        stop_words: frozenset[str],
        values: Iterable[tuple[int, int]] = (),
    ) -> None:
        self._text = text
        self._stop = stop_words
        self._values = _joined(values, len(text))
        self._words: _Words | None = None
        self._breaks: list[int] | None = None

    def _index(self) -> _Words:
        if self._words is None:
            tokens: list[tuple[int, str, bool]] = []  # end, word, keyword
            for m in _WORD.finditer(_blank(self._text, self._values)):
                word = m.group(0).lower()
                tokens.append((m.end(), word, word not in self._stop and word != "be"))
            if self._values:
                tokens.extend((end, "", True) for _, end in self._values)
                tokens.sort(key=lambda t: t[0])
            self._words = _Words(
                [t[0] for t in tokens], [t[1] for t in tokens], [t[2] for t in tokens]
            )
        return self._words

    def around(self, start: int) -> list[str]:
        """The context keywords of a match starting at `start` (Presidio's window)."""
        idx = self._index()
        return [idx.words[k] for k in self._window(idx, start)]

    def names(self, start: int, cue: re.Pattern[str]) -> bool:
        """True when `cue` starts a word of the window of a match at `start` that stands
        in the match's sentence (values, blanked, end no sentence)."""
        idx = self._index()
        k = bisect.bisect_right(self._sentence_ends(), start)
        since = self._sentence_ends()[k - 1] if k else 0
        return any(
            idx.ends[i] > since and cue.match(idx.words[i]) for i in self._window(idx, start)
        )

    def _sentence_ends(self) -> list[int]:
        if self._breaks is None:
            blanked = _blank(self._text, self._values)
            self._breaks = [m.end() for m in SENTENCE_END.finditer(blanked)]
        return self._breaks

    def _window(self, idx: _Words, start: int) -> list[int]:
        if not idx.words:
            return []
        i = min(bisect.bisect_right(idx.ends, start), len(idx.words) - 1)
        return self._collect(idx, i, PREFIX_COUNT + 1, -1) + self._collect(
            idx, i, SUFFIX_COUNT + 1, 1
        )

    @staticmethod
    def _collect(idx: _Words, i: int, remaining: int, step: int) -> list[int]:
        out: list[int] = []
        while 0 <= i < len(idx.words) and remaining > 0:
            if idx.keyword[i]:
                out.append(i)
                remaining -= 1
            i += step
        return out


def _joined(values: Iterable[tuple[int, int]], length: int) -> list[tuple[int, int]]:
    """The `[start, end)` values clipped to the text, sorted, those that overlap or touch joined."""
    out: list[tuple[int, int]] = []
    for start, end in sorted((max(0, s), min(length, e)) for s, e in values):
        if start >= end:
            continue
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def _blank(text: str, values: list[tuple[int, int]]) -> str:
    """The text with every (joined) value blanked out, offsets unchanged."""
    if not values:
        return text
    parts: list[str] = []
    done = 0
    for start, end in values:
        parts.append(text[done:start])
        parts.append(" " * (end - start))
        done = end
    parts.append(text[done:])
    return "".join(parts)


def supportive_word(window: Iterable[str], context: Sequence[str]) -> str | None:
    """The first context word found as a substring of a window word, as Presidio matches."""
    words = list(window)
    for candidate in context:
        lowered = candidate.lower()
        if any(lowered in word for word in words):
            return candidate
    return None


def boosted(score: float, *, named: bool = False) -> float:
    """The score after a supportive context word was found (and the value's type named)."""
    lifted = min(max(score + SIMILARITY_FACTOR, MIN_SCORE_WITH_CONTEXT), MAX_SCORE)
    return max(lifted, NAMED_SCORE) if named else lifted
