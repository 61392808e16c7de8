"""Result models: a feature attribution, or the reason an explanation is unavailable."""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from explain._errors import missing_dependency
from explain._rng import isolated_rng
from explain._validate import check_positive

CheckName = Literal["additivity_gap", "convergence_delta"]
# exact: the method's values computed exactly (TreeSHAP, linear SHAP, exact SHAP, KernelSHAP
# over every coalition, DeepLift); sampled: a Monte Carlo estimate (permutation or
# KernelSHAP on a sample of coalitions, GradientSHAP); approximate: a deterministic numerical
# approximation (Integrated Gradients' quadrature). None on records written before the field.
Estimate = Literal["exact", "sampled", "approximate"]


class Attribution(BaseModel):
    """How much each input feature moved one model output away from a base value."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["attribution"] = "attribution"
    method: str
    feature_names: list[str]
    values: list[float]
    base_value: float
    inputs: list[float | None]  # None: a missing value (NaN), which tree models read
    output: float
    target: int | None = None
    versus: int | None = None
    baseline: list[float | None] | None = None
    check_name: CheckName
    check_value: float
    tolerance: float
    check_ok: bool
    compute_ms: float = Field(ge=0.0)
    estimate: Estimate | None = None
    # Why the check failed, where the explainer can tell (e.g. an input with no gradient).
    note: str | None = None

    @model_validator(mode="after")
    def _same_lengths(self) -> Attribution:
        n = len(self.feature_names)
        if len(self.values) != n or len(self.inputs) != n:
            raise ValueError(
                f"feature_names, values and inputs differ in length: "
                f"{n}, {len(self.values)}, {len(self.inputs)}"
            )
        if self.baseline is not None and len(self.baseline) != n:
            raise ValueError(f"baseline has {len(self.baseline)} values, expected {n}")
        return self

    def top(self, k: int = 5) -> list[tuple[str, float]]:
        """Return the `k` features with the largest absolute attribution, largest first."""
        check_positive("k", k)
        pairs = sorted(zip(self.feature_names, self.values, strict=True), key=lambda p: -abs(p[1]))
        return pairs[:k]

    def as_dict(self) -> dict[str, float]:
        """Return feature -> attribution, the mapping policy rules read as `attribution`."""
        return dict(zip(self.feature_names, self.values, strict=True))

    def to_shap(self) -> Any:
        """Return a one-row `shap.Explanation` so `shap.plots.waterfall(...)` etc. work."""
        try:
            with isolated_rng():  # importing shap draws from Python's random
                import shap
        except ImportError as exc:
            raise missing_dependency("shap", "Attribution.to_shap()") from exc
        import numpy as np

        return shap.Explanation(
            values=np.asarray(self.values, dtype=float),
            base_values=self.base_value,
            data=np.asarray(self.inputs, dtype=float),
            feature_names=list(self.feature_names),
        )


def check_passes(gap: float, tolerance: float, scale: float) -> bool:
    """Accept a gap up to `tolerance` times max(1, |scale|); a NaN gap never passes."""
    return math.isfinite(gap) and gap <= tolerance * max(1.0, abs(scale))


class ExplanationUnavailable(BaseModel):
    """Stands in for an attribution that failed, so the decision keeps the reason."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["unavailable"] = "unavailable"
    reason: str
    error_code: str
    error_type: str

    def as_dict(self) -> dict[str, float]:
        """Return an empty mapping: rules reading a feature see it as missing."""
        return {}

    def __str__(self) -> str:
        return f"explanation unavailable: {self.reason}"
