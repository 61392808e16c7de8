"""Sweep 15: rows given as a list of {feature: value} mappings.

One mapping was read as one row, and a DataFrame's columns by name, but a list of mappings
(the candidates a ranker scores) was refused with "column 0 holds a dict: each feature must
be one number", though no column 0 was given. Such rows are now read by name, each as one
mapping is, as `pandas.DataFrame(rows)` would be.
"""

from __future__ import annotations

import numpy as np
import pytest

import explain

pd = pytest.importorskip("pandas")
linear_model = pytest.importorskip("sklearn.linear_model")

ROWS = [
    {"price": 10.0, "rating": 4.5, "distance": 1.0},
    {"distance": 3.0, "price": 7.0, "rating": 3.0},  # keys in another order
    {"price": 12.0, "rating": 5.0, "distance": 0.5},
]
NAMES = ["price", "rating", "distance"]


def _model() -> object:
    frame = pd.DataFrame(np.random.default_rng(0).normal(size=(40, 3)), columns=NAMES)
    y = frame @ np.array([1.0, 2.0, -3.0])
    return linear_model.LinearRegression().fit(frame, y)


def test_explain_rows_reads_a_list_of_mappings_as_the_frame_of_them() -> None:
    model = _model()
    explainer = explain.shap(model, pd.DataFrame(ROWS))

    from_dicts = explainer.explain_rows(ROWS)
    from_frame = explainer.explain_rows(pd.DataFrame(ROWS))

    assert [a.values for a in from_dicts] == [a.values for a in from_frame]
    assert [a.inputs for a in from_dicts][1] == [7.0, 3.0, 3.0]


def test_explain_ranking_of_candidate_mappings_explains_their_scores() -> None:
    model = _model()

    ranked = explain.explain_ranking(model, ROWS)

    scores = model.predict(pd.DataFrame(ROWS)[NAMES])  # type: ignore[attr-defined]
    assert [a.output for a in ranked] == pytest.approx(list(scores), abs=1e-9)
    assert all(a.check_ok for a in ranked)
    assert ranked[0].feature_names == NAMES


def test_a_scoring_function_is_named_after_the_mappings_keys() -> None:
    explainer = explain.shap(lambda X: X[:, 0] - X[:, 2], ROWS)

    att = explainer.explain({"price": 9.0, "rating": 1.0, "distance": 2.0})

    assert att.feature_names == NAMES
    base = np.mean([r["price"] - r["distance"] for r in ROWS])
    assert att.base_value == pytest.approx(base)
    assert att.values[1] == 0.0  # the score never reads rating
    assert sum(att.values) == pytest.approx(7.0 - base)


def test_a_row_missing_a_feature_is_refused_by_its_index() -> None:
    rows = [*ROWS[:2], {"price": 1.0, "rating": 2.0}]

    with pytest.raises(
        explain.ExplanationInputError, match=r"background\[2\].*missing \['distance'\]"
    ):
        explain.shap(_model(), rows)


def test_a_captum_baseline_of_mappings_names_and_sizes_the_features() -> None:
    torch = pytest.importorskip("torch")
    pytest.importorskip("captum")
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1)).eval()

    explainer = explain.captum(net, method="gradient_shap", baseline=ROWS)

    assert explainer.feature_names == NAMES
    assert explainer.baseline.shape == (3, 3)
    assert explainer.baseline[1].tolist() == [7.0, 3.0, 3.0]


def test_explain_takes_one_row_given_as_a_list_of_one_mapping() -> None:
    explainer = explain.shap(lambda X: X[:, 0] - X[:, 2], ROWS)
    row = {"price": 9.0, "rating": 1.0, "distance": 2.0}

    assert explainer.explain([row]).values == explainer.explain(row).values
    with pytest.raises(explain.ExplanationInputError, match="one row, got 2 rows.*explain_rows"):
        explainer.explain([row, row])
