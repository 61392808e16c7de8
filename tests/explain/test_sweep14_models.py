"""Sweep 14: explanations of models an ML engineer brings (scikit-learn, numpy from pandas)."""

from __future__ import annotations

from typing import Any

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


def _lightgbm_with_categories() -> tuple[Any, Any]:
    lgb = pytest.importorskip("lightgbm")
    rng = np.random.default_rng(0)
    n = 300
    frame = pd.DataFrame(
        {
            "size": pd.Categorical(rng.choice(["s", "m", "l"], n)),
            "a": rng.normal(size=n),
            "region": pd.Categorical(rng.choice([10, 20, 30], n)),
        }
    )
    y = frame["a"] + 3.0 * (frame["region"].astype(int) == 20) + (frame["size"] == "m")
    params = {"n_estimators": 20, "min_child_samples": 5, "verbose": -1}
    return lgb.LGBMRegressor(**params).fit(frame, y), frame


def test_lightgbm_reads_a_frames_category_columns_as_lightgbm_does() -> None:
    """A category column of numbers (region 10, 20, 30) was read by its values, which
    LightGBM reads as category codes: the explanation's output was not the model's
    prediction for the row (0.17 where predict said 3.04), with check_ok True."""
    model, frame = _lightgbm_with_categories()
    rows = frame.iloc[:6]
    # A frame of its own categories (as a caller builds one): codes differ from training's.
    rebuilt = rows.assign(size=pd.Categorical(rows["size"].astype(str)))
    for ex in (explain.shap(model), explain.shap(model, frame.iloc[:30])):
        for atts in (ex.explain_rows(rows), ex.explain_rows(rebuilt)):
            assert [a.output for a in atts] == pytest.approx(model.predict(rows))
            assert all(a.check_ok for a in atts)
        assert ex.explain(rows.iloc[[2]]).output == pytest.approx(model.predict(rows)[2])
    ranked = explain.explain_ranking(model, rows)
    assert [a.output for a in ranked] == pytest.approx(model.predict(rows))
    pair = explain.explain_pair(model, rows.iloc[[0]], rows.iloc[[1]])
    assert pair.output == pytest.approx(model.predict(rows)[0])


def test_lightgbm_with_category_columns_refuses_a_row_that_lost_their_dtype() -> None:
    model, frame = _lightgbm_with_categories()
    with pytest.raises(explain.ExplanationInputError, match=r"one-row frame \(df.iloc\[\[i\]\]\)"):
        explain.shap(model).explain(frame.iloc[0])


def test_lightgbm_with_category_columns_still_reads_an_array_as_codes() -> None:
    model, frame = _lightgbm_with_categories()
    codes = frame.iloc[:3].assign(
        size=frame["size"].iloc[:3].cat.codes, region=frame["region"].iloc[:3].cat.codes
    )
    out = [a.output for a in explain.shap(model).explain_rows(codes.to_numpy(dtype=float))]
    assert out == pytest.approx(model.predict(frame.iloc[:3]))


@pytest.mark.parametrize("labels", [("buy", "skip"), (1, 0)], ids=["text-classes", "int-classes"])
def test_a_classifier_without_predict_proba_is_explained_by_its_decision_function(
    labels: tuple[Any, Any],
) -> None:
    """SVC() (no probability=True) has no predict_proba: its predicted class was explained,
    refused for text classes ("SVC output is not numeric") and a 0/1 step for others."""
    svm = pytest.importorskip("sklearn.svm")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3))
    y = np.where(X[:, 0] + X[:, 1] ** 2 > 0.5, *labels)
    model = svm.SVC().fit(X, y)
    a = explain.shap(model, X[:10]).explain(X[0])
    assert a.output == pytest.approx(float(model.decision_function(X[:1])[0]))
    assert a.base_value == pytest.approx(float(model.decision_function(X[:10]).mean()))
    assert a.check_ok


def _linear_trees() -> tuple[Any, np.ndarray]:
    lgb = pytest.importorskip("lightgbm")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3))
    y = 3 * X[:, 0] + X[:, 1] ** 2
    return lgb.LGBMRegressor(n_estimators=20, linear_tree=True, verbose=-1).fit(X, y), X


def test_lightgbm_linear_trees_are_explained_against_a_background() -> None:
    """shap's TreeSHAP reads a linear tree's leaves as constants: the values missed
    f(x) - E[f] by 0.1 (check_ok False on every row)."""
    model, X = _linear_trees()
    for a in explain.shap(model, X[:20]).explain_rows(X[:3]):
        assert a.check_ok and a.estimate == "exact"
    assert [a.check_ok for a in explain.explain_ranking(model, X[:4])] == [True] * 4


def test_lightgbm_linear_trees_without_background_say_what_to_pass() -> None:
    """LightGBM's own contributions are 'not implemented for linear trees': the error blamed
    the model call ("LightGBM predict raised LightGBMError") at explain time."""
    model, _ = _linear_trees()
    with pytest.raises(explain.ExplanationTypeError, match=r"linear_tree=True.*background"):
        explain.shap(model)
