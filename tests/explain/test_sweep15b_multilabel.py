"""Sweep 15b: a multi-label scikit-learn classifier (y with 2+ label columns).

Its predict_proba returns one (rows, classes) array per label, and explain.shap failed with
"RandomForestClassifier output has shape (2, 1, 2); expected (1,) or (1, k)". Output j is
now the probability of label j's positive class (classes_[j][1]), checked here against
Shapley values enumerated by brute force; shap's TreeSHAP misreads such forests (its
values summed to 0.5 per output), so without a background the error says to pass one.
A label of more than two classes is refused, naming the label and how to explain it.
"""

from __future__ import annotations

import numpy as np
import pytest

import explain
from tests.explain._shapley import brute_force_shapley

ensemble = pytest.importorskip("sklearn.ensemble")
multioutput = pytest.importorskip("sklearn.multioutput")
linear_model = pytest.importorskip("sklearn.linear_model")


def _data() -> tuple[np.ndarray, np.ndarray]:
    X = np.random.default_rng(3).normal(size=(160, 4))
    labels = np.c_[X[:, 0] > 0, X[:, 1] + X[:, 2] > 0.3, X[:, 3] < 0.5].astype(int)
    return X, labels


def _positive(model: object, X: np.ndarray, j: int) -> np.ndarray:
    return np.asarray(model.predict_proba(X)[j][:, 1])  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "make",
    [
        lambda: ensemble.RandomForestClassifier(n_estimators=8, max_depth=4, random_state=0),
        lambda: ensemble.ExtraTreesClassifier(n_estimators=8, max_depth=4, random_state=0),
        lambda: multioutput.MultiOutputClassifier(linear_model.LogisticRegression()),
    ],
)
def test_each_label_positive_probability_is_explained_exactly(make: object) -> None:
    X, Y = _data()
    model = make().fit(X, Y)  # type: ignore[operator]
    background, x = X[:12], X[100]
    before = X.copy()

    explainer = explain.shap(model, background)
    assert explainer.predict(X[:5]).shape == (5, 3)
    for j in range(3):
        att = explainer.explain(x, target=j)
        f = lambda rows, j=j: _positive(model, rows, j)  # noqa: E731
        phi, base = brute_force_shapley(f, x, background)
        assert att.target == j
        assert att.output == pytest.approx(f(x[None, :])[0])
        assert att.base_value == pytest.approx(base)
        np.testing.assert_allclose(att.values, phi, atol=1e-9)
        assert att.check_ok
    np.testing.assert_array_equal(X, before)


def test_a_multi_label_forest_without_background_says_to_pass_one() -> None:
    X, Y = _data()
    model = ensemble.RandomForestClassifier(n_estimators=4, random_state=0).fit(X, Y)
    with pytest.raises(explain.ExplanationTypeError) as err:
        explain.shap(model)
    text = str(err.value)
    assert "3 labels" in text and "background" in text
    assert "shape" not in text


def test_a_label_of_three_classes_is_refused_by_label() -> None:
    X, Y = _data()
    Y = Y.copy()
    Y[:, 1] += (X[:, 2] > 1).astype(int)  # label 1: classes 0, 1, 2
    model = ensemble.RandomForestClassifier(n_estimators=4, random_state=0).fit(X, Y)
    with pytest.raises(explain.ExplanationError) as err:
        explain.shap(model, X[:10]).explain(X[0])
    text = str(err.value)
    assert "label 1" in text and "3 classes" in text and "predict_proba(X)[1]" in text
    assert "shape" not in text


def test_a_label_constant_in_training_is_refused_as_one_class() -> None:
    X, Y = _data()
    Y = Y.copy()
    Y[:, 2] = 0
    model = ensemble.RandomForestClassifier(n_estimators=4, random_state=0).fit(X, Y)
    with pytest.raises(explain.ExplanationError) as err:
        explain.shap(model, X[:10])
    text = str(err.value)
    assert "label 2 has only 1 class" in text and "1 classes" not in text
