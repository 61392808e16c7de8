"""PHONE_NUMBER: numbers written one after another, or followed by a short number.

python-phonenumbers reads `07700 900123 07700 900456`, `416 555 0199 416 555 0123`,
`+44 20 7946 0958 24/7` or `+44 20 7946 0958 5pm` as one long candidate; it is not a
valid number, and the matcher's retries (the text before a space, after a slash) never
try the first groups alone, so nothing was found. Here each run of digit groups joined
by one space, dash or dot is split from the left into the longest runs of groups that
are a valid number written the usual way (`phone.form_score`: international, or grouped
as its country groups it); a run that is one number as a whole is left to
`GuardPhoneRecognizer`, which finds it. Bare digits are never split out (a run of
order numbers stays what it is), nor is a number after an identifier word or next to
a currency.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any

import phonenumbers

from guard.detect._recognizers._base import GuardRecognizer
from guard.detect._recognizers._money import is_money
from guard.detect._recognizers.phone import (
    CONTEXT,
    GROUPED_SCORE,
    INTERNATIONAL_SCORE,
    PLUS_SIGNS,
    NumberMemo,
    count_digits,
    form_score,
    no_national_form,
)
from guard.detect._settings import DEFAULT_PHONE_REGIONS

# A digit group, with a `+` or parentheses around it: `+44`, `(416)`, `0958`.
_GROUP = re.compile(r"\+?\(?\d+\)?")
_JOINER = re.compile(r" ?[-.] ?| ")
MAX_GROUPS = 8
# Fewer digits than nine are a local number at best (`3000 4000` is one in Brazil), and
# in a run more often a pair of amounts.
MIN_DIGITS, MAX_DIGITS = 9, 17


class PhoneRunRecognizer(GuardRecognizer):
    """Splits runs of digit groups into the phone numbers they hold (see the module doc)."""

    ENTITY = "PHONE_NUMBER"
    CONTEXT = CONTEXT

    def __init__(
        self,
        *,
        supported_regions: Sequence[str] = DEFAULT_PHONE_REGIONS,
        timeout_s: float = 1.0,
        name: str | None = None,
    ) -> None:
        self.supported_regions = tuple(supported_regions)
        super().__init__(timeout_s=timeout_s, name=name)

    def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[Any]:
        """Every number split out of a longer run of digit groups."""
        results = []
        memo = NumberMemo()
        for run in _runs(text):
            if len(run) < 2:
                continue
            for i, j, score, form in self._split(text, run, memo):
                start, end = run[i][0], run[j - 1][1]
                results.append(self.result(start, end, score, f"split from a run: {form}", None))
        return results

    def _split(
        self, text: str, run: list[tuple[int, int]], memo: NumberMemo
    ) -> Iterator[tuple[int, int, float, str]]:
        """(first group, end group, score, form) of each number in the run, from the left."""
        i = 0
        while i < len(run):
            for j in range(min(len(run), i + MAX_GROUPS), i, -1):
                whole = (i, j) == (0, len(run))
                found = self._number(text, run[i][0], run[j - 1][1], memo, first=whole)
                if found is not None:
                    if not whole:
                        yield i, j, *found
                    i = j
                    break
            else:
                i += 1

    def _number(
        self, text: str, start: int, end: int, memo: NumberMemo, *, first: bool = False
    ) -> tuple[float, str] | None:
        """The best written-form score of `text[start:end]` over the regions, if it is one.

        With `first`, the first region's score that makes it a number does (a run that is
        one number as a whole is left to GuardPhoneRecognizer: only whether it is one counts).
        """
        raw = text[start:end]
        if not MIN_DIGITS <= count_digits(raw) <= MAX_DIGITS:
            return None
        regions = self.supported_regions
        if memo.international(raw) is not None:
            # Every region parses it alike, and `form_score` scores it alike.
            regions = regions[:1]
        elif raw[0] not in PLUS_SIGNS and no_national_form(text, start, raw):
            # Not international from any region, and no national form: `form_score` is 0
            # from every region, whatever the number parsed.
            return None
        best: tuple[float, str] | None = None
        for region in regions:
            if memo.cannot_be_valid(raw, region):
                continue  # `form_score` is 0 for a number that is not valid
            try:
                number = phonenumbers.parse(raw, region)
            except phonenumbers.NumberParseException:
                continue
            match = phonenumbers.PhoneNumberMatch(start, raw, number)
            score, form = form_score(text, match, region, regrouped=False, memo=memo)
            if score >= GROUPED_SCORE and (best is None or score > best[0]):
                best = score, form
                if first or score >= INTERNATIONAL_SCORE:
                    break  # no later region can score higher (and with `first`, none need)
        if best is None or is_money(text, start, end):
            return None
        return best


def _runs(text: str) -> Iterator[list[tuple[int, int]]]:
    """Runs of digit groups, each joined to the next by one space, dash or dot."""
    run: list[tuple[int, int]] = []
    for m in _GROUP.finditer(text):
        start, end = m.span()
        if run and _JOINER.fullmatch(text, run[-1][1], start) and not _glued(text, start):
            run.append((start, end))
            continue
        if run:
            yield run
        run = [] if _glued(text, start) else [(start, end)]
    if run:
        yield run


def _glued(text: str, start: int) -> bool:
    """True when a group is glued to a word before it (`v2`, `A-20240517`)."""
    return start > 0 and (text[start - 1].isalpha() or text[start - 1] == "_")
