"""Sweep 15b: explain.shap(model) without a background, for a model that needs one.

A caller who named no algorithm was told "algorithm 'exact' needs a background sample
(rows x 4 features)": an algorithm it never chose. The error now names the model and says
that only tree ensembles are explained without a background.
"""

from __future__ import annotations

import numpy as np
import pytest

import explain

pipeline = pytest.importorskip("sklearn.pipeline")
preprocessing = pytest.importorskip("sklearn.preprocessing")
neighbors = pytest.importorskip("sklearn.neighbors")


def test_a_model_needing_a_background_is_named_without_an_algorithm() -> None:
    X = np.random.default_rng(0).normal(size=(40, 4))
    model = pipeline.make_pipeline(
        preprocessing.StandardScaler(), neighbors.KNeighborsRegressor()
    ).fit(X, X[:, 0])
    with pytest.raises(explain.ExplanationInputError) as err:
        explain.shap(model)
    text = str(err.value)
    assert "explain.shap(a Pipeline) needs a background" in text
    assert "only tree ensembles" in text and "algorithm 'exact'" not in text


def test_a_function_is_named_as_one() -> None:
    with pytest.raises(explain.ExplanationInputError) as err:
        explain.shap(lambda rows: rows.sum(axis=1), feature_names=["a", "b"])
    assert "explain.shap(a function) needs a background" in str(err.value)


def test_a_named_algorithm_is_still_named() -> None:
    with pytest.raises(explain.ExplanationInputError) as err:
        explain.shap(lambda rows: rows.sum(axis=1), feature_names=["a", "b"], algorithm="kernel")
    assert "algorithm 'kernel' needs a background" in str(err.value)
