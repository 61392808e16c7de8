"""Captum attributions of models nobody here wrote: dtypes, modes, grad contexts, masks."""

from __future__ import annotations

import numpy as np
import pytest

import explain
from explain import ExplanationInputError, ModelCallError

torch = pytest.importorskip("torch")
pytest.importorskip("captum")


def mlp(dtype=torch.float32, seed: int = 0, extra=()) -> torch.nn.Module:  # type: ignore[no-untyped-def]
    torch.manual_seed(seed)
    layers = [torch.nn.Linear(6, 16), torch.nn.Tanh(), *extra, torch.nn.Linear(16, 3)]
    return torch.nn.Sequential(*layers).to(dtype).eval()


def outputs(net: torch.nn.Module, rows: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return net(torch.as_tensor(rows, dtype=torch.float64)).numpy()


@pytest.mark.parametrize("seed", [pytest.param(s, id=f"seed{s}") for s in range(4)])
def test_gradient_shap_passes_its_own_check_at_the_defaults(seed: int) -> None:
    """Captum's GradientShap (one random path point per sample) missed f(x) - E f by
    ~3% at n_samples=32: check_ok was False on almost every call."""
    net = mlp(torch.float64, seed)
    rng = np.random.default_rng(seed)
    background, x = rng.normal(size=(20, 6)), rng.normal(size=6)
    att = explain.captum(net, method="gradient_shap", baseline=background).explain(x)
    k = att.target
    expected = outputs(net, x[None])[0, k] - outputs(net, background)[:, k].mean()
    assert att.check_ok and att.estimate == "approximate"
    assert sum(att.values) == pytest.approx(expected, abs=1e-3)
    assert att.base_value == pytest.approx(outputs(net, background)[:, k].mean())


@pytest.mark.parametrize(
    ("rows", "stdevs", "estimate"),
    [
        pytest.param(20, 0.0, "approximate", id="every-row"),
        pytest.param(50, 0.0, "sampled", id="more-rows-than-n-samples"),
        pytest.param(20, 0.5, "sampled", id="noise"),
    ],
)
def test_gradient_shap_says_when_it_sampled(rows: int, stdevs: float, estimate: str) -> None:
    background = np.random.default_rng(1).normal(size=(rows, 6))
    ex = explain.captum(mlp(), method="gradient_shap", baseline=background, stdevs=stdevs)
    att = ex.explain(np.ones(6))
    assert att.estimate == estimate
    if stdevs == 0:  # the base value is the mean over the rows actually used
        assert att.check_ok


@pytest.mark.parametrize(
    "dtype",
    [
        pytest.param(torch.float16, id="float16"),
        pytest.param(torch.bfloat16, id="bfloat16"),
        pytest.param(torch.float64, id="float64"),
    ],
)
@pytest.mark.parametrize("method", ["integrated_gradients", "deeplift", "gradient_shap"])
def test_half_precision_modules_are_explained(dtype: object, method: str) -> None:
    """GradientShap failed on float16/bfloat16 modules (its float32 samples met half weights)."""
    background = np.random.default_rng(2).normal(size=(4, 6))
    baseline = background if method == "gradient_shap" else None
    att = explain.captum(mlp(dtype), method=method, baseline=baseline).explain(np.ones(6))
    assert len(att.values) == 6 and att.check_ok


@pytest.mark.parametrize(
    "context",
    [
        pytest.param(lambda: torch.inference_mode(), id="inference-mode"),
        pytest.param(lambda: torch.no_grad(), id="no-grad"),
        pytest.param(lambda: torch.enable_grad(), id="grad"),
    ],
)
@pytest.mark.parametrize("method", ["integrated_gradients", "deeplift", "gradient_shap"])
def test_explained_inside_the_callers_grad_context(context, method: str) -> None:  # type: ignore[no-untyped-def]
    """Under torch.inference_mode() every method failed ('element 0 of tensors does not
    require grad'): a policy run that way had its attribution always unavailable."""
    ex = explain.captum(mlp(), method=method)
    with context():
        att = ex.explain(torch.ones(1, 6))
    assert att.check_ok
    assert torch.is_grad_enabled()


@pytest.mark.parametrize(
    ("extra", "train", "refused"),
    [
        pytest.param((torch.nn.Dropout(0.5),), True, "Dropout '2'", id="dropout-train"),
        pytest.param((torch.nn.BatchNorm1d(16),), True, "BatchNorm1d '2'", id="batchnorm-train"),
        pytest.param((torch.nn.Dropout(0.5),), False, None, id="dropout-eval"),
        pytest.param((torch.nn.BatchNorm1d(16),), False, None, id="batchnorm-eval"),
        pytest.param((torch.nn.Dropout(0.0),), True, None, id="dropout-p0-train"),
        pytest.param((), True, None, id="plain-train"),
    ],
)
def test_a_module_in_training_mode_is_refused_not_explained_at_random(
    extra: tuple, train: bool, refused: str | None
) -> None:
    """A train-mode Dropout gave a different attribution on every call (check_value
    0.12, 0.015, 0.07 for one input), and BatchNorm in training mode changed the caller's
    running statistics while being explained."""
    net = mlp(extra=extra)
    ex = explain.captum(net)  # built in eval mode
    net.train(train)
    state = {k: v.clone() for k, v in net.state_dict().items()}
    if refused is None:
        first, second = ex.explain(np.ones(6)), ex.explain(np.ones(6))
        assert first.values == second.values
    else:
        with pytest.raises(ExplanationInputError, match=f"training mode \\({refused}\\).*eval"):
            ex.explain(np.ones(6))
        with pytest.raises(ExplanationInputError, match="training mode"):
            explain.captum(net)
    assert net.training is train
    assert all(torch.equal(v, net.state_dict()[k]) for k, v in state.items())


@pytest.mark.parametrize("method", ["integrated_gradients", "deeplift", "gradient_shap"])
def test_the_callers_module_and_input_are_left_as_they_were(method: str) -> None:
    net = mlp()
    for p in net[0].parameters():
        p.requires_grad_(False)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    x = torch.ones(1, 6, requires_grad=True)
    explain.captum(net, method=method).explain(x)
    assert [p.requires_grad for p in net.parameters()] == [False, False, True, True]
    assert all(p.grad is None for p in net.parameters())
    assert all(torch.equal(v, net.state_dict()[k]) for k, v in before.items())
    assert x.grad is None and torch.equal(x, torch.ones(1, 6)) and not net.training


class Masked(torch.nn.Module):
    """A policy that masks action 0 with -inf, as action masking does."""

    def __init__(self, fill: float) -> None:
        super().__init__()
        self.net, self.fill = mlp(), fill

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.net(x)
        return torch.cat([torch.full_like(out[:, :1], self.fill), out[:, 1:]], dim=1)


@pytest.mark.parametrize(
    ("fill", "target", "error"),
    [
        pytest.param(-float("inf"), None, None, id="masked-other-action"),
        pytest.param(-float("inf"), 0, "output 0 is not finite", id="masked-target"),
        pytest.param(float("nan"), None, "NaN or \\+inf", id="nan"),
        pytest.param(float("inf"), None, "NaN or \\+inf", id="plus-inf"),
    ],
)
def test_a_masked_action_does_not_stop_the_others_being_explained(
    fill: float, target: int | None, error: str | None
) -> None:
    """Any -inf output was 'module output contains NaN or inf': a policy that masks
    illegal actions could never be explained."""
    if error is not None and target is None:
        with pytest.raises(ModelCallError, match=error):
            explain.captum(Masked(fill))
        return
    ex = explain.captum(Masked(fill))
    if error is None:
        att = ex.explain(np.ones(6), target)
        assert att.target != 0 and att.check_ok
    else:
        with pytest.raises(ModelCallError, match=error):
            ex.explain(np.ones(6), target)
