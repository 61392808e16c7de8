"""Sweep 15b: scikit-learn GradientBoosting models shap's TreeSHAP misreads.

- init="zero" or an estimator as init: explain.shap failed even with a background,
  "shap.TreeExplainer cannot read GradientBoostingClassifier: Unsupported init model
  type". With a background they are now explained by model-agnostic SHAP of the output
  TreeSHAP would explain (decision_function / predict); without one the error says to pass
  one and why.
- loss="exponential": path-dependent TreeSHAP (no background) read the base value wrongly,
  check_ok False with a gap of 0.55 on every row. It is refused without a background and
  explained by interventional TreeSHAP with one (explain_ranking too).
Ground truth: Shapley values enumerated by brute force.
"""

from __future__ import annotations

import numpy as np
import pytest

import explain
from tests.explain._shapley import brute_force_shapley

ensemble = pytest.importorskip("sklearn.ensemble")
tree = pytest.importorskip("sklearn.tree")


def _data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4))
    return X, (X[:, 0] + rng.normal(size=300) > 0.5).astype(int)


def _models() -> dict[str, tuple[object, str]]:
    X, y = _data()
    gbc, gbr = ensemble.GradientBoostingClassifier, ensemble.GradientBoostingRegressor
    return {
        "zero": (gbc(n_estimators=10, init="zero").fit(X, y), "'zero'"),
        "tree": (
            gbc(n_estimators=10, init=tree.DecisionTreeClassifier(max_depth=1)).fit(X, y),
            "DecisionTreeClassifier",
        ),
        "regressor": (gbr(n_estimators=10, init="zero").fit(X, X[:, 1] * 2), "'zero'"),
    }


def _output(model: object) -> object:
    if hasattr(model, "decision_function"):
        return model.decision_function
    return model.predict  # type: ignore[attr-defined]


@pytest.mark.parametrize("which", ["zero", "tree", "regressor"])
def test_a_gradient_boosting_model_with_another_init(which: str) -> None:
    model, kind = _models()[which]
    X, _ = _data()
    with pytest.raises(explain.ExplanationTypeError) as err:
        explain.shap(model)
    assert f"init={kind}" in str(err.value) and "background" in str(err.value)

    background, x = X[:8], X[50]
    att = explain.shap(model, background).explain(x)
    phi, base = brute_force_shapley(_output(model), x, background)  # type: ignore[arg-type]
    np.testing.assert_allclose(att.values, phi, atol=1e-9)
    assert att.base_value == pytest.approx(base)
    assert att.check_ok


def test_an_exponential_loss_classifier_needs_a_background() -> None:
    X, y = _data()
    model = ensemble.GradientBoostingClassifier(n_estimators=10, loss="exponential").fit(X, y)
    with pytest.raises(explain.ExplanationTypeError) as err:
        explain.shap(model)
    assert "exponential" in str(err.value) and "background" in str(err.value)

    background, x = X[:8], X[50]
    att = explain.shap(model, background).explain(x)
    phi, base = brute_force_shapley(model.decision_function, x, background)
    np.testing.assert_allclose(att.values, phi, atol=1e-6)
    assert att.check_ok
    ranked = explain.explain_ranking(model, X[:6])
    assert all(a.check_ok for a in ranked)
