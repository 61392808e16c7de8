"""Per-rule review figures: how often each rule fires and how often reviewers call it wrong.

A label judges a whole decision; it is counted for every rule that hit that decision.
The false-positive rate of a rule is false_positive / (correct + false_positive) over
the labelled decisions it hit. A false negative on a decision no rule hit is a miss of
the policy, counted per policy.
"""

from __future__ import annotations

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
    for seen in iter_matching(audit, Filters(), tenant, labels, now, budget=budget):
        scanned += 1
        for rule_id in _rule_ids(seen):
            _stat(stats, seen, rule_id).hits += 1
    missed: Counter[str] = Counter()
    labelled = 0
    for decision_id, reviews in labels.by_decision.items():
        record = _decision(audit, decision_id, tenant)
        if record is None:
            continue
        labelled += 1
        label = str(reviews[0].get("label"))
        rule_ids = _rule_ids(record)
        if not rule_ids and label == "false_negative":
            missed[str(record.get("policy"))] += 1
        for rule_id in rule_ids:
            stat = _stat(stats, record, rule_id)
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


def _stat(
    stats: dict[tuple[str, str], RuleStat], record: Mapping[str, Any], rule_id: str
) -> RuleStat:
    key = (str(record.get("policy")), rule_id)
    if key not in stats:
        stats[key] = RuleStat(*key)
    return stats[key]


def _decision(audit: AuditLog, decision_id: str, tenant: str | None) -> dict[str, Any] | None:
    try:
        record = audit.get(decision_id).record
    except RecordNotFound:
        return None
    if record.get("schema_version") != DECISION:
        return None
    return record if tenant is None or record.get("tenant") == tenant else None
