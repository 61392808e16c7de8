"""The one exceptions module: every error the guard raises derives from GuardError."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from guard._models import Decision


class GuardError(Exception):
    """Base class for every error raised by the guard."""

    code = "guard_error"


class PolicyError(GuardError):
    """A policy pack could not be loaded: the message names file, line and column."""

    code = "policy_invalid"

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        column: int | None = None,
        text: str | None = None,
    ) -> None:
        self.file, self.line, self.column, self.text = file, line, column, text
        where = file or "<policy>"
        if line is not None:
            where += f":{line}"
            if column is not None:
                where += f":{column}"
        detail = f" in {text!r}" if text else ""
        # An error about no file in particular (no pack named so) names no place.
        place = f" ({where})" if file is not None or line is not None else ""
        super().__init__(f"{message}{detail}{place}")
        self.reason = message


class PolicyNotFound(PolicyError):
    """No pack of that name or path exists."""

    code = "policy_not_found"


class ExpressionError(PolicyError):
    """A `when` condition uses syntax or names outside the policy language."""

    code = "expression_invalid"


class EvaluationError(GuardError):
    """A condition could not be evaluated for this input (missing field, bad type, ...)."""

    code = "evaluation_error"


class MissingField(EvaluationError):
    """A dotted path named a field that the input does not have."""

    code = "missing_field"


class PiiUnavailable(EvaluationError):
    """A rule asked for PII findings but no PII detector ran for this decision."""

    code = "pii_unavailable"


class RateStoreUnavailable(EvaluationError):
    """The shared rate store could not count a hit, so `rate()` has no answer."""

    code = "rate_store_unavailable"


class InvalidAction(GuardError, TypeError):
    """The action (or context, or item) is not a JSON-like mapping the guard accepts."""

    code = "invalid_action"


class ActionTooLarge(InvalidAction):
    """The action exceeds the size or nesting limits."""

    code = "action_too_large"


class AuditError(GuardError):
    """The audit log could not be opened, written or read."""

    code = "audit_error"


class AuditTampered(AuditError):
    """Verification found a record whose hash does not match the log."""

    code = "audit_tampered"

    def __init__(self, message: str, *, index: int) -> None:
        super().__init__(message)
        self.index = index

    def __reduce__(self) -> Any:  # pickled (for another process) with its keyword argument
        return _rebuild, (type(self), self.args, {"index": self.index}), self.__dict__


class RecordNotFound(AuditError):
    """No audit record has that id or index."""

    code = "record_not_found"


class DependencyMissing(GuardError, ImportError):
    """An optional dependency is not installed; the message says which extra brings it."""

    code = "dependency_missing"


class ActionBlocked(GuardError):
    """The policy denied the action and no allowed alternative existed; `decision_id` names
    the recorded decision."""

    code = "action_blocked"

    def __init__(self, decision: Decision, message: str | None = None) -> None:
        self.decision = decision
        self.decision_id = decision.id
        super().__init__(message or _describe(decision, "blocked"))

    def __reduce__(self) -> Any:  # pickled (for another process) with its decision
        return type(self), (self.decision, str(self)), self.__dict__


class ActionEscalated(GuardError):
    """The policy holds the action for a human; `decision_id` names the held decision."""

    code = "action_escalated"

    def __init__(self, decision: Decision, message: str | None = None) -> None:
        self.decision = decision
        self.decision_id = decision.id
        super().__init__(message or _describe(decision, "escalated for review"))

    def __reduce__(self) -> Any:  # pickled (for another process) with its decision
        return type(self), (self.decision, str(self)), self.__dict__


def _rebuild(cls: type[Exception], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Exception:
    return cls(*args, **kwargs)


def _describe(decision: Any, what: str) -> str:
    """Name the rules behind the verdict: those whose effect is the decision's verdict;
    then, when alternatives were tried, what became of them (all denied, say)."""
    rules = ", ".join(h.rule_id for h in decision.hits if h.effect == decision.verdict)
    tried = f": {decision.substitution.reason}" if decision.substitution is not None else ""
    return f"action {what} by {rules or 'default verdict'}{tried} (decision {decision.id})"
