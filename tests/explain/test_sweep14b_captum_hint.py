"""Sweep 14b: a Captum explanation that fails its check says why when an input has no gradient."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import explain

torch = pytest.importorskip("torch")
pytest.importorskip("captum")


def _embedding_net() -> Any:
    class Net(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.region = torch.nn.Embedding(4, 3)
            self.head = torch.nn.Linear(4, 2)

        def forward(self, x: Any) -> Any:
            emb = self.region(x[:, 1].long())  # the index has no gradient
            return self.head(torch.cat([x[:, :1], emb], dim=1))

    torch.manual_seed(0)
    return Net().eval()


@pytest.mark.parametrize("method", ["integrated_gradients", "deeplift", "gradient_shap"])
def test_a_failed_check_from_an_integer_input_names_it_and_points_to_shap(method: str) -> None:
    """The region column got attribution 0 and check_ok False with nothing saying why."""
    ex = explain.captum(_embedding_net(), method, feature_names=["amount", "region"])  # type: ignore[arg-type]
    a = ex.explain(np.array([0.7, 2.0]), target=0)
    assert not a.check_ok and a.values[1] == 0.0
    assert a.note is not None
    assert "'region'" in a.note and "'amount'" not in a.note
    assert "integer" in a.note and "nn.Embedding" in a.note
    assert "explain.shap(module, background)" in a.note
    assert a.model_dump(mode="json")["note"] == a.note  # kept with the decision


def test_a_passing_captum_explanation_has_no_note() -> None:
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2)).eval()
    a = explain.captum(net).explain(np.array([0.7, 2.0]))
    assert a.check_ok and a.note is None


def test_a_region_equal_to_the_baseline_is_not_named() -> None:
    """At the baseline's own region the index moves nothing: no hint is due."""
    a = explain.captum(_embedding_net(), feature_names=["amount", "region"]).explain(
        np.array([0.7, 0.0]), target=0
    )
    assert a.check_ok and a.note is None


def test_the_hinted_shap_explanation_attributes_the_integer_input() -> None:
    net = _embedding_net()
    background = np.array([[0.0, 0.0], [0.5, 1.0], [1.0, 3.0]])
    a = explain.shap(net, background, ["amount", "region"]).explain(np.array([0.7, 2.0]), target=0)
    assert a.check_ok and a.values[1] != 0.0
