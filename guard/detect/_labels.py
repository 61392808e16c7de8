"""Which type a value found by several number types is reported as, read from its context.

Ten digits can be a phone number and pass the NHS number's mod-11 check (one in eleven
do), nine can be a passport, a bank account and a driver's licence number, and a
spaCy model calls many digit runs a date. Each recognizer scores its own match, so the
type with the highest score named the value: `call me at 415 555 0199` became
`<UK_NHS>` (a passed checksum scores 1.0). Here the spans of the types in `LABEL_CUES`
that one span holds (the same span, or parts of it) become one span of one type, with
the highest score among them, so whatever was redacted before still is; only the label
changes. The type is the one whose cue word (`NHS`, `passport`, `call`) stands nearest
the value in its sentence, a few words before it or, farther, after it; with no cue,
a pattern type before a NER one and the score decide, save for `DEFAULT_OVER` (a
number that only passes a checksum is still the phone number it is written as).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import replace

from guard.detect._entities import DEFAULT_OVER, LABEL_CUES, NER_ENTITIES, SENTENCE_END
from guard.detect._protocol import Span

WORDS_BEFORE = 6  # a cue this many words before a value, or nearer, names it
MIN_LABEL_SCORE = 0.4  # Presidio's score of a phone number, and of any match lifted by context
WORDS_AFTER = 3  # and this many after it (a cue after a value counts as farther)
_WORD = re.compile(r"\w+")


def relabelled(text: str, spans: Sequence[Span]) -> list[Span]:
    """The spans with each group of number types on one value merged into one span."""

    def takes_part(span: Span) -> bool:
        return span.entity_type in LABEL_CUES and span.score > 0  # 0: a failed checksum

    labelled = sorted(filter(takes_part, spans), key=lambda s: (s.start, -s.end))
    if len(labelled) < 2:
        return list(spans)
    out = [s for s in spans if not takes_part(s)]
    words: _Words | None = None
    i = 0
    while i < len(labelled):
        outer = labelled[i]
        j = i + 1
        while j < len(labelled) and labelled[j].end <= outer.end:
            j += 1  # sorted by start, then longest first: these lie inside `outer`
        group = labelled[i:j]
        i = j
        if len({s.entity_type for s in group}) < 2:
            out.extend(group)
            continue
        words = words or _Words(text)
        out.extend(_one(group, outer, words))
    return out


def _one(group: list[Span], outer: Span, words: _Words) -> list[Span]:
    """One span over `outer` for the spans of `group`, of the type its context names.

    When that type's spans are all smaller than `outer`, the group is left as it is: a
    part of a value (three digit groups of an international number) does not name the
    whole of it, and `outer` cannot go, since it covers more.
    """
    types = {s.entity_type for s in group}
    best = max(s.score for s in group)
    cued = {t: d for t in types if (d := words.cue_distance(LABEL_CUES[t], outer)) is not None}
    if cued:
        label = min(cued, key=lambda t: (cued[t], -_best_of(group, t).score))
    else:
        label = _by_score(group, types)
    chosen = _best_of(group, label)
    if (chosen.start, chosen.end) != (outer.start, outer.end):
        return group
    return [replace(chosen, score=best)]


def _by_score(group: list[Span], types: set[str]) -> str:
    """The type that names a value with no cue near it.

    Types scored at least `MIN_LABEL_SCORE` take part (a bank or licence number's bare
    digit pattern scores 0.01 to 0.05, and alone says nothing), unless none is; a
    pattern type goes before a NER one (a model calls many digit runs a date), then the
    higher score, save for `DEFAULT_OVER`.
    """
    scored = {t for t in types if _best_of(group, t).score >= MIN_LABEL_SCORE} or types
    ranked = sorted(scored, key=lambda t: (t in NER_ENTITIES, -_best_of(group, t).score, t))
    label = ranked[0]
    for other in ranked[1:]:
        if label in DEFAULT_OVER.get(other, ()):
            label = other
    return label


def _best_of(group: list[Span], entity_type: str) -> Span:
    """The span of `entity_type` in `group` that is longest, then best-scoring."""
    return max(
        (s for s in group if s.entity_type == entity_type),
        key=lambda s: (s.end - s.start, s.score),
    )


class _Words:
    """The words of a text and its sentence ends, to measure how far a cue is from a value."""

    def __init__(self, text: str) -> None:
        self.text = text
        found = list(_WORD.finditer(text))
        self.starts = [m.start() for m in found]
        self.ends = [m.end() for m in found]
        self.breaks = [m.end() for m in SENTENCE_END.finditer(text)]

    def cue_distance(self, cue: re.Pattern[str], span: Span) -> float | None:
        """How many words lie between `span` and the nearest `cue` in its sentence, if any.

        A cue after the value counts half a word farther than one as near before it.
        """
        k = bisect.bisect_right(self.breaks, span.start)
        since = self.breaks[k - 1] if k else 0
        until = self.breaks[k] if k < len(self.breaks) else len(self.text)
        n = bisect.bisect_right(self.ends, span.start)  # words ending before the value
        window_start = max(since, self.starts[max(0, n - WORDS_BEFORE)] if n else span.start)
        before = list(cue.finditer(self.text, window_start, span.start))
        if before:
            return float(self._words_in(before[-1].end(), span.start))
        n = bisect.bisect_left(self.starts, span.end)  # the first word after the value
        last = min(n + WORDS_AFTER, len(self.ends)) - 1
        window_end = min(until, self.ends[last]) if n < len(self.ends) else span.end
        after = cue.search(self.text, span.end, max(span.end, window_end))
        if after is not None:
            return self._words_in(span.end, after.start()) + 0.5
        return None

    def _words_in(self, start: int, end: int) -> int:
        return bisect.bisect_right(self.starts, end - 1) - bisect.bisect_left(self.starts, start)
