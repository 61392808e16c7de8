"""Sweep 13: explanations tried on inputs nobody here wrote (labels, pandas, planners, torch)."""

from __future__ import annotations

import numpy as np
import pytest

import explain

pd = pytest.importorskip("pandas")

WEIGHTS = np.array([1.0, 2.0, -1.0])


def scorer(rows):
    """A ranking function that names no features of its own."""
    return np.asarray(rows, dtype=float) @ WEIGHTS


def test_ranking_items_keep_their_column_names() -> None:
    items = pd.DataFrame({"price": [1.0, 0.0, 2.0], "rating": [2.0, 1.0, 0.0], "km": [0, 0, 1.0]})
    first = explain.explain_ranking(scorer, items)[0]
    assert first.feature_names == ["price", "rating", "km"]
    assert first.as_dict()["rating"] == pytest.approx(2.0 * (2.0 - 1.0))


def test_ranking_names_are_each_querys_own_not_the_first_querys() -> None:
    def score(rows):  # a model of its own, so no other test's call is cached for it
        return scorer(rows)

    explain.explain_ranking(score, np.array([[1.0, 2.0, 0.0], [0.0, 1.0, 0.0]]))
    items = pd.DataFrame({"price": [1.0, 0.0], "rating": [2.0, 1.0], "km": [0.0, 0.0]})
    assert explain.explain_ranking(score, items)[0].feature_names == ["price", "rating", "km"]


@pytest.mark.parametrize(
    ("a", "b"),
    [
        pytest.param(
            {"price": 1.0, "rating": 2.0, "km": 0.0},
            {"price": 0.0, "rating": 1.0, "km": 0.0},
            id="mappings",
        ),
        pytest.param(
            pd.Series({"price": 1.0, "rating": 2.0, "km": 0.0}),
            pd.Series({"price": 0.0, "rating": 1.0, "km": 0.0}),
            id="series",
        ),
    ],
)
def test_pair_of_labelled_rows_is_named_by_their_labels(a, b) -> None:
    pair = explain.ranking(scorer, None, seed=0).explain_pair(a, b)
    assert pair.feature_names == ["price", "rating", "km"]
    by_name = pair.as_dict()
    assert by_name["price"] == pytest.approx(1.0)
    assert by_name["rating"] == pytest.approx(2.0)
    assert by_name["km"] == pytest.approx(0.0)
