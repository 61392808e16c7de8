"""Sweep 15b: a HistGradientBoostingRegressor with a log link (loss="poisson" or "gamma").

Its trees add up the log of the prediction (predict is exp of their sum), as a LightGBM
Poisson model's do. Without a background, TreeSHAP's values added up to that log while
the attribution's output was predict(x): check_ok False with a gap of ~1.1 on every row.
Its output is now the log of the prediction, with a background too (brute-force Shapley
values of log(predict) here), as LightGBM's raw score is.
"""

from __future__ import annotations

import numpy as np
import pytest

import explain
from tests.explain._shapley import brute_force_shapley

ensemble = pytest.importorskip("sklearn.ensemble")


def _model(loss: str) -> tuple[object, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4))
    X[rng.random(X.shape) < 0.1] = np.nan  # missing values, which it reads
    y = np.exp(np.nan_to_num(X[:, 0]) / 2 + np.nan_to_num(X[:, 1]) / 3) + rng.random(300)
    model = ensemble.HistGradientBoostingRegressor(loss=loss, max_iter=20, random_state=0)
    return model.fit(X, y), X


@pytest.mark.parametrize("loss", ["poisson", "gamma"])
def test_treeshap_explains_the_log_of_the_prediction(loss: str) -> None:
    model, X = _model(loss)
    explainer = explain.shap(model)
    for i in (10, 11, 12):
        att = explainer.explain(X[i])
        log_pred = float(np.log(model.predict(X[i : i + 1]))[0])  # type: ignore[attr-defined]
        assert att.output == pytest.approx(log_pred, abs=1e-12)
        assert sum(att.values) + att.base_value == pytest.approx(log_pred, abs=1e-9)
        assert att.check_ok


@pytest.mark.parametrize("loss", ["poisson", "gamma"])
def test_with_a_background_the_same_output_is_explained(loss: str) -> None:
    model, X = _model(loss)
    background, x = X[:8], X[20]
    att = explain.shap(model, background).explain(x)
    phi, base = brute_force_shapley(
        lambda rows: np.log(model.predict(rows)),  # type: ignore[attr-defined]
        x,
        background,
    )
    np.testing.assert_allclose(att.values, phi, atol=1e-9)
    assert att.base_value == pytest.approx(base)
    assert att.check_ok
