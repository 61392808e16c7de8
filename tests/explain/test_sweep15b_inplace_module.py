"""Sweep 15b: torch modules that change their input tensor in place.

A module whose first layer is nn.ReLU(inplace=True), or whose forward does x.mul_(2), is a
correct module (its outputs are right), but explain.captum's Integrated Gradients and
GradientSHAP failed with "RuntimeError: a leaf Variable that requires grad is being used
in an in-place operation"; and a float64 module doubled the explainer's own baseline
(given as a numpy array, shared with the tensor the module was called with), so every
later explanation was measured from another baseline. The module is now handed a copy.
Ground truth: for f(x) = W g(x) + b with g applied per feature, Integrated Gradients from
baseline r is W[k, i] * (g(x_i) - g(r_i)).
"""

from __future__ import annotations

import numpy as np
import pytest

import explain

torch = pytest.importorskip("torch")


class Doubles(torch.nn.Module):  # type: ignore[misc]
    def __init__(self, dtype: object) -> None:
        super().__init__()
        self.lin = torch.nn.Linear(4, 3).to(dtype)

    def forward(self, x: object) -> object:
        x.mul_(2.0)  # type: ignore[attr-defined]
        return self.lin(x)


def _relu_first() -> object:
    return torch.nn.Sequential(torch.nn.ReLU(inplace=True), torch.nn.Linear(4, 3)).eval()


@pytest.mark.parametrize("method", ["integrated_gradients", "gradient_shap"])
@pytest.mark.parametrize("make", ["relu", "doubles32", "doubles64"])
def test_gradient_methods_explain_a_module_writing_its_input(method: str, make: str) -> None:
    torch.manual_seed(0)
    if make == "relu":
        net, g = _relu_first(), lambda v: np.maximum(v, 0.0)
    else:
        dtype = torch.float32 if make == "doubles32" else torch.float64
        net, g = Doubles(dtype).eval(), lambda v: 2.0 * v
    lin = net[1] if make == "relu" else net.lin  # type: ignore[index,attr-defined]
    W = lin.weight.detach().double().numpy()
    baseline = np.array([[0.5, 0.1, -1.0, 0.2]])  # signs of x: no ReLU kink on the path
    given = baseline.copy()
    x = np.array([1.5, 0.25, -2.0, 0.75])

    explainer = explain.captum(net, method=method, baseline=baseline)  # type: ignore[arg-type]
    for k in (0, 2, 1):  # twice over the baseline: it must not drift
        att = explainer.explain(x, target=k)
        expected = W[k] * (g(x) - g(baseline[0]))
        np.testing.assert_allclose(att.values, expected, rtol=1e-4, atol=1e-5)
        assert att.baseline == pytest.approx(baseline[0].tolist())
        assert att.check_ok
    np.testing.assert_array_equal(baseline, given)


def test_shap_of_a_float64_module_in_training_mode_writing_its_input() -> None:
    # Left in training mode (no Dropout: nothing random), it is called twice on the
    # background to see whether its outputs are random; the calls shared the background's
    # memory, so the first doubled it, the second differed, and it was refused as random.
    torch.manual_seed(0)
    net = Doubles(torch.float64)  # training mode
    W = net.lin.weight.detach().numpy()
    background = np.random.default_rng(0).normal(size=(5, 4))
    x = np.array([1.5, 0.25, -2.0, 0.75])
    att = explain.shap(net, background).explain(x, target=1)
    np.testing.assert_allclose(att.values, W[1] * 2.0 * (x - background.mean(axis=0)), atol=1e-9)
    assert att.check_ok
