"""Sweep 14: inputs as an ML engineer hands them over (numpy from pandas, malformed trees)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import explain

pd = pytest.importorskip("pandas")

SECRET = "Ada Quill ACCT-7731-ZQ"


def _score(rows: np.ndarray) -> np.ndarray:
    return rows @ np.array([1.0, 2.0, -3.0])


def test_a_numpy_array_of_a_mixed_frame_is_read_as_numbers() -> None:
    """`df.to_numpy()` of int, float and bool columns is an object array of numbers; it was
    refused: "background must hold numbers (bool, int or float), got dtype 'object'"."""
    frame = pd.DataFrame({"age": [30, 40, 50], "income": [1.5, 2.5, 3.5], "member": [1, 0, 1]})
    frame["member"] = frame["member"].astype(bool)
    objects = frame.to_numpy()
    assert objects.dtype == object
    ex = explain.shap(_score, objects, ["age", "income", "member"])
    a = ex.explain(objects[1])
    assert a.inputs == [40.0, 2.5, 0.0]
    assert a.output == pytest.approx(40.0 + 5.0)
    assert a.check_ok
    assert [r.inputs for r in ex.explain_rows(objects)] == frame.astype(float).values.tolist()
    row = explain.captum(_linear(), feature_names=["age", "income", "member"]).explain(objects[0])
    assert row.inputs == [30.0, 1.5, 1.0]


def test_an_object_array_holding_text_is_still_refused_by_type_and_place() -> None:
    ex = explain.shap(_score, np.zeros((2, 3)))
    with pytest.raises(explain.ExplanationTypeError) as info:
        ex.explain(np.array([1.0, SECRET, True], dtype=object))
    assert "column 1 holds a str (text)" in str(info.value)
    assert "Ada" not in str(info.value)


def _linear() -> Any:
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    return torch.nn.Linear(3, 2).eval()
