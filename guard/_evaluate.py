"""Evaluate a compiled pack's rules against one scope and turn hits into a verdict."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from guard._exceptions import GuardError
from guard._models import RANK, RuleHit, Verdict, fast_model
from guard.policy._loader import CompiledRule
from guard.policy._rate import RateStore
from guard.policy._template import Masker, fill_parts

MAX_EVIDENCE_CHARS = 500


class DecisionRates:
    """Rate counters for one decision: a key is counted once even if evaluated twice."""

    __slots__ = ("_store", "_seen")

    def __init__(self, store: RateStore) -> None:
        self._store = store
        self._seen: dict[tuple[str, float], int] = {}

    def hit(self, key: str, window: float) -> int:
        memo = (key, window)
        if memo not in self._seen:
            self._seen[memo] = self._store.hit(key, window)
        return self._seen[memo]


def run_rules(
    rules: Iterable[CompiledRule],
    env: Mapping[str, Any],
    *,
    item_id: str | int | None = None,
    mask: Masker | None = None,
) -> list[RuleHit]:
    """Evaluate each rule; a rule that cannot be evaluated hits with its `on_error` effect."""
    hits: list[RuleHit] = []
    for rule in rules:
        when = rule.when
        if when is None:
            continue
        try:
            value = when.evaluate(env)
            if value is not True and value is not False:
                kind = type(value).__name__
                raise GuardError(f"condition evaluated to {kind} {value!r}, expected true or false")
        except Exception as exc:  # a rule error must never let an action through
            hits.append(_error_hit(rule, exc, item_id))
            continue
        if value:
            hits.append(_hit(rule, env, item_id, mask))
    return hits


def verdict_of(hits: Iterable[RuleHit], default: Verdict) -> Verdict:
    """Strongest effect among hits (deny > escalate > redact > allow), else the default."""
    best: Verdict | None = None
    for hit in hits:
        if best is None or RANK[hit.effect] > RANK[best]:
            best = hit.effect
    return default if best is None else best


def _hit(
    rule: CompiledRule,
    env: Mapping[str, Any],
    item_id: str | int | None,
    mask: Masker | None,
) -> RuleHit:
    evidence: dict[str, Any] = {}
    if rule.when is not None:
        try:
            _, evidence = rule.when.explain(env)
        except Exception as exc:  # evidence is best-effort once the rule has fired
            evidence = {"explain_error": str(exc)}
    if mask is not None:
        evidence = {k: mask(k, v) for k, v in evidence.items()}
    evidence = {k: _trim(v) for k, v in evidence.items()}
    message = fill_parts(rule.message_parts, env, mask) if rule.has_template else rule.message
    return fast_model(
        RuleHit,
        rule_id=rule.id,
        effect=rule.effect,
        message=message,
        severity=rule.severity,
        evidence=evidence,
        error=None,
        item_id=item_id,
    )


def _trim(value: Any) -> Any:
    """Evidence stays small: long text is cut, big lists and dicts are summarised."""
    if isinstance(value, str) and len(value) > MAX_EVIDENCE_CHARS:
        return value[:MAX_EVIDENCE_CHARS] + "…"
    if isinstance(value, list | dict) and len(orjson.dumps(value)) > MAX_EVIDENCE_CHARS:
        return {"summary": f"{type(value).__name__} of {len(value)} elements"}
    return value


def _error_hit(rule: CompiledRule, exc: Exception, item_id: str | int | None) -> RuleHit:
    text = str(exc) if isinstance(exc, GuardError) else f"{type(exc).__name__}: {exc}"
    return fast_model(
        RuleHit,
        rule_id=rule.id,
        effect=rule.on_error,
        message=f"rule could not be evaluated: {text}",
        severity=rule.severity,
        evidence={},
        error=text,
        item_id=item_id,
    )
