"""Sweep 15: explain_ranking of a category model refit in place.

`explain_ranking(model, items)` reuses the explainer of a model it has seen (by fingerprint),
so that a refit model is not served a stale one. A HistGradientBoosting model or a Pipeline
refit in place keeps its fingerprint, and the cached explainer coded text categories by the
categories the model had at first: refit with one more category, "nice" was read as the
code of "nice" before, which the refit model decodes as "marseille". The attributions then
explained another row than the one ranked, silently (outputs 10.2 for a score of 3.7).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import explain

pd = pytest.importorskip("pandas")
ensemble = pytest.importorskip("sklearn.ensemble")
compose = pytest.importorskip("sklearn.compose")
pipeline = pytest.importorskip("sklearn.pipeline")
preprocessing = pytest.importorskip("sklearn.preprocessing")
linear_model = pytest.importorskip("sklearn.linear_model")


def _frame(cities: list[str], seed: int, n: int = 200) -> Any:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "amount": rng.normal(size=n),
            "city": pd.Categorical(rng.choice(np.asarray(cities, dtype=object), size=n)),
        }
    )


def _hist() -> Any:
    return ensemble.HistGradientBoostingRegressor(
        max_iter=20, categorical_features="from_dtype", random_state=0
    )


def _pipe() -> Any:
    columns = compose.make_column_transformer(
        (preprocessing.OneHotEncoder(), ["city"]), remainder="passthrough"
    )
    return pipeline.make_pipeline(columns, linear_model.Ridge())


@pytest.mark.parametrize("make", [_hist, _pipe], ids=["hist_gradient_boosting", "pipeline"])
def test_a_model_refit_with_more_categories_is_ranked_by_its_new_categories(
    make: Callable[[], Any],
) -> None:
    model = make()
    first = _frame(["lyon", "nice", "paris"], seed=0)
    model.fit(first, first["amount"] + 3.0 * (first["city"] == "nice"))
    explain.explain_ranking(model, first.iloc[:4].reset_index(drop=True))

    again = _frame(["lyon", "marseille", "nice", "paris"], seed=1)
    y = again["amount"] + 3.0 * (again["city"] == "nice") + 10.0 * (again["city"] == "marseille")
    model.fit(again, y)
    items = again[again["city"] == "nice"].iloc[:3].reset_index(drop=True)

    ranked = explain.explain_ranking(model, items)
    pair = explain.explain_pair(model, items.iloc[[0]], items.iloc[[2]])

    scores = model.predict(items)
    assert [a.output for a in ranked] == pytest.approx(list(scores), abs=1e-9)
    assert all(a.check_ok for a in ranked)
    assert sum(pair.values) == pytest.approx(scores[0] - scores[2], abs=1e-9)
