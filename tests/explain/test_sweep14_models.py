"""Sweep 14: explanations of models an ML engineer brings (scikit-learn, numpy from pandas)."""

from __future__ import annotations

import numpy as np
import pytest

import explain

pd = pytest.importorskip("pandas")
ensemble = pytest.importorskip("sklearn.ensemble")


def _three_classes() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 4))
    y = np.digitize(X[:, 0] + 0.5 * X[:, 1], [-0.5, 0.5])  # classes 0, 1, 2
    return X, y


def test_a_three_class_gradient_boosting_classifier_is_explained_against_a_background() -> None:
    """shap's TreeExplainer reads only binary GradientBoostingClassifiers: explain.shap(m, bg)
    raised "shap.TreeExplainer cannot read ...: only supported for binary classification"."""
    X, y = _three_classes()
    model = ensemble.GradientBoostingClassifier(n_estimators=15, random_state=0).fit(X, y)
    ex = explain.shap(model, X[:20])
    base = model.decision_function(X[:20]).mean(0)  # the margins each class's trees add up
    for a in ex.explain_rows(X[:3]):
        assert a.check_ok and a.estimate == "exact"
        assert a.base_value == pytest.approx(base[a.target])
    a = ex.explain(X[0], target=2)
    assert a.output == pytest.approx(model.decision_function(X[:1])[0, 2])
    assert sum(a.values) == pytest.approx(a.output - a.base_value)
    ranked = explain.explain_ranking(model, X[:5])
    assert all(r.check_ok for r in ranked)


@pytest.mark.parametrize("algorithm", ["auto", "tree", "tree_path_dependent"])
def test_a_three_class_gradient_boosting_classifier_without_background_says_what_to_pass(
    algorithm: str,
) -> None:
    X, y = _three_classes()
    model = ensemble.GradientBoostingClassifier(n_estimators=5, random_state=0).fit(X, y)
    with pytest.raises(explain.ExplanationTypeError) as info:
        explain.shap(model, algorithm=algorithm)  # type: ignore[arg-type]
    message = str(info.value)
    assert "GradientBoostingClassifier of 3 classes" in message
    assert "explain.shap(model, background)" in message


def test_a_binary_gradient_boosting_classifier_still_uses_treeshap() -> None:
    X, y = _three_classes()
    model = ensemble.GradientBoostingClassifier(n_estimators=5, random_state=0).fit(X, y > 0)
    assert explain.shap(model).method == "tree_shap_path_dependent"
    assert explain.shap(model, X[:10]).method == "tree_shap_interventional"
