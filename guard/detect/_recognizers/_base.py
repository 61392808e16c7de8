"""Shared pieces of the guard's own recognizers: offline TLD checks, stop words, results."""

from __future__ import annotations

import functools
from typing import Any

import tldextract
from presidio_analyzer import AnalysisExplanation, LocalRecognizer, RecognizerResult

NORMALIZED_KEY = "normalized"


@functools.cache
def offline_tld_extractor() -> tldextract.TLDExtract:
    """A TLD extractor that never touches the network: no list URLs, no disk cache.

    tldextract's module-level `extract()` fetches the public-suffix list on first use;
    on a machine without internet that costs a failed connection per process. The
    bundled snapshot is enough to tell `example.com` from `meeting.point`.
    """
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True)


# Top-level names reserved for documentation, tests and local hosts (RFC 2606, RFC 6761):
# in no public-suffix list, but `anna@shop.example` is written as any address is, and a
# user trying the guard with one expects it redacted.
RESERVED_TLDS = frozenset({"example", "invalid", "localhost", "test"})


def is_registrable(domain: str) -> bool:
    """True when `domain` ends in a known public suffix or a reserved top-level name
    (`RESERVED_TLDS`), and has a name before it."""
    name, _, tld = domain.rpartition(".")
    if name and tld.lower() in RESERVED_TLDS:
        return True
    parts = offline_tld_extractor()(domain)
    return bool(parts.domain and parts.suffix)


@functools.cache
def stop_words() -> frozenset[str]:
    """spaCy's English stop words (plain data, no model needed)."""
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(STOP_WORDS)


class GuardRecognizer(LocalRecognizer):
    """A Presidio recognizer of the guard's own, with a regex time budget per text."""

    ENTITY = ""
    CONTEXT: tuple[str, ...] = ()

    def __init__(self, *, timeout_s: float = 1.0, name: str | None = None) -> None:
        self.timeout_s = timeout_s
        self.label: str = name or type(self).__name__
        super().__init__(
            supported_entities=[self.ENTITY],
            name=self.label,
            supported_language="en",
            context=list(self.CONTEXT),
        )

    def load(self) -> None:
        """Nothing to load: the rules are class constants."""

    def result(self, start: int, end: int, score: float, rule: str, normalized: str | None) -> Any:
        """A RecognizerResult carrying the rule that fired and the de-obfuscated value."""
        explanation = AnalysisExplanation(
            recognizer=self.label,
            original_score=score,
            pattern_name=rule,
            textual_explanation=f"Detected by `{self.label}` using rule `{rule}`",
        )
        return RecognizerResult(
            entity_type=self.ENTITY,
            start=start,
            end=end,
            score=score,
            analysis_explanation=explanation,
            recognition_metadata={
                RecognizerResult.RECOGNIZER_NAME_KEY: self.label,
                RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                NORMALIZED_KEY: normalized,
            },
        )
