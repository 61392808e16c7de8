"""Evaluate a compiled pack's rules against one scope and turn hits into a verdict."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import orjson

from guard._exceptions import GuardError
from guard._models import RANK, Decision, RuleHit, Verdict, fast_model
from guard.policy._expr import as_evaluation_error
from guard.policy._loader import CompiledRule
from guard.policy._rate import RateStore, add, peek, peek_total
from guard.policy._template import Masker, fill_parts

MAX_EVIDENCE_CHARS = 500
Scrubber = Callable[[str], str]  # an error text in, the same text with PII values masked
_SMALL = frozenset({bool, int, float, type(None)})  # evidence values kept as they are


class DecisionRates:
    """Rate counters for one decision: a key is counted once even if evaluated twice.

    A dry run (`dry=True`: `Guard.evaluate`, `Guard.allowed`, the alternatives a decorator
    tries) only peeks at the counts; `commit()` records them once the action is chosen.
    Live and shadow rules of one decision share it, so an event is counted once. Sums
    (`total`) are memoised the same way, apart from counts: an amount is added once.
    """

    __slots__ = ("_store", "_seen", "_sums", "_dry", "redo")

    def __init__(self, store: RateStore, *, dry: bool = False) -> None:
        self._store = store
        self._seen: dict[tuple[str, float], int] = {}
        self._sums: dict[tuple[str, float], tuple[float, float]] = {}  # -> (amount, sum)
        self._dry = dry
        # Decides the dry run's action again with these (committed) counts, to judge it by
        # them when others were counted between the dry run and its commit.
        self.redo: Callable[[DecisionRates], Decision] | None = None

    def hit(self, key: str, window: float) -> int:
        memo = (key, window)
        if memo not in self._seen:
            count = peek(self._store, key, window) if self._dry else self._store.hit(key, window)
            self._seen[memo] = count
        return self._seen[memo]

    def total(self, key: str, amount: float, window: float) -> float:
        """Add `amount` to `key`'s sum once per decision (a dry run only peeks); the sum.

        One counter adds one amount per event: asked again with another amount (two
        calls of one rule on the same key and window, or a shadow rule summing another
        field under the same id), it raises ValueError rather than add or report either.
        """
        memo = (key, window)
        seen = self._sums.get(memo)
        if seen is None:
            store = self._store
            result = (
                peek_total(store, key, amount, window)
                if self._dry
                else add(store, key, amount, window)
            )
            self._sums[memo] = (amount, result)
            return result
        if seen[0] != amount:
            raise ValueError(
                f"total() was given {seen[0]!r} and then {amount!r} for one counter in one "
                "decision; give each amount its own key"
            )
        return seen[1]

    def commit(self) -> bool:
        """Record the hits and amounts a dry run counted: the action is going ahead.

        True when a count or sum is not the one the dry run saw (another event was counted
        in between, by another thread or process): the decision read stale counts. The
        committed ones replace them, so deciding again with these rates reads them.
        """
        if not self._dry:
            return False
        self._dry = False
        moved = False
        for memo, seen in self._seen.items():
            count = self._store.hit(*memo)
            moved = moved or count != seen
            self._seen[memo] = count
        for memo, (amount, before) in self._sums.items():
            after = add(self._store, memo[0], amount, memo[1])
            moved = moved or after != before
            self._sums[memo] = (amount, after)
        return moved


def run_rules(
    rules: Iterable[CompiledRule],
    env: Mapping[str, Any],
    *,
    item_id: str | int | None = None,
    mask: Masker | None = None,
    scrub: Scrubber | None = None,
) -> list[RuleHit]:
    """Evaluate each rule; a rule that cannot be evaluated hits with its `on_error` effect.

    A `RuleSet` is evaluated by its plan, which names the rules whose value is not
    False; those are taken again rule by rule unless the plan found them plainly true.
    `mask` masks evidence and message values read from PII fields; `scrub` cleans the
    texts of errors, which quote the values they failed on.
    """
    plan = getattr(rules, "plan", None)
    if plan is None:
        hits: list[RuleHit] = []
        for rule in rules:
            if rule.when is not None:
                _run_one(rule, env, item_id, mask, hits, scrub)
        return hits
    flagged = plan(env)
    if not flagged:
        return flagged  # type: ignore[no-any-return]  # a new empty list
    hits = []
    ordered: Sequence[CompiledRule] = rules  # type: ignore[assignment]
    for index, value in flagged:
        if value is True:
            hits.append(_hit(ordered[index], env, item_id, mask, scrub))
        else:
            _run_one(ordered[index], env, item_id, mask, hits, scrub)
    return hits


def _run_one(
    rule: CompiledRule,
    env: Mapping[str, Any],
    item_id: str | int | None,
    mask: Masker | None,
    hits: list[RuleHit],
    scrub: Scrubber | None = None,
) -> None:
    """Evaluate one rule through its closures (the exact path) and add its hit, if any."""
    when = rule.when
    assert when is not None
    try:
        value = when.fast(env)
    except Exception as exc:  # a rule error must never let an action through
        error = exc if isinstance(exc, GuardError) else as_evaluation_error(when.source, exc)
        hits.append(_error_hit(rule, error, item_id, scrub))
        return
    if value is True:
        hits.append(_hit(rule, env, item_id, mask, scrub))
    elif value is not False:
        kind = type(value).__name__
        error = GuardError(f"condition evaluated to {kind} {value!r}, expected true or false")
        hits.append(_error_hit(rule, error, item_id, scrub))


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
    scrub: Scrubber | None = None,
) -> RuleHit:
    evidence: dict[str, Any] = {}
    if rule.when is not None:
        try:
            _, evidence = rule.when.explain(env)
        except Exception as exc:  # evidence is best-effort once the rule has fired
            evidence = {"explain_error": str(exc) if scrub is None else scrub(str(exc))}
    for key, value in evidence.items():
        if mask is not None:
            value = mask(key, value)
        elif type(value) in _SMALL:
            continue
        if isinstance(value, str):
            if len(value) > MAX_EVIDENCE_CHARS:
                value = value[:MAX_EVIDENCE_CHARS] + "…"
        elif isinstance(value, list | dict | tuple):
            value = _copied(value)
        evidence[key] = value
    parts = rule.message_parts
    return fast_model(
        RuleHit,
        {
            "rule_id": rule.id,
            "effect": rule.effect,
            "message": rule.message if parts is None else fill_parts(parts, env, mask),
            "severity": rule.severity,
            "evidence": evidence,
            "error": None,
            "item_id": item_id,
        },
    )


def _copied(value: list[Any] | dict[str, Any] | tuple[Any, ...]) -> Any:
    """Evidence of a list or object: a copy (never the caller's own objects, which the
    decision's reader could change, or which could change under the decision), or a
    summary when it is long."""
    try:
        raw = orjson.dumps(value)
    except orjson.JSONEncodeError:  # a value the language computed (a set in a list)
        return value
    if len(raw) > MAX_EVIDENCE_CHARS:
        kind = "list" if isinstance(value, tuple) else type(value).__name__
        return {"summary": f"{kind} of {len(value)} elements"}
    return orjson.loads(raw)


def _error_hit(
    rule: CompiledRule,
    exc: Exception,
    item_id: str | int | None,
    scrub: Scrubber | None = None,
) -> RuleHit:
    text = str(exc) if isinstance(exc, GuardError) else f"{type(exc).__name__}: {exc}"
    if scrub is not None:
        text = scrub(text)
    return fast_model(
        RuleHit,
        {
            "rule_id": rule.id,
            "effect": rule.on_error,
            "message": f"rule could not be evaluated: {text}",
            "severity": rule.severity,
            "evidence": {},
            "error": text,
            "item_id": item_id,
        },
    )
