"""Sweep 15: scikit-learn Pipelines that encode text columns (ColumnTransformer + encoders).

Before, `explain.shap(pipe, df)` refused the frame ("background must hold numbers ... column
'city' holds a str: encode categorical values as the numbers the model was trained on"), and
following that hint made the pipeline's OneHotEncoder fail on the codes: the most common
scikit-learn model shape could not be explained at all.
"""

from __future__ import annotations

import itertools
from math import factorial
from typing import Any

import numpy as np
import pytest

import explain

pd = pytest.importorskip("pandas")
compose = pytest.importorskip("sklearn.compose")
pipeline = pytest.importorskip("sklearn.pipeline")
preprocessing = pytest.importorskip("sklearn.preprocessing")
impute = pytest.importorskip("sklearn.impute")
linear_model = pytest.importorskip("sklearn.linear_model")
ensemble = pytest.importorskip("sklearn.ensemble")

CITIES = ["paris", "lyon", "nice"]


def _frame(n: int = 80) -> Any:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "amount": rng.normal(size=n),
            "city": rng.choice(np.asarray(CITIES, dtype=object), size=n),
            "visits": rng.integers(0, 4, size=n),
        }
    )


def _one_hot_pipeline(df: Any) -> Any:
    text = pipeline.make_pipeline(
        impute.SimpleImputer(strategy="most_frequent"),
        preprocessing.OneHotEncoder(handle_unknown="ignore"),
    )
    columns = compose.ColumnTransformer(
        [("num", preprocessing.StandardScaler(), ["amount", "visits"]), ("text", text, ["city"])]
    )
    y = ((df["amount"] > 0) | (df["city"] == "nice")).astype(int)
    return pipeline.Pipeline(
        [("columns", columns), ("model", linear_model.LogisticRegression())]
    ).fit(df, y)


def _shapley_on_frames(f: Any, x: Any, background: Any) -> tuple[list[float], float]:
    """Interventional Shapley values by enumerating coalitions, on pandas frames: the
    features in a coalition take x's value in every background row."""
    columns = list(background.columns)
    n = len(columns)

    def v(coalition: tuple[str, ...]) -> float:
        rows = background.copy()
        for c in coalition:
            rows[c] = x[c]
        return float(np.mean(f(rows)))

    phi = []
    for i in columns:
        others = [c for c in columns if c != i]
        total = 0.0
        for size in range(n):
            weight = factorial(size) * factorial(n - size - 1) / factorial(n)
            for coalition in itertools.combinations(others, size):
                total += weight * (v((*coalition, i)) - v(coalition))
        phi.append(total)
    return phi, v(())


@pytest.mark.parametrize("form", ["frame", "series", "mapping"])
def test_a_one_hot_pipeline_is_explained_by_text_value(form: str) -> None:
    df = _frame()
    pipe = _one_hot_pipeline(df)
    background = df.iloc[:6].reset_index(drop=True)
    row = df.iloc[20]
    x = {"frame": df.iloc[[20]], "series": row, "mapping": row.to_dict()}[form]

    att = explain.shap(pipe, background).explain(x)

    assert att.feature_names == ["amount", "city", "visits"]
    proba = pipe.predict_proba(df.iloc[[20]])[0]
    assert att.target == int(np.argmax(proba))
    assert att.output == pytest.approx(proba[att.target], abs=1e-12)
    truth, base = _shapley_on_frames(
        lambda rows: pipe.predict_proba(rows)[:, att.target], row, background
    )
    assert att.values == pytest.approx(truth, abs=1e-9)
    assert att.base_value == pytest.approx(base, abs=1e-12)
    assert att.check_ok


def test_an_ordinal_encoded_forest_pipeline_explains_the_models_own_prediction() -> None:
    df = _frame()
    columns = compose.make_column_transformer(
        (preprocessing.OrdinalEncoder(), ["city"]), remainder="passthrough"
    )
    y = df["amount"] + 2.0 * (df["city"] == "lyon")
    pipe = pipeline.make_pipeline(
        columns, ensemble.RandomForestRegressor(n_estimators=5, random_state=0)
    ).fit(df, y)
    background = df.iloc[:5].reset_index(drop=True)

    att = explain.shap(pipe, background).explain(df.iloc[[7]])

    assert att.output == pytest.approx(pipe.predict(df.iloc[[7]])[0], abs=1e-12)
    truth, _ = _shapley_on_frames(pipe.predict, df.iloc[7], background)
    assert att.values == pytest.approx(truth, abs=1e-9)


def test_an_unseen_category_is_refused_by_column_without_quoting_it() -> None:
    df = _frame()
    pipe = _one_hot_pipeline(df)
    explainer = explain.shap(pipe, df.iloc[:6])

    with pytest.raises(explain.ExplanationInputError) as err:
        explainer.explain({"amount": 0.1, "city": "Jo Smith", "visits": 1})

    assert "'city'" in str(err.value) and "not fitted with" in str(err.value)
    assert "Jo Smith" not in str(err.value)


def test_the_callers_frame_keeps_its_dtypes_and_values() -> None:
    df = _frame()
    pipe = _one_hot_pipeline(df)
    before = df.copy()
    dtypes = df.dtypes.to_dict()

    explain.shap(pipe, df.iloc[:6]).explain(df.iloc[[3]])

    assert df.dtypes.to_dict() == dtypes
    pd.testing.assert_frame_equal(df, before)


def test_candidates_with_text_columns_are_ranked_and_paired() -> None:
    df = _frame()
    pipe = _one_hot_pipeline(df)
    items = df.iloc[:5].reset_index(drop=True)

    ranked = explain.explain_ranking(pipe, items)
    pair = explain.explain_pair(pipe, items.iloc[0], items.iloc[1])

    scores = pipe.predict_proba(items)
    for i, att in enumerate(ranked):
        assert att.output == pytest.approx(scores[i, att.target], abs=1e-12)
        assert att.check_ok
    k = pair.target
    assert sum(pair.values) == pytest.approx(scores[0, k] - scores[1, k], abs=1e-9)


def test_a_text_column_the_pipeline_drops_unread_is_accepted_and_gets_nothing() -> None:
    """Fitted on a frame with an id column its ColumnTransformer leaves to remainder='drop',
    the pipeline names 'id' among its features: the frame was refused ('column id holds a
    str'), and without 'id' it was refused as missing a feature."""
    df = _frame()
    df.insert(0, "id", [f"user-{i}" for i in range(len(df))])
    columns = compose.make_column_transformer(
        (preprocessing.StandardScaler(), ["amount"]), (preprocessing.OneHotEncoder(), ["city"])
    )
    y = df["amount"] + 2.0 * (df["city"] == "lyon")
    pipe = pipeline.make_pipeline(columns, linear_model.Ridge()).fit(df, y)
    background = df.iloc[:6].reset_index(drop=True)

    explainer = explain.shap(pipe, background)
    att = explainer.explain(df.iloc[[20]])
    unseen_id = explainer.explain({**df.iloc[20].to_dict(), "id": "Jo Smith"})

    assert att.feature_names == ["id", "amount", "city", "visits"]
    assert att.output == pytest.approx(pipe.predict(df.iloc[[20]])[0], abs=1e-12)
    truth, _ = _shapley_on_frames(pipe.predict, df.iloc[20], background)
    assert att.values == pytest.approx(truth, abs=1e-9)
    assert att.as_dict()["id"] == 0.0 and att.as_dict()["visits"] == 0.0
    assert att.inputs[3] == float(df["visits"].iloc[20])  # a dropped number reads as itself
    assert unseen_id.values == att.values


def test_a_grid_search_over_a_pipeline_is_read_by_its_best_estimators_encoders() -> None:
    model_selection = pytest.importorskip("sklearn.model_selection")
    df = _frame()
    df.insert(0, "id", [f"user-{i}" for i in range(len(df))])
    text = preprocessing.OneHotEncoder(handle_unknown="ignore")
    columns = compose.make_column_transformer(
        (preprocessing.StandardScaler(), ["amount"]), (text, ["city"])
    )
    pipe = pipeline.make_pipeline(columns, linear_model.LogisticRegression())
    y = ((df["amount"] > 0) | (df["city"] == "nice")).astype(int)
    grid = model_selection.GridSearchCV(pipe, {"logisticregression__C": [0.1, 1.0]}, cv=3)
    grid.fit(df, y)
    background = df.iloc[:5].reset_index(drop=True)

    att = explain.shap(grid, background).explain(df.iloc[[11]])

    proba = grid.predict_proba(df.iloc[[11]])[0]
    assert att.output == pytest.approx(proba[att.target], abs=1e-12)
    truth, _ = _shapley_on_frames(
        lambda rows: grid.predict_proba(rows)[:, att.target], df.iloc[11], background
    )
    assert att.values == pytest.approx(truth, abs=1e-9)
