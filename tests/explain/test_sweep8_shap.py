"""SHAP: LightGBM's own reading of missing values and zeros, one explainer used from several
threads, and arguments of odd types; values checked against brute-force Shapley values."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import explain
from explain import ExplanationInputError
from tests.explain._shapley import brute_force_shapley

lgb = pytest.importorskip("lightgbm")
pytest.importorskip("shap")


def _data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(300, 4))
    X[rng.random(300) < 0.3, 1] = 0.0
    return X, X[:, 0] + X[:, 1] * X[:, 2] + 3.0 * (X[:, 1] == 0)


def _raw(model):
    return lambda rows: model.booster_.predict(rows, raw_score=True)


def _models() -> dict[str, object]:
    X, y = _data()
    with_nan = X.copy()
    with_nan[::5, 0] = np.nan
    kw = {"n_estimators": 20, "verbose": -1}
    return {
        # trained without missing values: LightGBM reads NaN as 0.0 (missing type None)
        "no-missing": lgb.LGBMRegressor(**kw).fit(X, y),
        # trained with NaN: NaN takes the learned default branch, as shap assumes
        "nan-missing": lgb.LGBMRegressor(**kw).fit(with_nan, y),
        # zero_as_missing: LightGBM sends 0.0 (and NaN) down the default branch
        "zero-missing": lgb.LGBMRegressor(zero_as_missing=True, **kw).fit(X, y),
    }


MODELS = _models()


def _rows() -> list:
    X, _ = _data()
    background = X[:12].copy()
    x = X[20].copy()
    nan_x, zero_x = x.copy(), x.copy()
    nan_x[[0, 1]] = np.nan
    zero_x[[1, 2]] = 0.0
    nan_bg = background.copy()
    nan_bg[:4, 0] = np.nan
    return [
        pytest.param(nan_x, background, id="nan-in-x"),
        pytest.param(x, nan_bg, id="nan-in-background"),
        pytest.param(zero_x, background, id="zeros-in-x"),
        pytest.param(x, background, id="zeros-in-background"),  # column 1 has zeros
    ]


@pytest.mark.parametrize("name", list(MODELS))
@pytest.mark.parametrize(("x", "background"), _rows())
def test_interventional_tree_shap_reads_missing_values_as_lightgbm_does(
    name, x, background
) -> None:
    model = MODELS[name]
    a = explain.shap(model, background).explain(x)
    assert a.method == "tree_shap_interventional"
    phi, base = brute_force_shapley(_raw(model), x, background)
    assert a.check_ok  # was False with gaps up to 2.6 for no-missing and zero-missing
    np.testing.assert_allclose(a.values, phi, atol=1e-6)
    assert a.base_value == pytest.approx(base, abs=1e-9)
    assert a.inputs == [None if np.isnan(v) else v for v in x]  # the caller's row, unchanged


def test_ranking_items_with_missing_values_are_exact() -> None:
    X, y = _data(1)
    ranker = lgb.LGBMRanker(n_estimators=20, verbose=-1, min_child_samples=5)
    ranker.fit(X, (y > 0).astype(int) + (y > 1), group=[30] * 10)
    items = X[:6].copy()
    items[2, 0] = np.nan
    for i, a in enumerate(explain.explain_ranking(ranker, items)):
        phi, _ = brute_force_shapley(_raw(ranker), items[i], items)
        assert a.check_ok
        np.testing.assert_allclose(a.values, phi, atol=1e-6)
    pair = explain.explain_pair(ranker, items[2], items[3])
    assert pair.check_ok and pair.check_value < 1e-6


def _threaded(explainer, x, n_threads: int = 3, repeats: int = 6) -> tuple[list, list]:
    expected = explainer.explain(x).values
    errors: list[str] = []
    wrong: list[list[float]] = []

    def work() -> None:
        for _ in range(repeats):
            try:
                values = explainer.explain(x).values
            except Exception as exc:  # noqa: BLE001 - collected and asserted below
                errors.append(repr(exc))
                continue
            if not np.allclose(values, expected):
                wrong.append(values)

    threads = [threading.Thread(target=work) for _ in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors, wrong


def _f(Z: np.ndarray) -> np.ndarray:
    return Z[:, 0] * Z[:, 1] + np.sin(Z[:, 2]) * Z[:, 3] + Z[:, 4:].prod(axis=1)


@pytest.mark.parametrize(
    "options",
    [
        pytest.param({}, id="permutation"),  # 12 features: seeded permutation sampling
        pytest.param({"algorithm": "kernel", "max_evals": 200}, id="kernel"),
    ],
)
def test_one_explainer_from_several_threads_gives_its_seeded_values(options) -> None:
    background = np.random.default_rng(0).normal(size=(30, 12))
    ex = explain.shap(_f, background, **options)
    errors, wrong = _threaded(ex, np.full(12, 0.7))
    # Kernel SHAP raised IndexError (its explainer's per-call state was shared) and both
    # interleaved draws from numpy's global generator, each thread re-seeding it.
    assert errors == [] and wrong == []


@pytest.mark.parametrize(
    ("options", "needle"),
    [
        pytest.param({"max_background": 2.5}, "max_background must be a positive int", id="f"),
        pytest.param({"max_background": True}, "max_background must be a positive int", id="b"),
        pytest.param({"seed": "a"}, "seed must be an int", id="seed-str"),
        pytest.param({"seed": -1}, "seed must be an int >= 0", id="seed-negative"),
    ],
)
def test_options_of_the_wrong_type_are_refused_when_built(options, needle) -> None:
    background = np.zeros((5, 3))
    with pytest.raises(ExplanationInputError, match=needle):
        explain.shap(lambda Z: Z.sum(axis=1), background, **options)


def test_a_model_without_features_is_refused_when_built() -> None:
    with pytest.raises(ExplanationInputError, match="no features"):
        explain.shap(lambda Z: np.ones(len(Z)), np.zeros((5, 0)))
    with pytest.raises(ExplanationInputError, match="no features"):
        explain.shap(lambda Z: np.ones(len(Z)), np.zeros((5, 0)), feature_names=[])


def test_a_multi_label_forest_is_explained_label_by_label() -> None:
    # Was refused with "output has shape (2, 10, 2)"; sweep 15b explains each label's
    # positive-class probability (tests/explain/test_sweep15b_multilabel.py).
    ensemble = pytest.importorskip("sklearn.ensemble")
    X, y = _data()
    labels = np.c_[y > 0, X[:, 0] > 0].astype(int)
    forest = ensemble.RandomForestClassifier(n_estimators=3, random_state=0).fit(X, labels)
    att = explain.shap(forest, X[:10]).explain(X[0], target=1)
    assert att.output == pytest.approx(forest.predict_proba(X[:1])[1][0, 1])
    assert att.check_ok
