"""Sweep 15b: a DeepLift attribution failing its check says why.

DeepLift's values add up to f(x) - f(baseline) only through layers it has an exact rule
for (ReLU, Sigmoid, Tanh, ... registered as modules). A policy with a GELU, LayerNorm or
final Softmax layer got check_ok False (gaps of 0.03 to 0.4) with note None, as if the
values were simply wrong. The note now names the layers and the method whose values add
up; Integrated Gradients on the same module passes the same check.
"""

from __future__ import annotations

import pytest

import explain

torch = pytest.importorskip("torch")
nn = torch.nn


def _nets() -> dict[str, object]:
    torch.manual_seed(0)
    return {
        "GELU": nn.Sequential(nn.Linear(4, 8), nn.GELU(), nn.Linear(8, 3)),
        "LayerNorm": nn.Sequential(nn.Linear(4, 8), nn.LayerNorm(8), nn.ReLU(), nn.Linear(8, 3)),
        "Softmax": nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3), nn.Softmax(-1)),
    }


@pytest.mark.parametrize("layer", ["GELU", "LayerNorm", "Softmax"])
def test_a_failed_deeplift_check_names_the_layer_without_an_exact_rule(layer: str) -> None:
    net = _nets()[layer].eval()  # type: ignore[attr-defined]
    x = torch.tensor([1.5, -2.0, 0.5, 2.5])
    att = explain.captum(net, method="deeplift").explain(x)
    assert not att.check_ok
    assert att.note is not None
    assert layer in att.note and "integrated_gradients" in att.note

    ig = explain.captum(net, method="integrated_gradients", n_steps=200).explain(x)
    assert ig.check_ok and ig.note is None
    assert abs(sum(ig.values) - (ig.output - ig.base_value)) == pytest.approx(ig.check_value)


def test_deeplift_through_relu_layers_adds_up_with_no_note() -> None:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 8), nn.Tanh(), nn.Linear(8, 3))
    att = explain.captum(net.eval(), method="deeplift").explain(torch.randn(4) * 2)
    assert att.check_ok and att.note is None
    assert sum(att.values) == pytest.approx(att.output - att.base_value, abs=1e-5)
