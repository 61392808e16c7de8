"""Sweep 15b: a model that squeezes its batch axis away for one row.

`return self.head(x).squeeze()` is a common forward: for a batch of one row it returns a
0-d tensor (or k numbers for k outputs). Every explainer refused it, "module output has
shape (); expected (batch,) or (batch, actions)", though the model is right; the same for
a function returning a float for one row. One row's outputs are now read as that row's.
Ground truth: for a linear model f(x) = W x + b, Integrated Gradients, DeepLift and
interventional SHAP are W[k] (x - baseline) (the background's mean for SHAP).
"""

from __future__ import annotations

import numpy as np
import pytest

import explain

torch = pytest.importorskip("torch")


class Squeezed(torch.nn.Module):  # type: ignore[misc]
    def __init__(self, outputs: int) -> None:
        super().__init__()
        self.head = torch.nn.Linear(4, outputs)

    def forward(self, x: object) -> object:
        return self.head(x).squeeze()


X = np.array([1.5, -2.0, 0.5, 0.25])
BACKGROUND = np.random.default_rng(0).normal(size=(5, 4))


@pytest.mark.parametrize("outputs", [1, 3])
@pytest.mark.parametrize("method", ["integrated_gradients", "deeplift", "gradient_shap"])
def test_captum_reads_a_squeezed_one_row_output(outputs: int, method: str) -> None:
    torch.manual_seed(0)
    net = Squeezed(outputs).eval()
    W = net.head.weight.detach().double().numpy()
    baseline = BACKGROUND[:1]
    explainer = explain.captum(net, method=method, baseline=baseline, internal_batch_size=1)
    for k in range(outputs):
        att = explainer.explain(X, target=k)
        np.testing.assert_allclose(att.values, W[k] * (X - baseline[0]), rtol=1e-4, atol=1e-5)
        assert att.check_ok


@pytest.mark.parametrize("outputs", [1, 3])
def test_shap_reads_a_squeezed_one_row_output(outputs: int) -> None:
    torch.manual_seed(0)
    net = Squeezed(outputs).eval()
    W = net.head.weight.detach().double().numpy()
    for background in (BACKGROUND, BACKGROUND[:1]):
        explainer = explain.shap(net, background)
        for k in range(outputs):
            att = explainer.explain(X, target=k)
            expected = W[k] * (X - background.mean(axis=0))
            np.testing.assert_allclose(att.values, expected, rtol=1e-4, atol=1e-5)
            assert att.check_ok


def test_a_function_returning_a_number_for_one_row_is_explained() -> None:
    w = np.array([1.0, -2.0, 0.5, 3.0])

    def f(rows: np.ndarray) -> object:
        return float(rows[0] @ w) if len(rows) == 1 else rows @ w

    att = explain.shap(f, BACKGROUND).explain(X)
    np.testing.assert_allclose(att.values, w * (X - BACKGROUND.mean(axis=0)), atol=1e-9)
    assert att.output == pytest.approx(float(X @ w))
