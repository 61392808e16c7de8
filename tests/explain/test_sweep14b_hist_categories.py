"""Sweep 14b: HistGradientBoosting fitted on pandas category columns (text or numbers)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import explain

pd = pytest.importorskip("pandas")
ensemble = pytest.importorskip("sklearn.ensemble")


def _frame(regions: list[Any]) -> Any:
    rng = np.random.default_rng(0)
    n = 240
    return pd.DataFrame(
        {
            "amount": rng.normal(size=n),
            "region": pd.Categorical(rng.choice(np.asarray(regions, dtype=object), size=n)),
            "age": rng.normal(size=n),
        }
    )


def _target(df: Any, regions: list[Any]) -> np.ndarray:
    return (df["amount"] + 2.0 * (df["region"] == regions[1]).astype(float)).to_numpy()


@pytest.mark.parametrize("regions", [["north", "south", "east"], [10, 20, 30]])
@pytest.mark.parametrize("categorical", ["from_dtype", ["region"]])
def test_a_hist_gradient_boosting_regressor_on_category_columns_is_explained(
    regions: list[Any], categorical: Any
) -> None:
    """Text categories raised 'must hold numbers ... column region holds a str'."""
    df = _frame(regions)
    model = ensemble.HistGradientBoostingRegressor(
        max_iter=20, categorical_features=categorical, random_state=0
    ).fit(df, _target(df, regions))
    ex = explain.shap(model, df.iloc[:40])
    for i in (0, 3, 7):
        a = ex.explain(df.iloc[[i]])
        assert a.check_ok
        assert a.output == pytest.approx(model.predict(df.iloc[[i]])[0])
        assert sum(a.values) == pytest.approx(a.output - a.base_value)
    assert ex.explain(df.iloc[[3]]).base_value == pytest.approx(model.predict(df.iloc[:40]).mean())
    moved = [abs(a.values[1]) for a in ex.explain_rows(df.iloc[:10])]
    assert max(moved) > 0.5  # the region (worth 2.0) is attributed, not read as missing


def test_a_hist_gradient_boosting_classifier_on_text_categories_is_explained_and_ranked() -> None:
    regions = ["north", "south", "east"]
    df = _frame(regions)
    y = _target(df, regions) > 1.0
    model = ensemble.HistGradientBoostingClassifier(max_iter=20, random_state=0).fit(df, y)
    a = explain.shap(model, df.iloc[:40]).explain(df.iloc[[5]])
    assert a.check_ok
    assert a.output == pytest.approx(model.decision_function(df.iloc[[5]])[0])
    ranked = explain.explain_ranking(model, df.iloc[:6])
    assert all(r.check_ok for r in ranked)
    assert [r.output for r in ranked] == pytest.approx(model.decision_function(df.iloc[:6]))
    pair = explain.explain_pair(model, df.iloc[[0]], df.iloc[[1]])
    assert pair.check_ok


@pytest.mark.parametrize("regions", [["north", "south", "east"], [10, 20, 30]])
def test_a_hist_gradient_boosting_model_on_categories_without_background_says_to_pass_one(
    regions: list[Any],
) -> None:
    """shap's TreeSHAP reads HistGradientBoosting's categorical splits wrongly (numbers gave
    check_ok False with a gap of 0.37 on every row)."""
    df = _frame(regions)
    model = ensemble.HistGradientBoostingRegressor(max_iter=20, random_state=0)
    model.fit(df, _target(df, regions))
    with pytest.raises(explain.ExplanationTypeError) as info:
        explain.shap(model)
    assert "categorical" in str(info.value)
    assert "explain.shap(model, background)" in str(info.value)


def test_a_hist_gradient_boosting_row_given_as_a_series_or_a_mapping_is_read_by_value() -> None:
    regions = ["north", "south", "east"]
    df = _frame(regions)
    model = ensemble.HistGradientBoostingRegressor(max_iter=20, random_state=0)
    model.fit(df, _target(df, regions))
    ex = explain.shap(model, df.iloc[:40])
    assert ex.explain(df.iloc[4]).output == pytest.approx(model.predict(df.iloc[[4]])[0])
    row = {"amount": 0.1, "region": "south", "age": 0.0}
    expected = model.predict(pd.DataFrame([row]).astype({"region": df["region"].dtype}))[0]
    assert ex.explain(row).output == pytest.approx(expected)
    with pytest.raises(explain.ExplanationInputError, match="codes 0 to 2"):
        ex.explain([0.1, 7.0, 0.0])  # an array holds the text column as codes
