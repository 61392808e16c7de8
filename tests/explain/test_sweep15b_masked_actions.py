"""Sweep 15b: explain.shap of a torch policy that masks actions with -inf.

explain.captum explains such a policy (only the explained output must be finite), but
explain.shap refused it when built: "Masked output contains NaN or inf". The other
actions are now explained (values equal to brute-force Shapley values), and explaining a
masked action, at x or at a background row, is refused saying so.
"""

from __future__ import annotations

import numpy as np
import pytest

import explain
from tests.explain._shapley import brute_force_shapley

torch = pytest.importorskip("torch")


class Masked(torch.nn.Module):  # type: ignore[misc]
    """Scores 3 actions; action 2 is always masked, action 0 when feature 0 is > 1."""

    def __init__(self, features: int) -> None:
        super().__init__()
        self.head = torch.nn.Linear(features, 3)

    def forward(self, x: object) -> object:
        out = torch.tanh(self.head(x))
        mask = torch.zeros_like(out)
        mask[:, 2] = float("-inf")
        mask[:, 0] = torch.where(x[:, 0] > 1.0, float("-inf"), 0.0)  # type: ignore[index]
        return out + mask


def _scores(net: object, rows: np.ndarray, k: int) -> np.ndarray:
    with torch.no_grad():
        return net(torch.as_tensor(rows, dtype=torch.float32))[:, k].double().numpy()  # type: ignore[operator]


@pytest.mark.parametrize("features", [4, 12])  # exact and permutation SHAP
def test_unmasked_actions_are_explained(features: int) -> None:
    torch.manual_seed(0)
    net = Masked(features).eval()
    rng = np.random.default_rng(0)
    background = rng.normal(size=(4, features)) * 0.5  # feature 0 <= 1: action 0 unmasked
    x = rng.normal(size=features) * 0.5
    explainer = explain.shap(net, background)
    for k in (0, 1):
        att = explainer.explain(x, target=k)
        assert att.check_ok
        assert att.output == pytest.approx(_scores(net, x[None, :], k)[0], abs=1e-6)
        if features == 4:
            phi, base = brute_force_shapley(lambda r, k=k: _scores(net, r, k), x, background)
            np.testing.assert_allclose(att.values, phi, atol=1e-6)
    assert explainer.explain(x).target in (0, 1)  # the best action is never a masked one


def test_explaining_a_masked_action_is_refused() -> None:
    torch.manual_seed(0)
    net = Masked(4).eval()
    background = np.random.default_rng(0).normal(size=(6, 4)) * 0.5
    background[0, 0] = 2.0  # action 0 masked at this background row
    explainer = explain.shap(net, background)
    x = np.array([0.1, 0.2, -0.3, 0.4])
    for k in (0, 2):
        with pytest.raises(explain.ModelCallError, match=f"output {k} is not finite"):
            explainer.explain(x, target=k)
    assert explainer.explain(x, target=1).check_ok
