"""Sweep 15b: a scikit-learn classifier that only predicts labels (hard voting).

A VotingClassifier(voting="hard") has neither predict_proba nor decision_function, so
explain.shap explained its predict: "output is not numeric" for text classes, and for
classes 0, 1, 2 Shapley values of the class number, adding up to the label as if it were
a score (check_ok True). It is now refused saying why and what to explain instead; with
voting="soft" its probabilities are explained (brute-force Shapley values here).
"""

from __future__ import annotations

import numpy as np
import pytest

import explain
from tests.explain._shapley import brute_force_shapley

ensemble = pytest.importorskip("sklearn.ensemble")
linear_model = pytest.importorskip("sklearn.linear_model")
tree = pytest.importorskip("sklearn.tree")


def _voting(voting: str, labels: np.ndarray, X: np.ndarray) -> object:
    members = [
        ("lr", linear_model.LogisticRegression()),
        ("tree", tree.DecisionTreeClassifier(max_depth=3, random_state=0)),
    ]
    return ensemble.VotingClassifier(members, voting=voting).fit(X, labels)


def _data() -> tuple[np.ndarray, np.ndarray]:
    X = np.random.default_rng(0).normal(size=(150, 3))
    return X, np.digitize(X[:, 0] + X[:, 1], [-0.5, 0.5])  # classes 0, 1, 2


@pytest.mark.parametrize("text", [False, True])
def test_a_hard_voting_classifier_is_refused(text: bool) -> None:
    X, y = _data()
    labels = np.array(["low", "mid", "high"])[y] if text else y
    model = _voting("hard", labels, X)
    with pytest.raises(explain.ExplanationTypeError) as err:
        explain.shap(model, X[:5])
    message = str(err.value)
    assert "class labels" in message and "voting='soft'" in message
    assert "not numeric" not in message


def test_a_soft_voting_classifier_is_explained_by_its_probabilities() -> None:
    X, y = _data()
    model = _voting("soft", y, X)
    background, x = X[:6], X[40]
    explainer = explain.shap(model, background)
    for k in range(3):
        att = explainer.explain(x, target=k)
        phi, _ = brute_force_shapley(
            lambda rows, k=k: model.predict_proba(rows)[:, k],  # type: ignore[attr-defined]
            x,
            background,
        )
        np.testing.assert_allclose(att.values, phi, atol=1e-9)
        assert att.check_ok
