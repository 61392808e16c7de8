"""Replace detected spans in one text with presidio-anonymizer's operators.

Operators: `replace` writes `<EMAIL_ADDRESS>`; `mask` writes one `*` per character;
`hash` writes `<EMAIL_ADDRESS#kfgnaiebdcpmhjlo>`, a keyed HMAC of the value (its canonical
form, as the finding's `value_hash`: one token per address or number) spelled in
the letters a-p so that the token itself holds no digits a phone or card pattern could
read. Overlapping spans are merged first; the merged span takes the type of its
highest-scoring part. Spans that only touch, or have only spaces between them, are
replaced one by one (presidio-anonymizer would merge those of one type). A placeholder
is never reported as PII itself, and a scan reads it as one word of context as it read
the value (see `_context`), which makes redaction idempotent: redacting a redacted
text changes nothing.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from guard.detect._errors import missing_presidio

PLACEHOLDER = re.compile(r"<[A-Z][A-Z0-9_]*(?:#[a-p]{16})?>|\*{2,}")
_HEX_TO_LETTERS = str.maketrans("0123456789abcdef", "abcdefghijklmnop")

Piece = tuple[int, int, str, float]  # start, end, entity type, score


def merge(pieces: Sequence[Piece]) -> list[tuple[int, int, str]]:
    """Union overlapping spans; each merged span keeps its best-scoring entity type."""
    merged: list[tuple[int, int, str, float]] = []
    for start, end, entity, score in sorted(pieces, key=lambda p: (p[0], -p[1])):
        if merged and start < merged[-1][1]:
            m_start, m_end, m_entity, m_score = merged[-1]
            best = (m_entity, m_score) if m_score >= score else (entity, score)
            merged[-1] = (m_start, max(m_end, end), best[0], best[1])
        else:
            merged.append((start, end, entity, score))
    return [(s, e, t) for s, e, t, _ in merged]


def inside_placeholder(text: str, start: int, end: int) -> bool:
    """True when [start, end) lies within a redaction placeholder or a mask."""
    for m in PLACEHOLDER.finditer(text, max(0, start - 64), min(len(text), end + 64)):
        if m.start() <= start and end <= m.end():
            return True
    return False


def hash_token(entity: str, digest_hex: str) -> str:
    """The `hash` operator's placeholder for a value whose keyed hash is `digest_hex`."""
    return f"<{entity}#{digest_hex[:16].translate(_HEX_TO_LETTERS)}>"


class Redactor:
    """Applies the pack's operators to spans of a text, through presidio-anonymizer."""

    def __init__(self, operator_for: Callable[[str], str], keyed_hash: Callable[[str], str]):
        try:
            anonymizer = importlib.import_module("presidio_anonymizer")
            entities = importlib.import_module("presidio_anonymizer.entities")
        except ImportError as exc:
            raise missing_presidio(exc) from exc
        self._engine = anonymizer.AnonymizerEngine()
        self._config = entities.OperatorConfig
        self._result = entities.RecognizerResult
        self._operator_for = operator_for
        self._keyed_hash = keyed_hash

    def apply(
        self,
        text: str,
        pieces: Sequence[Piece],
        *,
        audit: bool = False,
        hashes: Mapping[str, str] | None = None,
    ) -> str:
        """The text with every span replaced (always `<TYPE>` when `audit` is set).

        `hashes` maps a value as written to the keyed hash of its canonical form (the
        finding's `value_hash`): the `hash` token is taken from it, so one address or
        number gets one token however it is written (`JO@X.COM`, `jo@x.com`).
        """
        merged = merge(pieces)
        if not merged:
            return text
        results = [self._result(t, s, e, 1.0) for s, e, t in merged]
        operators = {t: self._operator(t, audit, hashes or {}) for _, _, t in merged}
        # One placeholder per merged span: presidio-anonymizer would otherwise merge values
        # of one type with only spaces between them, and its merged `hash` token would be
        # the hash of neither. A value and its placeholder are one context word each.
        done = self._engine.anonymize(
            text=text,
            analyzer_results=results,
            operators=operators,
            merge_entities_with_spaces=False,
        )
        return str(done.text)

    def _operator(self, entity: str, audit: bool, hashes: Mapping[str, str]) -> Any:
        kind = "replace" if audit else self._operator_for(entity)
        if kind == "mask":
            params: dict[str, Any] = {
                "masking_char": "*",
                "chars_to_mask": 10**9,
                "from_end": False,
            }
            return self._config("mask", params)
        if kind == "hash":
            keyed = self._keyed_hash

            def token(value: str) -> str:
                return hash_token(entity, hashes.get(value) or keyed(value))

            return self._config("custom", {"lambda": token})
        return self._config("replace", {"new_value": f"<{entity}>"})
