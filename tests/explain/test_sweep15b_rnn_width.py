"""Sweep 15b: explain.captum of a recurrent policy without feature_names or baseline.

The input width was guessed from the first registered layer with `in_features`, skipping
a GRU/LSTM (which has `input_size`): a GRU over 4 features followed by a Linear(6, 2) head
was called on a 6-feature baseline and refused ("Expected 4, got 6"). The GRU's
input_size is now read; the explanation passes its completeness check (Integrated
Gradients' values add up to f(x) - f(0), computed here from the module itself).
"""

from __future__ import annotations

import pytest

import explain

torch = pytest.importorskip("torch")


class Recurrent(torch.nn.Module):  # type: ignore[misc]
    def __init__(self, cell: type) -> None:
        super().__init__()
        self.rnn = cell(4, 6, batch_first=True)
        self.head = torch.nn.Linear(6, 2)

    def forward(self, x: object) -> object:
        out, _ = self.rnn(x.unsqueeze(1))  # type: ignore[attr-defined]
        return self.head(out[:, -1])


@pytest.mark.parametrize("cell", ["GRU", "LSTM", "RNN"])
def test_a_recurrent_policy_is_explained_over_its_input_size(cell: str) -> None:
    torch.manual_seed(0)
    net = Recurrent(getattr(torch.nn, cell)).eval()
    x = torch.tensor([0.5, -1.0, 2.0, 0.25])
    explainer = explain.captum(net, n_steps=200)
    assert explainer.feature_names == ["x0", "x1", "x2", "x3"]
    att = explainer.explain(x, target=1)
    with torch.no_grad():
        change = float(net(x[None, :])[0, 1] - net(torch.zeros(1, 4))[0, 1])
    assert sum(att.values) == pytest.approx(change, abs=1e-4)
    assert att.check_ok
