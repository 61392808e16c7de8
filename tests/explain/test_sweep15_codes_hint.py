"""Sweep 15: the codes an array gives for a text category column.

A HistGradientBoosting model (or a Pipeline's encoder) reads an array's category column as
positions in its own fitted categories, which are sorted: ['east', 'north', 'south'] for a
frame whose dtype lists ['south', 'north', 'east']. An array holding the text was refused
with "encode categorical values as the numbers the model was trained on (for a pandas
category, its .cat.codes)"; following that advice made 'south' (code 0) read as 'east', and
the explanation's output was 0.33 for a prediction of 4.71, silently.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import explain

pd = pytest.importorskip("pandas")
ensemble = pytest.importorskip("sklearn.ensemble")

CATS = ["south", "north", "east"]  # not sorted: the model's own order is sorted


def _fitted() -> tuple[Any, Any]:
    rng = np.random.default_rng(0)
    df = pd.DataFrame(
        {
            "amount": rng.normal(size=300),
            "region": pd.Categorical(rng.choice(CATS, size=300), categories=CATS),
        }
    )
    y = df["amount"] + 5.0 * (df["region"] == "south")
    model = ensemble.HistGradientBoostingRegressor(
        max_iter=20, categorical_features="from_dtype", random_state=0
    ).fit(df, y)
    return model, df


def test_text_in_an_array_is_refused_with_the_models_own_code_order() -> None:
    model, df = _fitted()
    explainer = explain.shap(model, df.iloc[:5])

    with pytest.raises(explain.ExplanationTypeError) as info:
        explainer.explain(df.to_numpy()[0])

    message = str(info.value)
    assert "column 'region' holds text categories" in message
    assert "codes 0 to 2 in the order of the model's own categories" in message
    assert "need not be the frame's .cat.codes" in message
    assert "(for a pandas category, its .cat.codes)" not in message
    assert "south" not in message  # the caller's value is never quoted


def test_codes_in_the_models_own_order_explain_the_models_prediction() -> None:
    model, df = _fitted()
    explainer = explain.shap(model, df.iloc[:5])
    own = sorted(CATS)  # the model's fitted categories
    row = df.iloc[0]
    codes = np.array([row["amount"], float(own.index(row["region"]))])

    att = explainer.explain(codes)

    assert att.output == pytest.approx(model.predict(df.iloc[[0]])[0], abs=1e-12)
    assert att.values == pytest.approx(explainer.explain(df.iloc[[0]]).values, abs=1e-12)
