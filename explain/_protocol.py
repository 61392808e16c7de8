"""The explainer extension point and a wrapper that never lets an explanation fail a decision."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from explain._errors import ExplanationTypeError
from explain._models import Attribution, ExplanationUnavailable
from explain._validate import FeatureInput
from guard._exceptions import GuardError


@runtime_checkable
class Explainer(Protocol):
    """Anything that attributes one model output to the input's features."""

    def explain(self, x: FeatureInput, target: int | None = None) -> Attribution:
        """Attribute the model's output (for `target`, when it has several) at input `x`."""
        ...


def safe_explain(
    explainer: Explainer, x: FeatureInput, target: int | None = None, **options: Any
) -> Attribution | ExplanationUnavailable:
    """Explain `x`, or return why it could not be explained, without raising."""
    try:
        result = explainer.explain(x, target, **options)
    except Exception as exc:  # noqa: BLE001 - an explanation must never cost the decision
        code = exc.code if isinstance(exc, GuardError) else "explanation_error"
        return ExplanationUnavailable(
            reason=f"{type(exc).__name__}: {exc}", error_code=code, error_type=type(exc).__name__
        )
    if isinstance(result, Attribution | ExplanationUnavailable):
        return result
    # A hand-written explainer's dict or None would fail the decision that records it.
    return ExplanationUnavailable(
        reason=f"{type(explainer).__name__}.explain returned {type(result).__name__}; "
        "expected an explain.Attribution",
        error_code=ExplanationTypeError.code,
        error_type=ExplanationTypeError.__name__,
    )
