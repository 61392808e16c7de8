"""Per-rule review figures: how often each rule fires and how often reviewers call it wrong.

A label judges a whole decision; it is counted for every rule that hit that decision.
The false-positive rate of a rule is false_positive / (correct + false_positive) over
the labelled decisions it hit. A false negative on a decision no rule hit is a miss of
the policy, counted per policy.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from guard._exceptions import RecordNotFound
from guard.audit import AuditLog
from guard.policy import CompiledPack
from service.ui._query import DECISION, SCAN_BUDGET, Filters, LabelIndex, iter_matching

__all__ = ["RuleStat", "RulesReport", "rules_report"]


@dataclass(slots=True)
class RuleStat:
    """One rule's hits and review labels."""

    policy: str
    rule_id: str
    effect: str = ""
    severity: str = ""
    description: str = ""
    line: int | None = None
    loaded: bool = False
    hits: int = 0
    correct: int = 0
    false_positive: int = 0
    false_negative: int = 0

    @property
    def judged(self) -> int:
        """Labelled decisions this rule hit, judged right or a false positive."""
        return self.correct + self.false_positive

    @property
    def fp_rate(self) -> float | None:
        """false_positive / (correct + false_positive), or None with no such labels."""
        return self.false_positive / self.judged if self.judged else None

    @property
    def fp_percent(self) -> str:
        """The rate as a percentage that is never 0% with a false positive, nor 100%
        with a correct label: '33%', '0.5%', '<0.1%', '99.9%' ('' with no such labels)."""
        rate = self.fp_rate
        if rate is None:
            return ""
        percent = 100 * rate
        whole = math.floor(percent + 0.5)  # half up: 1 in 8 is 13%
        if percent in (0, 100) or whole not in (0, 100):
            return f"{whole}%"
        if percent < 0.05:
            return "<0.1%"
        if percent >= 99.95:
            return ">99.9%"
        return f"{percent:.1f}%"


@dataclass(frozen=True, slots=True)
class RulesReport:
    """Every rule's figures, misses per policy, and how much of the log was read."""

    rules: list[RuleStat]
    missed: dict[str, int]
    scanned: int
    truncated: bool
    labelled: int


def rules_report(
    audit: AuditLog,
    packs: Mapping[str, CompiledPack],
    tenant: str | None,
    labels: LabelIndex,
    now: datetime,
    budget: int = SCAN_BUDGET,
) -> RulesReport:
    """Count hits over the newest `budget` decisions and labels over every labelled one."""
    stats: dict[tuple[str, str], RuleStat] = {}
    for pack in packs.values():
        for rule in pack.rules:
            stats[(pack.name, rule.id)] = RuleStat(
                pack.name,
                rule.id,
                rule.effect.value,
                rule.severity,
                rule.description,
                rule.line,
                loaded=True,
            )
    scanned = 0
    # Labelled decisions met in the scan are not read again: (policy, rule ids) of each.
    met: dict[str, tuple[str, list[str]]] = {}
    for seen in iter_matching(audit, Filters(), tenant, labels, now, budget=budget):
        scanned += 1
        policy, rule_ids = str(seen.get("policy")), _rule_ids(seen)
        for rule_id in rule_ids:
            _stat(stats, policy, rule_id).hits += 1
        decision_id = str(seen.get("id"))
        if decision_id in labels.by_decision:
            met[decision_id] = (policy, rule_ids)
    missed: Counter[str] = Counter()
    labelled = 0
    for decision_id, reviews in labels.by_decision.items():
        found = met.get(decision_id) or _decision(audit, decision_id, tenant)
        if found is None:
            continue
        policy, rule_ids = found
        labelled += 1
        label = str(reviews[0].get("label"))
        if not rule_ids and label == "false_negative":
            missed[policy] += 1
        for rule_id in rule_ids:
            stat = _stat(stats, policy, rule_id)
            if label in ("correct", "false_positive", "false_negative"):
                setattr(stat, label, getattr(stat, label) + 1)
    ordered = sorted(
        stats.values(),
        key=lambda s: (-(s.fp_rate or 0.0), -s.false_positive, -s.hits, s.policy, s.rule_id),
    )
    return RulesReport(ordered, dict(missed), scanned, scanned >= budget, labelled)


def _rule_ids(record: Mapping[str, Any]) -> list[str]:
    hits = record.get("hits")
    found = [h for h in hits if isinstance(h, dict)] if isinstance(hits, list) else []
    return list(dict.fromkeys(str(h.get("rule_id")) for h in found if h.get("rule_id")))


def _stat(stats: dict[tuple[str, str], RuleStat], policy: str, rule_id: str) -> RuleStat:
    """The figures of `rule_id` in `policy`."""
    key = (policy, rule_id)
    if key not in stats:
        stats[key] = RuleStat(*key)
    return stats[key]


def _decision(
    audit: AuditLog, decision_id: str, tenant: str | None
) -> tuple[str, list[str]] | None:
    """The policy and rule ids of a decision `tenant` may read, or None."""
    try:
        record = audit.get(decision_id).record
    except RecordNotFound:
        return None
    if record.get("schema_version") != DECISION:
        return None
    if tenant is not None and record.get("tenant") != tenant:
        return None
    return str(record.get("policy")), _rule_ids(record)
