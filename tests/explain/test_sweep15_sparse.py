"""Sweep 15: scipy sparse matrices (a text model's TF-IDF features) as rows and background.

A model fitted on a sparse matrix was explained from a sparse background or row with
"background must hold numbers (bool, int or float), got dtype 'object'": nothing said that
the matrix was sparse, nor what to do. Sparse rows are now read as the dense rows they hold.
"""

from __future__ import annotations

import numpy as np
import pytest

import explain

from ._shapley import brute_force_shapley

sp = pytest.importorskip("scipy.sparse")
linear_model = pytest.importorskip("sklearn.linear_model")
ensemble = pytest.importorskip("sklearn.ensemble")


def _data() -> tuple[object, np.ndarray]:
    X = sp.random(60, 5, density=0.4, random_state=0, format="csr")
    y = (X.sum(axis=1).A1 > 0.8).astype(int)
    return X, y


@pytest.mark.parametrize("kind", ["csr_matrix", "csr_array", "csc_matrix"])
def test_a_linear_model_on_sparse_features_is_explained_from_sparse_rows(kind: str) -> None:
    X, y = _data()
    model = linear_model.LogisticRegression().fit(X, y)
    as_kind = {"csr_matrix": sp.csr_matrix, "csr_array": sp.csr_array, "csc_matrix": sp.csc_matrix}
    background, row = as_kind[kind](X[:8]), as_kind[kind](X[3])

    att = explain.shap(model, background).explain(row)

    dense_bg, dense_x = X[:8].toarray(), X[3].toarray()[0]
    assert att.inputs == pytest.approx(dense_x.tolist())
    expected = model.coef_[0] * (dense_x - dense_bg.mean(axis=0))
    assert att.values == pytest.approx(expected.tolist(), abs=1e-12)
    assert att.output == pytest.approx(model.decision_function(X[3])[0], abs=1e-12)


def test_a_forest_on_sparse_features_matches_brute_force_shapley() -> None:
    X, y = _data()
    model = ensemble.RandomForestClassifier(n_estimators=5, random_state=0).fit(X, y)
    explainer = explain.shap(model, X[:6])

    rows = explainer.explain_rows(X[10:13])

    for i, att in zip(range(10, 13), rows, strict=True):
        x, k = X[i].toarray()[0], att.target
        truth, _ = brute_force_shapley(
            lambda A, k=k: model.predict_proba(A)[:, k], x, X[:6].toarray()
        )
        assert att.values == pytest.approx(truth.tolist(), abs=1e-7)
