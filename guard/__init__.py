"""A guardrail for AI agents and rankers: check, enforce, explain and record every action."""

from __future__ import annotations

from guard._engine import Guard
from guard._exceptions import (
    ActionBlocked,
    ActionEscalated,
    ActionTooLarge,
    AuditError,
    AuditTampered,
    DependencyMissing,
    EvaluationError,
    ExpressionError,
    GuardError,
    InvalidAction,
    MissingField,
    PiiUnavailable,
    PolicyError,
    PolicyNotFound,
    RecordNotFound,
)
from guard._models import (
    Action,
    Decision,
    DecisionEventV1,
    ItemOutcome,
    PiiFinding,
    PiiReport,
    RankedItem,
    RuleHit,
    ShadowResult,
    Substitution,
    Verdict,
)
from guard.enforce import GuardedAction, GuardedRanking

__version__ = "0.1.0"

__all__ = [
    "Action",
    "ActionBlocked",
    "ActionEscalated",
    "ActionTooLarge",
    "AuditError",
    "AuditTampered",
    "Decision",
    "DecisionEventV1",
    "DependencyMissing",
    "EvaluationError",
    "ExpressionError",
    "Guard",
    "GuardError",
    "GuardedAction",
    "GuardedRanking",
    "InvalidAction",
    "ItemOutcome",
    "MissingField",
    "PiiFinding",
    "PiiReport",
    "PiiUnavailable",
    "PolicyError",
    "PolicyNotFound",
    "RankedItem",
    "RecordNotFound",
    "RuleHit",
    "ShadowResult",
    "Substitution",
    "Verdict",
    "__version__",
]
