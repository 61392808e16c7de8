"""The extension point for PII detection: a Detector turns texts into spans."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class Span:
    """One detected entity in one text: where, what, how sure, and which recognizer said so.

    `normalized` is the canonical form of an obfuscated value (`jo@example.com` for
    `jo at example dot com`), used for allow-list checks and keyed hashes.
    """

    entity_type: str
    start: int
    end: int
    score: float
    recognizer: str
    normalized: str | None = None


@runtime_checkable
class Detector(Protocol):
    """Finds PII spans in texts; `detect` returns one list of spans per input text.

    Detectors return every candidate with its score; the scanner applies the pack's
    threshold, overlap rules and allow-list, so all detectors are judged alike. A
    detector raises `DetectionError` for a text it cannot scan.
    """

    name: str

    def detect(self, texts: Sequence[str], entities: Sequence[str]) -> list[list[Span]]:
        """Find spans of the given entity types in each text."""
        ...


@runtime_checkable
class EntityAwareDetector(Detector, Protocol):
    """A Detector that can say which entity types it supports and which it can run now."""

    supported_entities: frozenset[str]

    def prepare(self, entities: Collection[str]) -> tuple[frozenset[str], tuple[str, ...]]:
        """Load what `entities` need; return (entities it will scan, components that run)."""
        ...
