"""Sweep 15b: a DataFrame with duplicated column names.

explain.shap(f, df) with df's columns ["a", "b", "a"] said "feature_names must be unique;
repeated: ['a']" though the caller passed no feature_names; explain() of such a frame
against named features said "missing ['c'], unexpected []". Both now say the DataFrame's
columns are duplicated and name them.
"""

from __future__ import annotations

import numpy as np
import pytest

import explain

pd = pytest.importorskip("pandas")
torch = pytest.importorskip("torch")


def _frame(columns: list[str]) -> object:
    return pd.DataFrame(np.random.default_rng(0).normal(size=(8, len(columns))), columns=columns)


def _says_duplicated(err: pytest.ExceptionInfo[BaseException], what: str) -> None:
    text = str(err.value)
    assert what in text and "duplicated" in text and "'a'" in text
    assert "feature_names must be unique" not in text


def test_a_background_frame_with_duplicated_columns_names_them() -> None:
    with pytest.raises(explain.ExplanationInputError) as err:
        explain.shap(lambda X: X.sum(axis=1), _frame(["a", "b", "a"]))
    _says_duplicated(err, "background")


def test_explain_ranking_items_with_duplicated_columns_names_them() -> None:
    with pytest.raises(explain.ExplanationInputError) as err:
        explain.explain_ranking(lambda X: X.sum(axis=1), _frame(["a", "b", "a"]))
    _says_duplicated(err, "items")


def test_a_row_frame_with_duplicated_columns_names_them() -> None:
    explainer = explain.shap(lambda X: X.sum(axis=1), _frame(["a", "b", "c"]))
    with pytest.raises(explain.ExplanationInputError) as err:
        explainer.explain(_frame(["a", "b", "a"]).iloc[[0]])  # type: ignore[attr-defined]
    _says_duplicated(err, "x")


def test_a_captum_baseline_frame_with_duplicated_columns_names_them() -> None:
    with pytest.raises(explain.ExplanationInputError) as err:
        explain.captum(torch.nn.Linear(3, 1), baseline=_frame(["a", "b", "a"]).iloc[[0]])  # type: ignore[attr-defined]
    _says_duplicated(err, "baseline")


def test_duplicated_columns_with_feature_names_given_are_read_by_position() -> None:
    frame = _frame(["a", "b", "a"])
    explainer = explain.shap(lambda X: X @ np.array([1.0, 2.0, 3.0]), frame, ["p", "q", "r"])
    att = explainer.explain(frame.iloc[[0]])  # type: ignore[attr-defined]
    assert att.inputs == pytest.approx(frame.to_numpy()[0])  # type: ignore[attr-defined]
    assert att.check_ok
