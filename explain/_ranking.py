"""Ranking explanations: per-item attributions against the query's candidates, and pairs."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np

from explain._errors import ExplanationInputError
from explain._models import Attribution, check_passes
from explain._shap import (
    DEFAULT_TOLERANCE,
    Algorithm,
    ShapExplainer,
    interventional_ok,
    is_linear_model,
    is_tree_model,
    model_categories,
    model_names,
    path_dependent_ok,
    resolve_names,
    shap,
    warm_up,
)
from explain._validate import (
    FeatureInput,
    as_matrix,
    as_row,
    check_unique_labels,
    labels_of,
    missing_as_none,
)

PairMethod = Literal["baseline", "difference"]

_MODEL_PARTS = ("booster_", "_Booster", "estimators_", "tree_", "coef_", "intercept_")


class RankingExplainer:
    """Explains a ranking model's scores: why an item scored high among its candidates,
    and why one item ranked above another."""

    def __init__(
        self,
        model: Any,
        feature_names: Sequence[str] | None = None,
        *,
        algorithm: Algorithm = "auto",
        max_background: int = 100,
        max_evals: int | None = None,
        tolerance: float = DEFAULT_TOLERANCE,
        seed: int = 0,
    ) -> None:
        self.model = model
        self._names = None if feature_names is None else list(feature_names)
        self._options: dict[str, Any] = {
            "algorithm": algorithm,
            "max_background": max_background,
            "max_evals": max_evals,
            "tolerance": tolerance,
            "seed": seed,
        }
        self._template: ShapExplainer | None = None
        if (
            is_tree_model(model)
            and interventional_ok(model)
            and path_dependent_ok(model)
            and algorithm in ("auto", "tree")
        ):
            # Built once: converting a tree ensemble is the slow part; backgrounds swap in.
            self._template = shap(model, None, feature_names, "tree", **self._shap_options())
            self._names = self._template.feature_names
        elif not is_linear_model(model) and algorithm in ("auto", "exact", "permutation"):
            # Each query builds its own SHAP explainer: shap's numba kernels compile here
            # (once per process, seconds), not inside the first decision explained.
            for name in ("exact", "permutation") if algorithm == "auto" else (algorithm,):
                warm_up(name)
        self.fingerprint = model_fingerprint(model)

    @property
    def _categories(self) -> Any:
        """The model's categories as they are now: a Pipeline or HistGradientBoosting model
        refit in place keeps its fingerprint (and this cached explainer), and categories
        read once would code a refit model's text values as its old categories' codes."""
        if self._template is not None:
            return self._template.categories
        return model_categories(self.model)

    def _shap_options(self) -> dict[str, Any]:
        return {k: v for k, v in self._options.items() if k != "algorithm"}

    def explainer(self, background: Any) -> ShapExplainer:
        """Return a SHAP explainer of the model against `background` rows."""
        return self._explainer(background, self._names)

    def _explainer(self, background: Any, names: Sequence[str] | None) -> ShapExplainer:
        # `names` are this call's: a model that names no features (a scoring function) is
        # labelled by each query's own columns, not by whatever the first query had.
        if self._template is not None:
            return self._template.with_background(background)
        return shap(self.model, background, names, **self._options)

    def explain_items(self, items: Any, target: int | None = None) -> list[Attribution]:
        """Attribute each candidate's score against the query's candidates as background.

        Each item's values sum to its score minus the mean score of the candidates.
        """
        names = self._names or resolve_names(self.model, items, None, "items")
        rows = as_matrix(
            items, names, "items", allow_nan=is_tree_model(self.model), categories=self._categories
        )
        return self._explainer(rows, names).explain_rows(rows, target)

    def explain_pair(
        self,
        a: FeatureInput,
        b: FeatureInput,
        *,
        method: PairMethod = "baseline",
        background: Any = None,
        target: int | None = None,
    ) -> Attribution:
        """Explain why `a` scored above (or below) `b`; the values sum to f(a) - f(b).

        `method="baseline"` gives the exact Shapley values of f(a) against `b` as the only
        reference (features equal in a and b get zero); `"difference"` subtracts per-item
        SHAP values computed against one shared `background` (default: the model's
        training distribution for trees, else the pair itself).
        """
        start = time.perf_counter()
        if method not in ("baseline", "difference"):
            raise ExplanationInputError(
                f"unknown pair method {method!r}; expected one of baseline, difference"
            )
        names = self._names or resolve_names(self.model, _as_2d(a), _own_labels(self.model, a), "a")
        missing_ok = is_tree_model(self.model)
        row_a = as_row(a, names, "a", allow_nan=missing_ok, categories=self._categories)
        row_b = as_row(b, names, "b", allow_nan=missing_ok, categories=self._categories)
        if method == "baseline":
            explained = self._explainer(row_b[None, :], names).explain(row_a, target)
            return _pair(explained, explained.values, explained.base_value, row_b, start)
        if background is not None:
            shared = self._explainer(background, names)
        elif self._template is not None:
            shared = self._template
        else:
            shared = self._explainer(np.vstack([row_a, row_b]), names)
        att_a = shared.explain(row_a, target)
        att_b = shared.explain(row_b, att_a.target)
        values = [va - vb for va, vb in zip(att_a.values, att_b.values, strict=True)]
        if att_b.estimate != att_a.estimate:  # the difference is only as exact as both parts
            att_a = att_a.model_copy(update={"estimate": "sampled"})
        return _pair(att_a, values, att_b.output, row_b, start, suffix="difference")


def _own_labels(model: Any, x: Any) -> list[str] | None:
    """A row's labels (a mapping's keys, a Series' index) as the feature names, when the
    model names none of its own and every label is a string; else None."""
    labels = list(x) if isinstance(x, Mapping) else labels_of(x)
    if labels is None or model_names(model) is not None:
        return None
    if not isinstance(x, Mapping):
        check_unique_labels(x, "a")
    return labels if all(isinstance(c, str) for c in labels) else None


def _as_2d(x: Any) -> Any:
    arr = np.asarray(x) if not isinstance(x, dict) else np.asarray(list(x.values()))
    return arr[None, :] if arr.ndim == 1 else arr


def _pair(
    att: Attribution,
    values: Sequence[float],
    base: float,
    row_b: Any,
    start: float,
    suffix: str = "baseline",
) -> Attribution:
    gap = abs(float(np.sum(values)) + base - att.output)
    return att.model_copy(
        update={
            "method": f"pairwise_{suffix}:{att.method}",
            "values": list(values),
            "base_value": base,
            "baseline": missing_as_none(row_b),
            "check_value": gap,
            "check_ok": check_passes(gap, att.tolerance, att.output),
            "compute_ms": (time.perf_counter() - start) * 1e3,
        }
    )


def model_fingerprint(model: Any) -> tuple[int, ...]:
    """Identify a fitted model's parts, so a refit model is not served a stale explainer."""
    return (id(model), *(id(getattr(model, part, None)) for part in _MODEL_PARTS))


# Functional calls reuse explainers of recently seen models: building one converts the
# whole ensemble. Entries hold their model, so fingerprints cannot be recycled while cached.
_CACHE: OrderedDict[tuple[int, ...], RankingExplainer] = OrderedDict()
_CACHE_SIZE = 8
_CACHE_LOCK = threading.Lock()


def ranking(
    model: Any, feature_names: Sequence[str] | None = None, **options: Any
) -> RankingExplainer:
    """Build the ranking explainer of `model` (reused for recent models with default options)."""
    if isinstance(model, RankingExplainer):
        return model
    if feature_names is not None or options:
        return RankingExplainer(model, feature_names, **options)
    key = model_fingerprint(model)
    with _CACHE_LOCK:
        cached = _CACHE.get(key)
        if cached is not None:
            _CACHE.move_to_end(key)
            return cached
    built = RankingExplainer(model)
    with _CACHE_LOCK:
        _CACHE[key] = built
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return built


def explain_ranking(
    model: Any, items: Any, feature_names: Sequence[str] | None = None
) -> list[Attribution]:
    """Attribute each ranked item's score against the query's candidates (`items`)."""
    return ranking(model, feature_names).explain_items(items)


def explain_pair(
    model: Any,
    a: FeatureInput,
    b: FeatureInput,
    feature_names: Sequence[str] | None = None,
    *,
    method: PairMethod = "baseline",
    background: Any = None,
) -> Attribution:
    """Explain why item `a` ranked above item `b`: values sum to f(a) - f(b)."""
    return ranking(model, feature_names).explain_pair(a, b, method=method, background=background)
