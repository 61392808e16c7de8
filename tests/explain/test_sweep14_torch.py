"""Sweep 14: torch models as an ML engineer explains them (argmax targets, tuple outputs)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import explain

torch = pytest.importorskip("torch")


def _policy() -> Any:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3)).eval()


X = [[0.2, 0.9, 0.1, 0.5]]


@pytest.mark.parametrize("build", ["captum", "shap"])
def test_the_target_may_be_the_argmax_tensor_of_the_policys_scores(build: str) -> None:
    """`explain(x, target=scores.argmax())` said "target must be an int output index,
    got tensor(2)": a 0-d integer tensor (or numpy array) is an index like an int."""
    net = _policy()
    ex = explain.captum(net) if build == "captum" else explain.shap(net, np.zeros((2, 4)))
    with torch.no_grad():
        scores = net(torch.tensor(X))[0]
    for target in (scores.argmin(), np.array(int(scores.argmin()))):
        a = ex.explain(X, target=target)
        assert a.target == int(scores.argmin())
        assert a.output == pytest.approx(float(scores.min()), abs=1e-6)
    if build == "captum":
        assert ex.explain(X, target=scores.argmax(), versus=scores.argmin()).versus == int(
            scores.argmin()
        )


@pytest.mark.parametrize(
    "target",
    [
        pytest.param(torch.tensor(1.0), id="float-tensor"),
        pytest.param(torch.tensor(True), id="bool-tensor"),
        pytest.param(torch.tensor([1, 2]), id="two-indices"),
        pytest.param(np.True_, id="numpy-bool"),
        pytest.param(1.0, id="float"),
    ],
)
def test_a_target_that_is_not_one_integer_is_still_refused(target: Any) -> None:
    with pytest.raises(explain.ExplanationTypeError, match="target must be an int output index"):
        explain.captum(_policy()).explain(X, target=target)


class _ActorCritic(torch.nn.Module):  # type: ignore[misc]
    """A policy returning its action logits and a state value, as actor-critic agents do."""

    def __init__(self) -> None:
        super().__init__()
        self.body = torch.nn.Linear(4, 3)

    def forward(self, x: Any) -> Any:
        logits = self.body(x)
        return logits, logits.sum(-1)


@pytest.mark.parametrize("build", ["captum", "shap"])
def test_a_module_returning_a_tuple_is_told_to_return_one_tensor(build: str) -> None:
    """explain.shap blamed the model: "_ActorCritic raised AttributeError: 'tuple' object
    has no attribute 'detach'"."""
    with pytest.raises(explain.ModelCallError) as info:
        if build == "captum":
            explain.captum(_ActorCritic())
        else:
            explain.shap(_ActorCritic(), np.zeros((2, 4)))
    message = str(info.value)
    assert "module returned a tuple, expected one tensor" in message
    assert "AttributeError" not in message
