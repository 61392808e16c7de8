"""PHONE_NUMBER: Presidio's phone recognizer, minus the work that can never find a number.

Presidio runs python-phonenumbers' `PhoneNumberMatcher` once per region (eight by
default), and each run parses every digit group of the text: `3`, `12`, `2024`. A
candidate with fewer digits than the shortest valid number of any region cannot be
valid, so the matcher here skips it before parsing; everything else (regions, leniency,
scores, explanations) is Presidio's own code path, and tests compare the two.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from typing import Any

import phonenumbers
import phonenumbers.phonenumberutil as util
from phonenumbers import Leniency, PhoneMetadata
from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.predefined_recognizers import PhoneRecognizer

_DESCS = (
    "general_desc", "fixed_line", "mobile", "toll_free", "premium_rate", "shared_cost",
    "personal_number", "voip", "pager", "uan", "voicemail", "no_international_dialling",
)  # fmt: skip


@functools.cache
def min_valid_digits() -> int:
    """The fewest national digits of any valid number, over every region phonenumbers knows."""
    metas = [PhoneMetadata.metadata_for_region(r) for r in phonenumbers.SUPPORTED_REGIONS]
    metas += [
        PhoneMetadata.metadata_for_nongeo_region(c)
        for c in phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS
    ]
    lengths = [
        n
        for meta in metas
        if meta is not None
        for name in _DESCS
        if (desc := getattr(meta, name, None)) is not None
        for n in (desc.possible_length or ())
        if n > 0
    ]
    return max(1, min(lengths, default=1))


@functools.cache
def has_digit_cluster() -> Callable[[str], bool]:
    """A pre-filter: True when the text has a digit cluster long enough to be a number.

    The matcher's candidates are digit blocks joined by at most four characters of
    phonenumbers' own punctuation class, so digits farther apart never form one number.
    """
    minimum = min_valid_digits()
    punctuation = getattr(util, "_VALID_PUNCTUATION", None)
    if not isinstance(punctuation, str):
        return lambda text: sum(c.isdecimal() for c in text) >= minimum
    cluster = re.compile(rf"\d(?:[{punctuation}]{{0,4}}\d)*")

    def check(text: str) -> bool:
        return any(
            sum(c.isdecimal() for c in m.group(0)) >= minimum for m in cluster.finditer(text)
        )

    return check


class _ShortcutMatcher(phonenumbers.PhoneNumberMatcher):  # type: ignore[misc]
    """PhoneNumberMatcher that rejects a candidate too short to be valid without parsing it.

    Returning None from `_extract_match` is what the matcher itself does after failing to
    parse the candidate and every inner candidate (all shorter still), so the matches
    found, and the order of the search, are unchanged.
    """

    minimum = 1

    def _extract_match(self, candidate: str, offset: int) -> Any:
        if sum(c.isdecimal() for c in candidate) < self.minimum:
            return None
        return super()._extract_match(candidate, offset)

    def _parse_and_verify(self, candidate: str, offset: int) -> Any:
        if sum(c.isdecimal() for c in candidate) < self.minimum:
            return None  # inner candidates of a long one may be short
        return super()._parse_and_verify(candidate, offset)


def _matcher_class(leniency: int | None) -> type[Any]:
    usable = hasattr(phonenumbers.PhoneNumberMatcher, "_extract_match")
    if not usable or leniency is None or leniency < Leniency.VALID:
        return phonenumbers.PhoneNumberMatcher  # type: ignore[no-any-return]
    _ShortcutMatcher.minimum = min_valid_digits()
    return _ShortcutMatcher


class GuardPhoneRecognizer(PhoneRecognizer):
    """Presidio's PhoneRecognizer with the short-candidate shortcut (same findings)."""

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: Any = None
    ) -> list[RecognizerResult]:
        """Presidio's loop over regions, each with a shortcut matcher."""
        results = [
            self._get_recognizer_result(match, text, region, nlp_artifacts)
            for match, region in self._matches(text)
        ]
        return list(EntityRecognizer.remove_duplicates(results))

    def _matches(self, text: str) -> Iterator[tuple[Any, str]]:
        matcher = _matcher_class(self.leniency)
        for region in self.supported_regions:
            for match in matcher(text, region, leniency=self.leniency):
                yield match, self._region_of(text[match.start : match.end], region)

    @staticmethod
    def _region_of(number: str, region: str) -> str:
        try:
            return str(phonenumbers.region_code_for_number(phonenumbers.parse(number)))
        except phonenumbers.NumberParseException:
            return region
