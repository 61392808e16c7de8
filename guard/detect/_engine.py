"""PresidioDetector: Presidio's recognizers, run the fast way, built once per process.

What it does differently from `AnalyzerEngine.analyze`, and why:

- no spaCy for pattern entities: context words are read from the text's own words
  (see `_context`), so a pack that asks only for e-mail and phone never tags a text;
- for NER entities only `ner` (and `senter`) run, through `nlp.pipe` over every text of
  a batch (see `_nlp`);
- cheap pre-filters skip a recognizer that cannot match (no `@`, too few digits);
- recognizers of numbers and codes (`FOLDED_ENTITIES`) read a non-ASCII text with its
  digits, spaces and dashes folded to ASCII and invisible characters dropped, so
  `4111\u00a01111\u00a01111\u00a01111` is a card; their spans are mapped back to the
  original text (see `_normalize.fold_digits`);
- an SSN written right after its name drops the phone matches on its digits
  (`_entities.OUTRANKS`);
- a weak pattern (a bare nine-digit passport number, 0.05) that a context word lifts
  scores at least `_context.NAMED_SCORE`, over the pack's default threshold, when its
  type's cue word (`passport`) is in its window and sentence (see `_context`);
- number types found on one value (a phone number that passes the NHS checksum) are
  one span, of the type its context names (see `_labels`);
- results are cached per text digest and entity set;
- a regex that runs past its budget raises `RegexTimeout` for that text instead of
  being skipped with a log line, so the scan never claims a field it did not finish.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import re
import threading
import warnings
import weakref
from collections import OrderedDict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

from guard.detect._context import ContextWindow, boosted, supportive_word
from guard.detect._entities import (
    BUILTIN_ENTITIES,
    FOLDED_ENTITIES,
    LABEL_CUES,
    MORE_RECOGNIZERS,
    NAMED_BY_CUE,
    NER_ENTITIES,
    OUTRANKS,
    PATTERN_RECOGNIZERS,
    PREFILTERS,
)
from guard.detect._errors import (
    PiiConfigError,
    PiiWarning,
    RegexTimeout,
    TextTooLarge,
    missing_presidio,
)
from guard.detect._hashing import text_digest
from guard.detect._labels import relabelled
from guard.detect._nlp import NerModel, load_ner
from guard.detect._normalize import (
    Folded,
    fold_digits,
    fold_table,
    join_digit_breaks,
    spans_a_break,
)
from guard.detect._protocol import Span
from guard.detect._redact import PLACEHOLDER
from guard.detect._settings import DEFAULT_PHONE_REGIONS, PiiSettings, RecognizerSpec


def _presidio() -> Any:
    try:
        return importlib.import_module("presidio_analyzer")
    except ImportError as exc:
        raise missing_presidio(exc) from exc


@dataclass(frozen=True)
class _Compiled:
    name: str
    score: float
    regex: Any
    source: str


@dataclass(frozen=True, slots=True, eq=False)
class _Hit:
    """A pattern result, the context words that may still lift its score, and the cue
    that names its type (see `_context.NAMED_SCORE`)."""

    result: Any
    context: tuple[str, ...]
    cue: re.Pattern[str] | None = None


_Key = tuple[bytes, tuple[str, ...], float | None]  # text digest, entities, threshold


@dataclass
class _Runner:
    """One recognizer, how to run it, and when it can be skipped."""

    entity: str
    recognizer: Any
    prefilter: Callable[[str], bool] | None
    patterns: tuple[_Compiled, ...] | None  # set: run with the guard's timed regex loop
    folded: bool = False  # reads the text with its digits and separators folded

    @property
    def name(self) -> str:
        return str(self.recognizer.name)


class PresidioDetector:
    """Detects PII with Presidio's recognizers and spaCy NER, without the stock overheads."""

    name = "presidio"

    def __init__(
        self,
        *,
        nlp_model: str | None = None,
        recognizers: Sequence[RecognizerSpec] = (),
        phone_regions: Sequence[str] = DEFAULT_PHONE_REGIONS,
        regex_timeout_ms: int = 1_000,
        max_text_chars: int = 100_000,
        cache_size: int = 4_096,
    ) -> None:
        self._presidio = _presidio()
        self.nlp_model = nlp_model
        self.timeout_s = regex_timeout_ms / 1000
        self.max_text_chars = max_text_chars
        self._phone_regions = tuple(phone_regions)
        self._runners: dict[str, list[_Runner]] = {}
        self._lazy_builtins: set[str] = set(PATTERN_RECOGNIZERS)
        for spec in recognizers:
            self._runners.setdefault(spec.supported_entity, []).append(self._custom(spec))
        self.supported_entities = BUILTIN_ENTITIES | frozenset(self._runners)
        self._ner: NerModel | None = None
        self._ner_reason = ""
        self._build_lock = threading.Lock()
        self._cache: OrderedDict[_Key, tuple[Span, ...]] = OrderedDict()
        self._cache_size = cache_size
        self._cache_lock = threading.Lock()
        self._stop: frozenset[str] | None = None
        self._window_stops: dict[tuple[str, ...], frozenset[str]] = {}
        _LIVE.add(self)

    def _after_fork(self) -> None:
        # Another thread may have held a lock when the process forked: in the child it
        # would stay held for ever. The child keeps what was built and cached.
        self._build_lock = threading.Lock()
        self._cache_lock = threading.Lock()

    # -- building -------------------------------------------------------------------------

    def _custom(self, spec: RecognizerSpec) -> _Runner:
        p = self._presidio
        try:
            patterns = [p.Pattern.from_dict(d) for d in spec.patterns]
            recognizer = p.PatternRecognizer(
                supported_entity=spec.supported_entity,
                name=spec.name,
                supported_language=spec.supported_language,
                patterns=patterns,
                deny_list=spec.deny_list or None,
                context=spec.context or None,
            )
        except (ValueError, TypeError, KeyError) as exc:
            raise PiiConfigError(f"custom recognizer {spec.name!r} is invalid: {exc}") from exc
        return _Runner(spec.supported_entity, recognizer, None, self._compile(recognizer))

    def _compile(self, recognizer: Any) -> tuple[_Compiled, ...]:
        import regex

        out = []
        for pattern in recognizer.patterns:
            try:
                compiled = regex.compile(pattern.regex, flags=recognizer.global_regex_flags)
            except regex.error as exc:
                raise PiiConfigError(
                    f"recognizer {recognizer.name!r} pattern {pattern.name!r} is not a valid "
                    f"regular expression: {exc}"
                ) from exc
            out.append(_Compiled(pattern.name, pattern.score, compiled, pattern.regex))
        return tuple(out)

    def _builtins(self, entity: str) -> list[_Runner]:
        runners = [
            self._make_builtin(entity),
            *map(self._make_more, MORE_RECOGNIZERS.get(entity, ())),
        ]
        if entity in FOLDED_ENTITIES:
            fold_table()  # built once, here rather than in the first scan
            for runner in runners:
                runner.folded = True
        return runners

    def _make_more(self, class_name: str) -> _Runner:
        from guard.detect import _recognizers

        cls = getattr(_recognizers, class_name)
        recognizer = cls(supported_regions=self._phone_regions, timeout_s=self.timeout_s)
        return _Runner(recognizer.ENTITY, recognizer, _recognizers.has_digit_cluster(), None)

    def _make_builtin(self, entity: str) -> _Runner:
        origin, class_name = PATTERN_RECOGNIZERS[entity]
        if origin == "guard":
            from guard.detect import _recognizers

            cls = getattr(_recognizers, class_name)
            if issubclass(cls, _recognizers.GuardRecognizer):
                return _Runner(entity, cls(timeout_s=self.timeout_s), None, None)
            if entity == "PHONE_NUMBER":
                recognizer = cls(supported_regions=self._phone_regions)
                return _Runner(entity, recognizer, _recognizers.has_digit_cluster(), None)
            return self._runner(entity, cls())
        module = importlib.import_module("presidio_analyzer.predefined_recognizers")
        cls = getattr(module, class_name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            recognizer = cls()
        return self._runner(entity, recognizer)

    def _runner(self, entity: str, recognizer: Any) -> _Runner:
        plain = type(recognizer).analyze is self._presidio.PatternRecognizer.analyze
        patterns = self._compile(recognizer) if plain else None
        return _Runner(entity, recognizer, PREFILTERS.get(entity), patterns)

    def _runners_for(self, entities: Collection[str]) -> list[_Runner]:
        with self._build_lock:
            for entity in entities:
                if entity in self._lazy_builtins:
                    self._runners.setdefault(entity, [])[:0] = self._builtins(entity)
                    self._lazy_builtins.discard(entity)
        return [r for e in sorted(entities) for r in self._runners.get(e, ())]

    def stop_words(self) -> frozenset[str]:
        """spaCy's English stop words, loaded once (the context window skips them)."""
        if self._stop is None:
            from guard.detect._recognizers._base import stop_words

            self._stop = stop_words()
        return self._stop

    def _window_stop_words(self, runners: list[_Runner]) -> frozenset[str]:
        """Stop words minus the recognizers' own context words.

        Presidio drops stop words from the context window before matching, and spaCy
        lists "call" as one, so "call me on 416-555-0199" never lifts the phone score.
        Keeping a word that a recognizer asked for is the one place the guard's context
        matching departs from Presidio's, and it only ever adds recall.
        """
        key = tuple(r.name for r in runners)
        found = self._window_stops.get(key)
        if found is None:
            wanted = {w.lower() for r in runners for w in (r.recognizer.context or ())}
            found = self._window_stops[key] = self.stop_words() - wanted
        return found

    # -- the EntityAwareDetector protocol ------------------------------------------------

    def prepare(self, entities: Collection[str]) -> tuple[frozenset[str], tuple[str, ...]]:
        """Build recognizers and load the NER model that `entities` need.

        Returns the entities that will be scanned and the components that will run.
        Without a NER model, NER entities are left out and a PiiWarning says why.
        """
        unknown = sorted(set(entities) - self.supported_entities)
        if unknown:
            raise PiiConfigError(
                f"unknown PII entity {', '.join(map(repr, unknown))}; expected one of "
                f"{', '.join(sorted(self.supported_entities))} (or declare a custom recognizer)"
            )
        self._runners_for(entities)
        self.stop_words()
        components = [f"presidio-analyzer@{_version('presidio-analyzer')}"]
        scanned = set(entities)
        ner_wanted = set(entities) & NER_ENTITIES
        if ner_wanted:
            model = self._load_ner()
            if model is None:
                scanned -= ner_wanted
                warnings.warn(
                    f"PII entities {', '.join(sorted(ner_wanted))} will not be scanned: "
                    f"{self._ner_reason}",
                    PiiWarning,
                    stacklevel=3,
                )
            else:
                components.append(model.label)
        return frozenset(scanned), tuple(components)

    def _load_ner(self) -> NerModel | None:
        if self._ner is None and not self._ner_reason:
            loaded = load_ner(self.nlp_model)
            if isinstance(loaded, str):
                self._ner_reason = loaded
            else:
                self._ner = loaded
        return self._ner

    # -- detection ------------------------------------------------------------------------

    def detect(
        self, texts: Sequence[str], entities: Sequence[str], *, threshold: float | None = None
    ) -> list[list[Span]]:
        """Find candidate spans of `entities` in each text (before threshold and allow-list).

        With `threshold` (the scanner's), context words are looked for the way redaction
        needs: a value scored at or above it, which redaction will replace with one
        placeholder, reads as one word that is no context word (see `_scored`).
        """
        wanted = tuple(sorted(set(entities)))
        unknown = set(wanted) - self.supported_entities
        if unknown:
            raise PiiConfigError(f"unknown PII entity {sorted(unknown)!r}")
        for i, text in enumerate(texts):
            if not isinstance(text, str):
                raise TypeError(f"texts[{i}] must be a str, got {type(text).__name__}")
            if len(text) > self.max_text_chars:
                raise TextTooLarge(
                    f"text of {len(text):,} characters exceeds max_text_chars="
                    f"{self.max_text_chars:,}; it was not scanned"
                )
        runners = self._runners_for(wanted)
        keys = [(text_digest(t), wanted, threshold) for t in texts]
        out: list[list[Span] | None] = [self._cached(k) for k in keys]
        todo = [i for i, found in enumerate(out) if found is None]
        hits = {i: self._patterns(texts[i], wanted, runners) for i in todo}
        ner = self._ner_spans(texts, wanted, todo)
        stop = self._window_stop_words(runners)
        for i in todo:
            spans = relabelled(
                texts[i], self._scored(texts[i], hits[i], ner.get(i, []), stop, threshold)
            )
            out[i] = spans
            self._remember(keys[i], spans)
        return [list(spans or ()) for spans in out]

    def _cached(self, key: _Key) -> list[Span] | None:
        if not self._cache_size:
            return None
        with self._cache_lock:
            found = self._cache.get(key)
            if found is None:
                return None
            self._cache.move_to_end(key)
            return list(found)

    def _remember(self, key: _Key, spans: list[Span]) -> None:
        if not self._cache_size:
            return
        with self._cache_lock:
            self._cache[key] = tuple(spans)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)

    def _ner_spans(
        self, texts: Sequence[str], wanted: tuple[str, ...], todo: list[int]
    ) -> dict[int, list[Span]]:
        ner_wanted = [e for e in wanted if e in NER_ENTITIES]
        if not ner_wanted:
            return {}
        model = self._load_ner()
        if model is None:
            raise PiiConfigError(
                f"cannot scan for {', '.join(ner_wanted)}: {self._ner_reason}; "
                f"ask prepare() which entities can be scanned"
            )
        busy = [i for i in todo if texts[i].strip()]
        return {
            i: [self._span(r) for r in results]
            for i, results in zip(
                busy, model.analyze([texts[i] for i in busy], ner_wanted), strict=True
            )
        }

    def _patterns(self, text: str, wanted: tuple[str, ...], runners: list[_Runner]) -> list[_Hit]:
        """Every pattern result with the context words that may still lift its score.

        Folded recognizers read the text twice when digit groups stand across a tab or a
        line break: as it is, and with those breaks read as spaces, where only findings
        that span such a break are kept (see `_normalize.join_digit_breaks`).
        """
        hits: list[_Hit] = []
        folded: Folded | None = None
        joined: Folded | None = None
        if any(r.folded for r in runners):
            folded = fold_digits(text)
            joined = join_digit_breaks(text)
        for runner in runners:
            if not runner.folded:
                hits.extend(self._read(runner, text, None, wanted))
                continue
            hits.extend(self._read(runner, text, folded, wanted))
            if joined is not None:
                hits.extend(
                    hit
                    for hit in self._read(runner, text, joined, wanted)
                    if spans_a_break(text, hit.result.start, hit.result.end)
                )
        return _outranked_dropped(hits)

    def _read(
        self, runner: _Runner, text: str, folded: Folded | None, wanted: tuple[str, ...]
    ) -> list[_Hit]:
        """One recognizer's results on `text`, read through `folded` when given."""
        seen = folded.text if folded is not None else text
        if runner.prefilter is not None and not runner.prefilter(seen):
            return []
        enhanced_key = self._presidio.RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY
        context = tuple(runner.recognizer.context or ())
        hits = []
        for result in self._run(runner, seen, wanted):
            if folded is not None:
                result.start, result.end = folded.span(result.start, result.end)
            enhanced = result.recognition_metadata.get(enhanced_key)
            cue = LABEL_CUES.get(result.entity_type) if result.entity_type in NAMED_BY_CUE else None
            hits.append(_Hit(result, () if enhanced else context, cue))
        return hits

    def _scored(
        self,
        text: str,
        hits: list[_Hit],
        ner: list[Span],
        stop: frozenset[str],
        threshold: float | None,
    ) -> list[Span]:
        """The spans of one text, each pattern result lifted by its context words if found.

        Redaction replaces each value the scanner reports with one placeholder, and a
        second scan must find nothing new. So in the window of a match below the
        threshold every such value reads as one word that is no context word, as its
        placeholder will (see `_context`): placeholders already in the text, results at
        or above `threshold` before any lift, and results a context word lifts over it.
        The last make other values one word where they were several, which can bring
        an older context word into another match's window, so lifting repeats until no
        more results cross the threshold; then none left below it would cross it in the
        redacted text either. A result at or above the threshold on its own is redacted
        whatever its context, which only raises its score; its window reads the
        placeholders already in the text as one word each.
        """
        lift = [h for h in hits if h.context]
        if not lift:
            return [self._span(h.result) for h in hits] + ner
        placeholders = [m.span() for m in PLACEHOLDER.finditer(text)]
        weak = [h for h in lift if threshold is not None and h.result.score < threshold]
        strong = [h for h in lift if threshold is None or h.result.score >= threshold]
        if strong:
            _lift(strong, ContextWindow(text, stop, placeholders))
        if weak and threshold is not None:
            taken = [
                *placeholders,
                *((h.result.start, h.result.end) for h in hits if h.result.score >= threshold),
                *((s.start, s.end) for s in ner if s.score >= threshold),
            ]
            _lift_to_threshold(text, stop, weak, taken, threshold)
        return [self._span(h.result) for h in hits] + ner

    def _run(self, runner: _Runner, text: str, wanted: tuple[str, ...]) -> list[Any]:
        try:
            if runner.patterns is not None:
                return self._run_patterns(runner, text)
            return list(runner.recognizer.analyze(text, list(wanted), None))
        except TimeoutError as exc:
            raise RegexTimeout(
                f"recognizer {runner.name!r} ran past its {self.timeout_s:g} s regex budget; "
                f"the text was not fully scanned"
            ) from exc

    def _run_patterns(self, runner: _Runner, text: str) -> list[Any]:
        """PatternRecognizer's own loop (validate, invalidate, scores), with a hard timeout."""
        p = self._presidio
        recognizer = runner.recognizer
        results = []
        for pattern in runner.patterns or ():
            for match in pattern.regex.finditer(text, timeout=self.timeout_s):
                start, end = match.span()
                if start == end:
                    continue
                score = self._validated_score(recognizer, text[start:end], pattern.score)
                if score > p.EntityRecognizer.MIN_SCORE:
                    results.append(self._pattern_result(recognizer, pattern, start, end, score))
        return list(p.EntityRecognizer.remove_duplicates(results))

    @staticmethod
    def _validated_score(recognizer: Any, matched: str, score: float) -> float:
        validation = recognizer.validate_result(matched)
        if validation is not None:
            score = 1.0 if validation else 0.0
        if recognizer.invalidate_result(matched):
            score = 0.0
        return score

    def _pattern_result(
        self, recognizer: Any, pattern: _Compiled, start: int, end: int, score: float
    ) -> Any:
        p = self._presidio
        explanation = p.AnalysisExplanation(
            recognizer=recognizer.name,
            original_score=pattern.score,
            pattern_name=pattern.name,
            pattern=pattern.source,
        )
        return p.RecognizerResult(
            entity_type=recognizer.supported_entities[0],
            start=start,
            end=end,
            score=score,
            analysis_explanation=explanation,
            recognition_metadata={
                p.RecognizerResult.RECOGNIZER_NAME_KEY: recognizer.name,
                p.RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: recognizer.id,
            },
        )

    @staticmethod
    def _span(result: Any) -> Span:
        meta = result.recognition_metadata or {}
        return Span(
            entity_type=result.entity_type,
            start=int(result.start),
            end=int(result.end),
            score=float(result.score),
            recognizer=str(meta.get("recognizer_name", "")),
            normalized=meta.get("normalized"),
        )


def _outranked_dropped(hits: list[_Hit]) -> list[_Hit]:
    """The hits minus those that a result of an `OUTRANKS` pattern covers (see there)."""
    if len(hits) < 2:
        return hits
    covers: dict[str, list[tuple[int, int]]] = {}
    for hit in hits:
        explanation = hit.result.analysis_explanation
        pattern = getattr(explanation, "pattern_name", None)
        for outranked in OUTRANKS.get((hit.result.entity_type, pattern), ()):
            covers.setdefault(outranked, []).append((hit.result.start, hit.result.end))
    if not covers:
        return hits
    return [
        h
        for h in hits
        if not any(
            start <= h.result.start and h.result.end <= end
            for start, end in covers.get(h.result.entity_type, ())
        )
    ]


def _lift_to_threshold(
    text: str,
    stop: frozenset[str],
    weak: list[_Hit],
    taken: list[tuple[int, int]],
    threshold: float,
) -> None:
    """Lift results below the threshold until none crosses it any more (see `_scored`)."""
    plain = ContextWindow(text, stop)
    while True:
        window = ContextWindow(text, stop, taken)
        lifted = [(h, _lifted(h, taken, window, plain)) for h in weak]
        crossing = [(h, s) for h, s in lifted if s is not None and s >= threshold]
        if not crossing:
            break
        for h, score in crossing:
            h.result.score = score
            taken.append((h.result.start, h.result.end))
        weak = [h for h in weak if h.result.score < threshold]
    for h, last in lifted:
        if last is not None:
            h.result.score = last


def _lifted(
    hit: _Hit, values: list[tuple[int, int]], window: ContextWindow, plain: ContextWindow
) -> float | None:
    """The score of `hit` lifted by a context word in its window (`values` one word
    each), higher when the window names its type too; None when no context word is there.

    A result that overlaps one of the values is redacted with it (what is left of it
    after redaction is another match), so its window is read as Presidio reads it,
    word by word, and its score is what it always was.
    """
    start, end = hit.result.start, hit.result.end
    if any(v_start < end and start < v_end for v_start, v_end in values):
        window = plain
    if supportive_word(window.around(start), hit.context) is None:
        return None
    named = hit.cue is not None and window.names(start, hit.cue)
    return boosted(hit.result.score, named=named)


def _lift(hits: list[_Hit], window: ContextWindow) -> None:
    """Lift each result whose window holds one of its context words."""
    for hit in hits:
        if supportive_word(window.around(hit.result.start), hit.context):
            hit.result.score = boosted(hit.result.score)


def _version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "?"


_detectors: dict[str, PresidioDetector] = {}
_detectors_lock = threading.Lock()
_LIVE: weakref.WeakSet[PresidioDetector] = weakref.WeakSet()  # every detector, for _after_fork


def _after_fork() -> None:
    global _detectors_lock
    _detectors_lock = threading.Lock()
    for detector in list(_LIVE):
        detector._after_fork()


if hasattr(os, "register_at_fork"):  # not on Windows, which cannot fork
    os.register_at_fork(after_in_child=_after_fork)


def detector_for(settings: PiiSettings) -> PresidioDetector:
    """The process-wide PresidioDetector for these settings (built on first use)."""
    key = settings.model_dump_json(
        include={
            "nlp_model",
            "recognizers",
            "phone_regions",
            "regex_timeout_ms",
            "max_text_chars",
            "cache_size",
        }
    )
    with _detectors_lock:
        found = _detectors.get(key)
        if found is None:
            found = PresidioDetector(
                nlp_model=settings.nlp_model,
                recognizers=settings.recognizers,
                phone_regions=settings.phone_regions,
                regex_timeout_ms=settings.regex_timeout_ms,
                max_text_chars=settings.max_text_chars,
                cache_size=settings.cache_size,
            )
            _detectors[key] = found
        return found
