"""PiiScanner: scan an action's configured fields, redact copies, mask copies for the audit log."""

from __future__ import annotations

import bisect
import dataclasses
import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from guard._exceptions import GuardError, InvalidAction
from guard._models import PiiFinding, PiiReport
from guard.detect._engine import PresidioDetector, detector_for
from guard.detect._entities import NER_ENTITIES, RECORD_ENTITIES, is_part_of
from guard.detect._errors import PiiConfigError, ScanMismatch, TextTooLarge
from guard.detect._hashing import keyed_hash, keyed_hash_any, resolve_key, text_digest
from guard.detect._names import names_no_one
from guard.detect._paths import (
    JSON,
    Problem,
    Target,
    exists,
    format_concrete,
    json_copy,
    leaf_text,
    parse_concrete,
    parse_field,
    resolve,
    update_at,
)
from guard.detect._protocol import Detector, EntityAwareDetector, Span
from guard.detect._redact import Redactor, inside_placeholder
from guard.detect._repeats import (
    CHAINED,
    MIN_DIGITS,
    NUMBER_ENTITIES,
    chain_extent,
    digits_of,
    repeats,
    same_number,
)
from guard.detect._scrub import (
    field_values,
    has_shortened_literal,
    mask_literals,
    mask_values,
    text_leaves,
)
from guard.detect._settings import PiiSettings

SETTLE_ROUNDS = 3  # scans of a redacted field, each redacting what the last one found
UNSCANNED = "[REDACTED]"  # what `redact` puts in place of a field that could not be scanned


@dataclass(frozen=True)
class PiiScan:
    """The outcome of scanning one action: findings (no raw values) and what was covered.

    `digests` holds a digest of every scanned text by field, so `redact` and
    `mask_for_audit` can refuse an action that is not the one scanned.
    """

    findings: tuple[PiiFinding, ...]
    report: PiiReport
    digests: Mapping[str, bytes] = field(default_factory=dict, repr=False, compare=False)


@dataclass
class _Plan:
    """The places of one action: texts to scan, missing fields, and fields in error."""

    targets: list[tuple[str, str]] = field(default_factory=list)  # (field, text)
    missing: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)


class PiiScanner:
    """Scans the fields a pack names for the entities it names, and redacts what it finds.

    The default detector is the process-wide `PresidioDetector` for these settings, so
    building a scanner per pack is cheap after the first. Hashes are keyed with
    `hash_key`, else `GUARD_PII_HASH_KEY`, else a random per-process key.
    """

    def __init__(
        self,
        settings: PiiSettings,
        *,
        detector: Detector | None = None,
        hash_key: bytes | None = None,
    ) -> None:
        if not isinstance(settings, PiiSettings):
            raise TypeError(f"settings must be PiiSettings, got {type(settings).__name__}")
        self.settings = settings
        self._key = resolve_key(hash_key)
        self._fields = [parse_field(f) for f in settings.fields]
        if detector is None:
            detector = detector_for(settings)
        if not isinstance(detector, Detector):
            raise TypeError(f"detector must implement Detector, got {type(detector).__name__}")
        self.detector = detector
        if isinstance(detector, EntityAwareDetector):
            scanned, components = detector.prepare(settings.entities)
        else:
            scanned, components = frozenset(settings.entities), (detector.name,)
        self.entities_scanned: frozenset[str] = frozenset(scanned) & frozenset(settings.entities)
        self.entities_not_scanned: frozenset[str] = (
            frozenset(settings.entities) - self.entities_scanned
        )
        self._entities = tuple(sorted(self.entities_scanned))
        self._pattern_entities = tuple(e for e in self._entities if e not in NER_ENTITIES)
        # Audit records and error texts also lose what RECORD_ENTITIES find (the built-in
        # detector has them all; another detector is asked only for the pack's entities).
        record = set(self._pattern_entities)
        if isinstance(detector, PresidioDetector):
            record |= RECORD_ENTITIES
        self._record_entities = tuple(sorted(record))
        self._extra_entities = tuple(e for e in self._record_entities if e not in self._entities)
        self._components = list(components)
        self._allow = frozenset(v.strip().casefold() for v in settings.allow_list)
        # Allowed numbers by their digits, and IBAN-like values by their letters and digits:
        # a listed number is allowed however it is spaced or grouped.
        self._allow_numbers = tuple(
            v for v in settings.allow_list if len(digits_of(v)) >= MIN_DIGITS
        )
        self._allow_alnum = frozenset(
            "".join(c for c in v if c.isalnum()).casefold() for v in settings.allow_list
        )
        self._redactor: Redactor | None = None

    # -- scanning --------------------------------------------------------------------------

    def scan(self, action: Mapping[str, Any]) -> PiiScan:
        """Scan one action's configured fields."""
        return self.scan_batch([action])[0]

    def scan_batch(self, actions: Sequence[Mapping[str, Any]]) -> list[PiiScan]:
        """Scan many actions with one detector call (one nlp.pipe pass for NER)."""
        plans = [self._plan(i, a) for i, a in enumerate(actions)]
        texts = [text for plan in plans for _, text in plan.targets]
        outcomes = iter(self._detect(texts))
        return [
            self._result(plan, list(itertools.islice(outcomes, len(plan.targets))))
            for plan in plans
        ]

    def _plan(self, index: int, action: Any) -> _Plan:
        if not isinstance(action, Mapping):
            raise InvalidAction(f"actions[{index}] must be a mapping, got {type(action).__name__}")
        plan = _Plan()
        seen: set[str] = set()
        limit = self.settings.max_text_chars
        for steps in self._fields:
            for outcome in resolve(
                action, steps, expand_json=self.settings.parse_json_strings, max_chars=limit
            ):
                name = format_concrete(outcome.path)
                if name in seen:
                    continue
                seen.add(name)
                self._place(plan, name, outcome, limit)
        return plan

    def _place(self, plan: _Plan, name: str, outcome: Target | Problem, limit: int) -> None:
        if isinstance(outcome, Problem):
            if outcome.kind == "missing":
                plan.missing.append(name)
            else:
                plan.errors[name] = outcome.message
        elif len(outcome.text) > limit:
            plan.errors[name] = str(_too_large(len(outcome.text), limit))
        elif not self._entities:
            plan.errors[name] = "not scanned: no detector is available for " + ", ".join(
                sorted(self.entities_not_scanned)
            )
        else:
            plan.targets.append((name, outcome.text))

    def _detect(self, texts: list[str]) -> list[list[Span] | str]:
        if not texts:
            return []
        try:
            found: list[list[Span] | str] = list(self._checked(texts))
            return found
        except PiiConfigError:
            raise
        except Exception:  # whatever a detector raises, each text is tried on its own
            return [self._detect_one(text) for text in texts]

    def _detect_one(self, text: str, entities: tuple[str, ...] | None = None) -> list[Span] | str:
        """The spans of one text, or why it could not be scanned.

        Any failure is a field error (the scan is incomplete, so `pii.*` fails closed),
        and the reason never quotes the text: it is kept in the audit record. A
        detector's own message is left out unless it is one of the guard's errors.
        """
        try:
            return self._checked([text], entities)[0]
        except PiiConfigError:
            raise
        except GuardError as exc:
            return mask_values(str(exc), [text])
        except Exception as exc:
            return f"detector {self.detector.name!r} failed: {type(exc).__name__}"

    def _checked(
        self, texts: list[str], entities: tuple[str, ...] | None = None
    ) -> list[list[Span]]:
        wanted = self._entities if entities is None else entities
        if isinstance(self.detector, PresidioDetector):
            # Its context windows read values that will be redacted as placeholders.
            spans = self.detector.detect(texts, wanted, threshold=self.settings.threshold)
        else:
            spans = self.detector.detect(texts, wanted)
        if len(spans) != len(texts):
            raise RuntimeError(
                f"detector {self.detector.name!r} returned {len(spans)} span lists "
                f"for {len(texts)} texts"
            )
        return spans

    def _result(self, plan: _Plan, outcomes: list[list[Span] | str]) -> PiiScan:
        findings: list[PiiFinding] = []
        scanned: list[str] = []
        digests: dict[str, bytes] = {}
        errors = dict(plan.errors)
        for (name, text), outcome in zip(plan.targets, outcomes, strict=True):
            if isinstance(outcome, str):
                errors[name] = outcome
                continue
            bad = next((s for s in outcome if not 0 <= s.start < s.end <= len(text)), None)
            if bad is not None:
                errors[name] = f"detector returned span [{bad.start}, {bad.end}) outside the text"
                continue
            scanned.append(name)
            digests[name] = text_digest(text)
            findings.extend(self._findings(name, text, outcome))
        report = PiiReport(
            detectors=list(self._components),
            entities_scanned=list(self._entities),
            entities_not_scanned=sorted(self.entities_not_scanned),
            fields_scanned=scanned,
            fields_missing=plan.missing,
            field_errors=errors,
        )
        return PiiScan(tuple(findings), report, digests)

    def _findings(
        self, name: str, text: str, spans: Iterable[Span], entities: Iterable[str] | None = None
    ) -> list[PiiFinding]:
        threshold = self.settings.threshold
        wanted = self.entities_scanned if entities is None else frozenset(entities)
        kept = [trimmed(text, s) for s in spans if s.entity_type in wanted and s.score >= threshold]
        if any(s.entity_type == "PERSON" for s in kept):
            # only values reported themselves: a name in an allow-listed link stays a name
            others = [
                s
                for s in kept
                if s.entity_type != "PERSON" and not self._allowed(text[s.start : s.end], s)
            ]
            kept = [
                s for s in kept if s.entity_type != "PERSON" or not names_no_one(text, s, others)
            ]
        out = []
        for span in sorted(remove_contained(kept), key=lambda s: (s.start, s.end, s.entity_type)):
            raw = text[span.start : span.end]
            if self._allowed(raw, span) or inside_placeholder(text, span.start, span.end):
                continue
            out.append(
                PiiFinding(
                    entity_type=span.entity_type,
                    field=name,
                    start=span.start,
                    end=span.end,
                    score=round(span.score, 4),
                    recognizer=span.recognizer,
                    value_hash=keyed_hash(self._key, canonical_value(span, raw)),
                )
            )
        return with_repeats(text, with_chains(text, without_parts(out)), self._key)

    def _allowed(self, raw: str, span: Span) -> bool:
        if not self._allow:
            return False
        if raw.strip().casefold() in self._allow or (
            span.normalized is not None and span.normalized.casefold() in self._allow
        ):
            return True
        if span.entity_type == "IBAN_CODE":
            return "".join(c for c in raw if c.isalnum()).casefold() in self._allow_alnum
        numeric = span.entity_type == "CONTACT_HANDLE" and not any(c.isalpha() for c in raw)
        if (span.entity_type in NUMBER_ENTITIES or numeric) and self._allow_numbers:
            return any(same_number(raw, v, span.entity_type) for v in self._allow_numbers)
        return False

    # -- redaction and masking -----------------------------------------------------------

    def redact(self, action: Mapping[str, Any], scan: PiiScan) -> dict[str, Any]:
        """A deep copy of the action with every finding replaced per the pack's operators.

        A redacted field is scanned again for the pattern entities, and what that scan
        finds is replaced too, until it finds nothing (at most `SETTLE_ROUNDS` scans):
        replacing a value can expose a neighbour that a pattern had read as part of a
        longer match (`4165550199 4111 1111 1111 1111` is one run of digits, and no card,
        until the phone number is replaced). So redacting a redacted action changes
        nothing the pattern entities could see.

        A configured field that could not be scanned (an error, too large) is replaced
        by `UNSCANNED`: what was not scanned is never passed on as if it were clean.
        """
        copy = self._copy(action)
        for name, pieces in _by_field(scan.findings):
            found = [f for f in scan.findings if f.field == name]
            self._rewrite(copy, name, pieces, scan, audit=False, findings=found)
        self._replace_errors(copy, scan, lambda _: UNSCANNED)
        return copy

    def mask_for_audit(
        self, action: Mapping[str, Any], scan: PiiScan
    ) -> tuple[dict[str, Any], list[str], list[str]]:
        """A copy fit for the audit log, with the masked and the erased paths.

        Findings become `<TYPE>`; a configured field that could not be scanned (an error,
        not a string, too large) becomes `{"erased": "<keyed hash>"}`, so no raw value of
        a field the pack protects is ever stored.
        """
        copy = self._copy(action)
        masked = []
        for name, pieces in _by_field(scan.findings):
            self._rewrite(copy, name, pieces, scan, audit=True)
            masked.append(name)
        for name in scan.report.fields_scanned if self._extra_entities else ():
            if self._mask_extra(copy, name) and name not in masked:
                masked.append(name)
        erased = self._replace_errors(copy, scan, self._erase)
        return copy, masked, erased

    def _mask_extra(self, data: dict[str, Any], name: str) -> bool:
        """Mask in one listed field what RECORD_ENTITIES find beyond the pack's entities
        (an IBAN in a pack that lists only e-mails); True when something was masked."""
        changed = False

        def change(value: Any) -> Any:
            nonlocal changed
            text = leaf_text(value)
            if text is None:
                return value
            out = self._scrub_text(text, self._extra_entities)
            changed = changed or out != text
            return value if out == text else out

        try:
            update_at(data, parse_concrete(name), change)
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise ScanMismatch(f"field {name!r} of the scan is not in this action") from exc
        return changed

    @staticmethod
    def _replace_errors(data: dict[str, Any], scan: PiiScan, by: Any) -> list[str]:
        """Replace every place of the scan that could not be scanned; the places replaced.

        A place that cannot be replaced on its own is replaced with what holds it.
        """
        done = []
        for name in scan.report.field_errors:
            path = parse_concrete(name)
            for cut in range(len(path), 0, -1):
                place = path[:cut]
                if place[-1] is JSON:
                    continue
                try:
                    if exists(data, place):
                        update_at(data, place, by)
                        done.append(format_concrete(place))
                    break
                except (KeyError, IndexError, TypeError, ValueError, RecursionError):
                    continue
        return done

    def scrub(
        self, text: str, action: Mapping[str, Any], *, values: Sequence[str] | None = None
    ) -> str:
        """A text about `action` (a rule's error) with no raw value of a PII field in it.

        Quoted values of the pack's fields, whole or shortened (`'jane.doe@exa...'`), become
        `'<masked>'` (see `_scrub`); then whatever the pattern recognizers still find
        becomes `<TYPE>`. When that scan fails, every quoted literal is masked.
        """
        if not isinstance(text, str) or not text:
            return text
        if values is None:  # the texts at the pack's fields (callers scrubbing many pass them)
            mapping = isinstance(action, Mapping)
            values = field_values(action, self.settings.fields) if mapping else []
        out = mask_values(text, values)
        if has_shortened_literal(out):
            # A shortened quote of another text of the action (`'mail jo.secret@gm... 0130
            # 00'` from `params.amount`) holds what no recognizer reads once it is cut.
            texts = self._texts_with_pii(action, skip=values, quoted_in=out)
            out = mask_values(out, texts, shortened_only=True)
        return self._scrub_text(out, self._record_entities)

    def _texts_with_pii(self, action: Any, *, skip: Sequence[str], quoted_in: str) -> list[str]:
        """The texts of `action` outside `skip`, shown by a shortened literal of `quoted_in`,
        in which the pattern recognizers of the audit record find something (or cannot
        tell). A text no such literal shows is not scanned: masking could not use it."""
        out = []
        known = set(skip)
        for text in text_leaves(action):
            if text in known or not self._record_entities:
                continue
            known.add(text)
            if mask_values(quoted_in, [text], shortened_only=True) == quoted_in:
                continue
            spans = self._detect_one(text, self._record_entities)
            if isinstance(spans, str) or self._findings("text", text, spans, self._record_entities):
                out.append(text)
        return out

    def _scrub_text(self, text: str, entities: tuple[str, ...]) -> str:
        """`text` with what the pattern recognizers of `entities` find as `<TYPE>`; every
        quoted literal masked when the scan fails."""
        if not entities:
            return text
        spans = self._detect_one(text, entities)
        if isinstance(spans, str) or any(not 0 <= s.start < s.end <= len(text) for s in spans):
            return mask_literals(text)
        found = self._findings("text", text, spans, entities)
        if not found:
            return text
        pieces = [(f.start, f.end, f.entity_type, f.score) for f in found]
        return self._get_redactor().apply(text, pieces, audit=True)

    def hash_value(self, value: str) -> str:
        """The keyed HMAC-SHA256 (hex) of a value, as findings' `value_hash` holds it."""
        return keyed_hash(self._key, value)

    def _erase(self, value: Any) -> dict[str, str]:
        return {"erased": keyed_hash_any(self._key, value)}

    @staticmethod
    def _copy(action: Mapping[str, Any]) -> dict[str, Any]:
        if not isinstance(action, Mapping):
            raise InvalidAction(f"action must be a mapping, got {type(action).__name__}")
        copied: dict[str, Any] = json_copy(action)
        return copied

    def _rewrite(
        self,
        data: dict[str, Any],
        name: str,
        pieces: list[tuple[int, int, str, float]],
        scan: PiiScan,
        *,
        audit: bool,
        findings: Sequence[PiiFinding] = (),
    ) -> None:
        redactor = self._get_redactor()

        def change(value: Any) -> Any:
            expected = scan.digests.get(name)
            text = leaf_text(value)
            if text is None or (expected is not None and text_digest(text) != expected):
                raise ScanMismatch(f"field {name!r} is not the text that was scanned")
            out = redactor.apply(text, pieces, audit=audit, hashes=_hashes(text, findings))
            return out if audit else self._settle(name, out, redactor)

        try:
            update_at(data, parse_concrete(name), change)
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise ScanMismatch(f"field {name!r} of the scan is not in this action") from exc

    def _settle(self, name: str, text: str, redactor: Redactor) -> str:
        """Redact what a scan of redacted `text` still finds, until it finds nothing.

        Only pattern entities are looked for again: a NER model reads a redacted sentence
        differently anyway, and running it again would double the cost of a redaction.
        """
        for _ in range(SETTLE_ROUNDS if self._pattern_entities else 0):
            spans = self._detect_one(text, self._pattern_entities)
            if isinstance(spans, str) or any(not 0 <= s.start < s.end <= len(text) for s in spans):
                break  # a scan of this text fails the same way: it is a field error, not redacted
            left = self._findings(name, text, spans)
            if not left:
                break
            pieces = [(f.start, f.end, f.entity_type, f.score) for f in left]
            text = redactor.apply(text, pieces, hashes=_hashes(text, left))
        return text

    def _get_redactor(self) -> Redactor:
        if self._redactor is None:
            self._redactor = Redactor(
                self.settings.operator_for, lambda v: keyed_hash(self._key, v)
            )
        return self._redactor


def _too_large(length: int, limit: int) -> TextTooLarge:
    return TextTooLarge(
        f"text of {length:,} characters exceeds max_text_chars={limit:,}; it was not scanned"
    )


def _hashes(text: str, findings: Iterable[PiiFinding]) -> dict[str, str]:
    """Each found value as written in `text`, to the keyed hash of its canonical form."""
    return {text[f.start : f.end]: f.value_hash for f in findings if f.value_hash}


def _by_field(
    findings: Iterable[PiiFinding],
) -> list[tuple[str, list[tuple[int, int, str, float]]]]:
    grouped: dict[str, list[tuple[int, int, str, float]]] = {}
    for f in findings:
        grouped.setdefault(f.field, []).append((f.start, f.end, f.entity_type, f.score))
    return list(grouped.items())


def canonical_value(span: Span, raw: str) -> str:
    """The form of a value that is hashed: de-obfuscated, e-mail lower-cased, phone digits."""
    if span.normalized:
        return span.normalized
    if span.entity_type == "EMAIL_ADDRESS":
        return raw.strip().lower()
    if span.entity_type == "PHONE_NUMBER":
        digits = "".join(c for c in raw if c.isdecimal())
        return digits or raw
    return raw


_OPENING = {"(": ")", "[": "]", "{": "}", "\uff08": "\uff09"}


def trimmed(text: str, span: Span) -> Span:
    """`span` less the spaces at its ends and an opening bracket at its start that it
    does not close: phonenumbers reads `(07911123456` and `[07911 123456` as numbers, and
    redacting that left `<PHONE_NUMBER>)`, the bracket closed with nothing opening it."""
    start, end = span.start, span.end
    while start < end and (
        text[start].isspace()
        or (text[start] in _OPENING and _OPENING[text[start]] not in text[start + 1 : end])
    ):
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if (start, end) == (span.start, span.end) or start == end:
        return span
    return dataclasses.replace(span, start=start, end=end)


def with_chains(text: str, findings: list[PiiFinding]) -> list[PiiFinding]:
    """The findings with each card, IBAN or SSN widened over the digit groups its own
    separator joins to it (`chain_extent`), up to the next finding."""
    out = list(findings)
    for i, f in enumerate(out):
        if f.entity_type not in CHAINED:
            continue
        lo = max((g.end for g in out if g.end <= f.start), default=0)
        hi = min((g.start for g in out if g.start >= f.end), default=len(text))
        start, end = chain_extent(text, f.start, f.end, lo, hi)
        if (start, end) != (f.start, f.end):
            out[i] = f.model_copy(update={"start": start, "end": end})
    return out


def with_repeats(text: str, findings: list[PiiFinding], key: bytes) -> list[PiiFinding]:
    """The findings plus each number among them written again in `text` in a form no
    recognizer read (`_repeats`), with the type, score and recognizer of the number."""
    if not findings:
        return findings
    again = repeats(text, [(f.start, f.end, f.entity_type) for f in findings])
    if not again:
        return findings
    extra = [
        findings[i].model_copy(
            update={
                "start": start,
                "end": end,
                "recognizer": f"{findings[i].recognizer or findings[i].entity_type} (repeated)",
                "value_hash": keyed_hash(key, digits_of(text[start:end])),
            }
        )
        for start, end, i in again
    ]
    return sorted([*findings, *extra], key=lambda f: (f.start, f.end, f.entity_type))


def without_parts(findings: list[PiiFinding]) -> list[PiiFinding]:
    """The findings minus each one inside another that it is a part of (`is_part_of`).

    Only reported findings hold parts: a name in an allow-listed link or in a link
    scored below the threshold is still reported, and redacted, on its own.
    """
    if len(findings) < 2:
        return findings
    drop: set[int] = set()
    for inner in {f.entity_type for f in findings}:
        outers = sorted((f.start, f.end) for f in findings if is_part_of(inner, f.entity_type))
        if not outers:
            continue
        starts = [start for start, _ in outers]
        reach = list(itertools.accumulate((end for _, end in outers), max))
        for i, f in enumerate(findings):
            if f.entity_type == inner:
                k = bisect.bisect_right(starts, f.start)
                if k and reach[k - 1] >= f.end:
                    drop.add(i)
    return [f for i, f in enumerate(findings) if i not in drop] if drop else findings


def remove_contained(spans: Sequence[Span]) -> list[Span]:
    """Drop a span contained in another of the same type with an equal or higher score.

    The same rule as Presidio's `EntityRecognizer.remove_duplicates`. Of spans alike but
    for their recognizer, the first given is kept: deduplicating through a `set` ordered
    them by their names' hash, which differs from one process to the next.
    """
    ordered = sorted(
        dict.fromkeys(spans), key=lambda s: (s.entity_type, s.start, -(s.end - s.start), -s.score)
    )
    kept: list[Span] = []
    for _, group in itertools.groupby(ordered, key=lambda s: s.entity_type):
        active: list[Span] = []
        for span in group:
            if span.score == 0:
                continue
            active = [a for a in active if a.end >= span.start]
            if any(
                a.start <= span.start and span.end <= a.end and span.score <= a.score
                for a in active
            ):
                continue
            active.append(span)
            kept.append(span)
    return kept
