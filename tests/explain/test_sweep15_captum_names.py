"""Sweep 15: explain.captum names the features after its baseline's labels.

The docs say `baseline` may be a {feature: value} mapping; without feature_names that was
refused ("missing ['x0', 'x1', 'x2'], unexpected ['budget', 'trust', 'urgency']"), and a
DataFrame or Series baseline labelled its features x0, x1, x2, so a rule reading
attribution["budget"] found nothing. explain.shap names features after its background's
columns; captum now does the same with its baseline.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import explain

torch = pytest.importorskip("torch")
pytest.importorskip("captum")
pd = pytest.importorskip("pandas")

NAMES = ["budget", "trust", "urgency"]


def _net() -> Any:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2)).eval()


def _f(net: Any, rows: Any) -> np.ndarray:
    with torch.no_grad():
        return net(torch.tensor(np.asarray(rows, dtype=np.float32))).double().numpy()


def test_a_mapping_baseline_names_the_features_and_is_the_reference() -> None:
    net = _net()
    baseline = {"budget": 0.0, "trust": 0.5, "urgency": -1.0}

    explainer = explain.captum(net, baseline=baseline)
    att = explainer.explain({"urgency": 2.0, "budget": 1.0, "trust": -0.5}, target=1)

    assert explainer.feature_names == NAMES
    assert att.inputs == [1.0, -0.5, 2.0]  # read by name, not by the mapping's order
    assert att.baseline == [0.0, 0.5, -1.0]
    out = _f(net, [[1.0, -0.5, 2.0], [0.0, 0.5, -1.0]])[:, 1]
    assert att.output == pytest.approx(out[0], abs=1e-6)
    assert att.base_value == pytest.approx(out[1], abs=1e-6)
    assert sum(att.values) == pytest.approx(out[0] - out[1], abs=1e-3)
    assert set(att.as_dict()) == set(NAMES)


@pytest.mark.parametrize("form", ["series", "one_row_frame"])
def test_a_labelled_pandas_baseline_names_the_features(form: str) -> None:
    df = pd.DataFrame(np.random.default_rng(0).normal(size=(20, 3)), columns=NAMES)
    baseline = df.mean() if form == "series" else df.iloc[[0]]

    att = explain.captum(_net(), baseline=baseline).explain(df.iloc[3])

    assert att.feature_names == NAMES


def test_a_gradient_shap_frame_of_baseline_rows_names_the_features() -> None:
    df = pd.DataFrame(np.random.default_rng(0).normal(size=(20, 3)), columns=NAMES)

    att = explain.captum(_net(), method="gradient_shap", baseline=df).explain(df.iloc[3])

    assert list(att.as_dict()) == NAMES


def test_a_frame_built_from_an_array_still_gets_default_names() -> None:
    df = pd.DataFrame(np.zeros((1, 3)))  # columns 0, 1, 2 name nothing

    assert explain.captum(_net(), baseline=df).feature_names == ["x0", "x1", "x2"]


def test_a_mapping_baseline_of_the_wrong_width_is_refused() -> None:
    with pytest.raises(explain.ExplanationInputError, match="2 features but the module expects 3"):
        explain.captum(_net(), baseline={"budget": 0.0, "trust": 0.5})
