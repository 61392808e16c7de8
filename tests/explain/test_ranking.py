from __future__ import annotations

import numpy as np
import pytest

import explain
from explain import ExplanationInputError

from ._shapley import brute_force_shapley

lgb = pytest.importorskip("lightgbm")
sklearn_linear = pytest.importorskip("sklearn.linear_model")


@pytest.fixture(scope="module")
def ranker():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 6))
    relevance = X[:, 0] + X[:, 1] * X[:, 2] - 0.5 * X[:, 3] + rng.normal(scale=0.2, size=600)
    grades = np.digitize(relevance, np.quantile(relevance, [0.3, 0.6, 0.85]))
    model = lgb.LGBMRanker(n_estimators=40, num_leaves=8, verbose=-1, random_state=0)
    return model.fit(X, grades, group=[30] * 20), X


def score(model, rows: np.ndarray) -> np.ndarray:
    return model.booster_.predict(np.atleast_2d(rows), raw_score=True)


def test_items_are_explained_against_their_query(ranker) -> None:
    model, X = ranker
    items = X[:8]
    atts = explain.explain_ranking(model, items)
    scores = score(model, items)
    for att, s in zip(atts, scores, strict=True):
        assert att.output == pytest.approx(s)
        assert att.base_value == pytest.approx(scores.mean())
        assert sum(att.values) == pytest.approx(s - scores.mean(), abs=1e-6)
        assert att.check_ok


def test_item_attribution_matches_brute_force(ranker) -> None:
    model, X = ranker
    items = X[20:25]
    atts = explain.explain_ranking(model, items)
    for att, item in zip(atts, items, strict=True):
        expected, _ = brute_force_shapley(lambda r: score(model, r), item, items)
        np.testing.assert_allclose(att.values, expected, atol=1e-7)  # float32 thresholds


def test_each_query_has_its_own_base(ranker) -> None:
    model, X = ranker
    first = explain.explain_ranking(model, X[:10])[0]
    second = explain.explain_ranking(model, X[10:20])[0]
    assert first.base_value != pytest.approx(second.base_value)


PAIR_METHODS = [
    pytest.param("baseline", id="baseline"),
    pytest.param("difference", id="difference"),
]


@pytest.mark.parametrize("method", PAIR_METHODS)
@pytest.mark.parametrize("pair", [pytest.param((0, 1), id="0-1"), pytest.param((5, 9), id="5-9")])
def test_pair_sums_to_score_difference(ranker, method, pair) -> None:
    model, X = ranker
    a, b = X[pair[0]], X[pair[1]]
    att = explain.explain_pair(model, a, b, method=method)
    fa, fb = score(model, a)[0], score(model, b)[0]
    assert sum(att.values) == pytest.approx(fa - fb, abs=1e-6)
    assert (att.output, att.base_value) == (pytest.approx(fa), pytest.approx(fb))
    assert att.baseline == pytest.approx(list(b))
    assert att.method.startswith(f"pairwise_{method}:")
    assert att.check_ok


def test_pair_with_shared_background(ranker) -> None:
    model, X = ranker
    att = explain.explain_pair(model, X[2], X[3], method="difference", background=X[:30])
    assert sum(att.values) == pytest.approx(score(model, X[2])[0] - score(model, X[3])[0], abs=1e-6)


def test_baseline_pair_is_exact_shapley_against_b(ranker) -> None:
    model, X = ranker
    a, b = X[4].copy(), X[7].copy()
    b[[1, 4]] = a[[1, 4]]  # shared feature values cannot explain the gap
    att = explain.explain_pair(model, a, b)
    expected, base = brute_force_shapley(lambda r: score(model, r), a, b[None, :])
    np.testing.assert_allclose(att.values, expected, atol=1e-7)  # float32 thresholds
    assert att.values[1] == 0.0 and att.values[4] == 0.0


def test_linear_pair_is_weight_times_difference() -> None:
    rng = np.random.default_rng(3)
    X = rng.normal(size=(100, 4))
    model = sklearn_linear.LinearRegression().fit(X, X @ [1.0, -2.0, 0.5, 3.0])
    for method in ("baseline", "difference"):
        att = explain.explain_pair(model, X[0], X[1], method=method)
        np.testing.assert_allclose(att.values, model.coef_ * (X[0] - X[1]), atol=1e-9)


def test_black_box_scorer_pair_and_items() -> None:
    def scorer(rows: np.ndarray) -> np.ndarray:
        return np.tanh(rows[:, 0]) * rows[:, 1] + rows[:, 2] ** 2

    rng = np.random.default_rng(4)
    items = rng.normal(size=(6, 3))
    ranking = explain.ranking(scorer, feature_names=["price", "rating", "distance"])
    att = ranking.explain_pair(items[0], items[1])
    assert sum(att.values) == pytest.approx(scorer(items[:1])[0] - scorer(items[1:2])[0])
    expected, _ = brute_force_shapley(scorer, items[0], items[1:2])
    np.testing.assert_allclose(att.values, expected, atol=1e-12)
    for att, s in zip(ranking.explain_items(items), scorer(items), strict=True):
        assert sum(att.values) + att.base_value == pytest.approx(s)


def test_explainer_is_reused_until_the_model_is_refit(ranker) -> None:
    model, X = ranker
    assert explain.ranking(model) is explain.ranking(model)
    clone = lgb.LGBMRanker(n_estimators=5, num_leaves=4, verbose=-1)
    clone.fit(X[:60], np.arange(60) % 3, group=[30, 30])
    before = explain.ranking(clone)
    clone.fit(X[:60], np.arange(60) % 2, group=[30, 30])
    assert explain.ranking(clone) is not before
    att = explain.explain_pair(clone, X[0], X[1])
    assert sum(att.values) == pytest.approx(score(clone, X[0])[0] - score(clone, X[1])[0])


def test_pair_errors(ranker) -> None:
    model, X = ranker
    with pytest.raises(ExplanationInputError, match="unknown pair method"):
        explain.explain_pair(model, X[0], X[1], method="lime")
    with pytest.raises(ExplanationInputError, match="b has 5 features"):
        explain.explain_pair(model, X[0], X[1][:5])
