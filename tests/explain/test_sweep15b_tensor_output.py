"""Sweep 15b: a plain function returning a torch tensor that tracks gradients.

explain.shap(lambda X: net(torch.as_tensor(X)), background), the usual way to wrap a torch
network for a numpy caller, failed with a bare RuntimeError from numpy: "Can't call numpy()
on Tensor that requires grad". The output is now read as the numbers it holds.
"""

from __future__ import annotations

import numpy as np
import pytest

import explain

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_a_function_returning_a_tensor_with_grad_is_explained(dtype: str) -> None:
    torch.manual_seed(0)
    net = torch.nn.Linear(3, 2).to(getattr(torch, dtype))
    W = net.weight.detach().double().numpy()

    def f(rows: np.ndarray) -> object:
        return net(torch.as_tensor(rows, dtype=getattr(torch, dtype)))

    background = np.random.default_rng(0).normal(size=(4, 3))
    x = np.array([0.5, -1.0, 2.0])
    explainer = explain.shap(f, background)
    for k in (0, 1):
        att = explainer.explain(x, target=k)
        expected = f(x[None, :]).detach()[0, k]  # type: ignore[attr-defined]
        assert att.output == pytest.approx(float(expected))
        assert att.check_ok
        if dtype == "float32":  # linear: interventional Shapley values are W (x - mean)
            np.testing.assert_allclose(
                att.values, W[k] * (x - background.mean(axis=0)), rtol=1e-5, atol=1e-6
            )
