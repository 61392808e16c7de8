"""Sweep 15: layers that drop out by a rate of their own, with no Dropout submodule.

A stacked GRU/LSTM (`dropout=` between its layers) or a MultiheadAttention (`dropout=` on
its attention weights) in training mode makes every forward pass random. The training-mode
check looked only for Dropout and BatchNorm modules, so such a policy was explained from
random outputs: values changed from seed to seed, and `check_ok` could still be True.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import explain

torch = pytest.importorskip("torch")
pytest.importorskip("captum")

X = [0.5, 1.0, -1.0, 2.0]
NAMES = ["a", "b", "c", "d"]


class Recurrent(torch.nn.Module):  # type: ignore[misc]
    def __init__(self, kind: Any) -> None:
        super().__init__()
        self.rnn = kind(1, 8, num_layers=2, dropout=0.5, batch_first=True)
        self.out = torch.nn.Linear(8, 3)

    def forward(self, x: Any) -> Any:
        steps, _ = self.rnn(x[:, :, None])
        return self.out(steps[:, -1])


class Attention(torch.nn.Module):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__()
        self.embed = torch.nn.Linear(1, 8)
        self.attn = torch.nn.MultiheadAttention(8, 2, dropout=0.5, batch_first=True)
        self.out = torch.nn.Linear(8, 3)

    def forward(self, x: Any) -> Any:
        h = self.embed(x[:, :, None])
        mixed, _ = self.attn(h, h, h)
        return self.out(mixed.mean(1))


def _models() -> list[tuple[str, Any]]:
    torch.manual_seed(0)
    return [
        ("GRU 'rnn'", Recurrent(torch.nn.GRU)),
        ("LSTM 'rnn'", Recurrent(torch.nn.LSTM)),
        ("MultiheadAttention 'attn'", Attention()),
    ]


def _build(how: str, module: Any) -> Any:
    if how == "captum":
        return explain.captum(module, feature_names=NAMES)
    return explain.shap(module, np.zeros((1, 4)), feature_names=NAMES)


@pytest.mark.parametrize("how", ["captum", "shap"])
@pytest.mark.parametrize(("layer", "module"), _models())
def test_a_layer_with_its_own_dropout_in_training_mode_is_refused(
    how: str, layer: str, module: Any
) -> None:
    module.train()
    with pytest.raises(explain.ExplanationInputError, match=f"training mode \\({layer}\\).*eval"):
        _build(how, module)
    assert module.training  # the caller's mode is left as it was


@pytest.mark.parametrize("how", ["captum", "shap"])
@pytest.mark.parametrize(("layer", "module"), _models())
def test_in_eval_mode_the_same_layer_is_explained_and_repeats(
    how: str, layer: str, module: Any
) -> None:
    module.eval()
    first = _build(how, module).explain(X, target=0)
    again = _build(how, module).explain(X, target=0)

    with torch.no_grad():
        out = module(torch.tensor([X, [0.0] * 4]))[:, 0].double().numpy()
    assert first.output == pytest.approx(out[0], abs=1e-6)
    assert sum(first.values) == pytest.approx(out[0] - out[1], abs=1e-3)
    assert first.values == again.values
    assert not module.training


def test_a_one_layer_rnn_with_a_dropout_rate_is_not_refused() -> None:
    """torch applies an RNN's dropout only between layers: one layer is deterministic."""
    torch.manual_seed(0)
    with pytest.warns(UserWarning, match="dropout"):
        rnn = torch.nn.GRU(1, 8, num_layers=1, dropout=0.5, batch_first=True)

    class Last(torch.nn.Module):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.rnn = rnn
            self.out = torch.nn.Linear(8, 2)

        def forward(self, x: Any) -> Any:
            steps, _ = self.rnn(x[:, :, None])
            return self.out(steps[:, -1])

    net = Last().train()
    first = explain.captum(net, feature_names=NAMES).explain(X, target=0)
    again = explain.captum(net, feature_names=NAMES).explain(X, target=0)
    assert first.values == again.values
    assert first.check_ok


class FunctionalDropout(torch.nn.Module):  # type: ignore[misc]
    """Drops out with F.dropout in training mode: no Dropout module to be seen."""

    def __init__(self) -> None:
        super().__init__()
        self.hidden = torch.nn.Linear(4, 16)
        self.out = torch.nn.Linear(16, 3)

    def forward(self, x: Any) -> Any:
        h = torch.tanh(self.hidden(x))
        return self.out(torch.nn.functional.dropout(h, 0.5, self.training))


@pytest.mark.parametrize("how", ["captum", "shap"])
def test_a_module_random_in_training_mode_without_a_dropout_module_is_refused(how: str) -> None:
    torch.manual_seed(0)
    module = FunctionalDropout()
    state = torch.get_rng_state()

    with pytest.raises(explain.ExplanationInputError, match="outputs are random.*eval"):
        _build(how, module)

    assert module.training
    assert torch.equal(torch.get_rng_state(), state)  # the caller's generator is untouched
    module.eval()
    att = _build(how, module).explain(X, target=0)
    with torch.no_grad():
        out = module(torch.tensor([X, [0.0] * 4]))[:, 0].double().numpy()
    assert sum(att.values) == pytest.approx(out[0] - out[1], abs=1e-3)


@pytest.mark.parametrize("how", ["captum", "shap"])
def test_a_deterministic_module_in_training_mode_is_still_explained(how: str) -> None:
    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))

    att = _build(how, module).explain(X)

    assert module.training and att.check_ok
