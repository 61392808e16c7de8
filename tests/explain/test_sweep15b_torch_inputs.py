"""Sweep 15b: explain.shap of a torch module whose forward takes two tensors.

explain.captum said the module takes 2 inputs and how to wrap it; explain.shap blamed the
model: "Two raised TypeError: Two.forward() missing 1 required positional argument: 'z'".
It now says the same as captum, when the explainer is built; the wrapper it suggests is
explained with values equal to brute-force Shapley values.
"""

from __future__ import annotations

import numpy as np
import pytest

import explain
from tests.explain._shapley import brute_force_shapley

torch = pytest.importorskip("torch")


class Two(torch.nn.Module):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__()
        self.a, self.b = torch.nn.Linear(3, 4), torch.nn.Linear(2, 4)
        self.out = torch.nn.Linear(4, 2)

    def forward(self, x: object, z: object) -> object:
        return self.out(torch.tanh(self.a(x) + self.b(z)))


class SideBySide(torch.nn.Module):  # type: ignore[misc]
    def __init__(self, inner: Two) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, xz: object) -> object:
        return self.inner(xz[:, :3], xz[:, 3:])  # type: ignore[index]


def test_a_two_input_module_is_refused_naming_its_inputs() -> None:
    torch.manual_seed(0)
    background = np.random.default_rng(0).normal(size=(6, 5))
    with pytest.raises(explain.ExplanationTypeError) as err:
        explain.shap(Two().eval(), background)
    text = str(err.value)
    assert "explain.shap()" in text and "2 inputs (x, z)" in text and "one tensor" in text
    assert "missing 1 required positional argument" not in text


def test_the_suggested_wrapper_is_explained_exactly() -> None:
    torch.manual_seed(0)
    inner = Two().eval()
    net = SideBySide(inner).eval()
    rng = np.random.default_rng(1)
    background, x = rng.normal(size=(6, 5)), rng.normal(size=5)

    def f(rows: np.ndarray, k: int) -> np.ndarray:
        with torch.no_grad():
            out = net(torch.as_tensor(rows, dtype=torch.float32))
        return out[:, k].double().numpy()

    explainer = explain.shap(net, background)
    for k in (0, 1):
        att = explainer.explain(x, target=k)
        phi, base = brute_force_shapley(lambda r, k=k: f(r, k), x, background)
        np.testing.assert_allclose(att.values, phi, atol=1e-6)
        assert att.base_value == pytest.approx(base, abs=1e-6)
        assert att.check_ok
