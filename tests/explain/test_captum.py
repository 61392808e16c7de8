from __future__ import annotations

import numpy as np
import pytest

import explain
from explain import ExplanationInputError, ExplanationTypeError, ModelCallError

torch = pytest.importorskip("torch")
pytest.importorskip("captum")


def mlp(n_in: int = 8, n_out: int = 4, seed: int = 0, dtype=torch.float64) -> torch.nn.Module:
    torch.manual_seed(seed)
    return torch.nn.Sequential(
        torch.nn.Linear(n_in, 32),
        torch.nn.Tanh(),
        torch.nn.Linear(32, 32),
        torch.nn.ReLU(),
        torch.nn.Linear(32, n_out),
    ).to(dtype)


def linear(n_in: int = 6, n_out: int = 3, seed: int = 1) -> torch.nn.Linear:
    torch.manual_seed(seed)
    return torch.nn.Linear(n_in, n_out).double()


def forward(net: torch.nn.Module, x: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return net(torch.as_tensor(x[None, :], dtype=torch.float64))[0].numpy()


METHODS = [
    pytest.param("integrated_gradients", id="ig"),
    pytest.param("deeplift", id="deeplift"),
]


@pytest.mark.parametrize("method", METHODS)
def test_linear_net_attribution_is_weight_times_input_difference(method) -> None:
    net = linear()
    rng = np.random.default_rng(0)
    x, baseline = rng.normal(size=6), rng.normal(size=6)
    ex = explain.captum(net, method=method, baseline=baseline)
    w = net.weight.detach().numpy()
    for target in range(3):
        att = ex.explain(x, target=target)
        np.testing.assert_allclose(att.values, w[target] * (x - baseline), atol=1e-7)
        assert att.target == target
        assert att.baseline == pytest.approx(list(baseline))
        assert att.check_ok


@pytest.mark.parametrize("seed", [pytest.param(s, id=f"seed{s}") for s in range(3)])
def test_integrated_gradients_completeness_on_mlp(seed) -> None:
    net = mlp(seed=seed)
    x = np.random.default_rng(seed).normal(size=8)
    att = explain.captum(net, n_steps=32).explain(x)
    out = forward(net, x)
    zero = forward(net, np.zeros(8))
    k = int(np.argmax(out))
    assert att.target == k  # default target: the action the policy would choose
    assert att.output == pytest.approx(out[k])
    assert att.base_value == pytest.approx(zero[k])
    assert sum(att.values) == pytest.approx(out[k] - zero[k], abs=5e-3)  # ReLU kinks, 32 steps
    assert att.check_name == "convergence_delta"
    assert att.check_value == pytest.approx(abs(sum(att.values) - (out[k] - zero[k])))
    assert att.check_ok


@pytest.mark.parametrize("method", METHODS)
def test_contrastive_sums_to_output_difference(method) -> None:
    net = mlp()
    x = np.random.default_rng(7).normal(size=8)
    att = explain.captum(net, method=method).explain(x, target=1, versus=3)
    out, zero = forward(net, x), forward(net, np.zeros(8))
    expected = (out[1] - out[3]) - (zero[1] - zero[3])
    assert att.output == pytest.approx(out[1] - out[3])
    assert sum(att.values) == pytest.approx(expected, abs=5e-3)
    assert (att.target, att.versus) == (1, 3)
    assert att.check_ok


def test_contrastive_on_linear_net_is_weight_difference() -> None:
    net = linear()
    x = np.random.default_rng(8).normal(size=6)
    att = explain.captum(net).explain(x, target=0, versus=2)
    w = net.weight.detach().numpy()
    np.testing.assert_allclose(att.values, (w[0] - w[2]) * x, atol=1e-7)


def test_flags_an_unconverged_integral() -> None:
    torch.manual_seed(3)
    net = torch.nn.Sequential(torch.nn.Linear(4, 64), torch.nn.ReLU(), torch.nn.Linear(64, 1))
    with torch.no_grad():
        net[0].weight.mul_(25.0)  # sharp kinks: one step cannot integrate them
    ex = explain.captum(net, n_steps=1, tolerance=1e-6)
    att = ex.explain(np.array([1.0, -2.0, 0.5, 3.0]))
    assert att.check_value > 1e-6
    assert not att.check_ok


def test_gradient_shap_is_seeded_and_near_complete() -> None:
    net = mlp()
    rng = np.random.default_rng(9)
    background, x = rng.normal(size=(20, 8)), rng.normal(size=8)
    ex = explain.captum(net, method="gradient_shap", baseline=background, n_samples=64)
    first, second = ex.explain(x), ex.explain(x)
    assert first.values == second.values
    assert first.baseline is None
    out = forward(net, x)[first.target]
    means = np.mean([forward(net, b)[first.target] for b in background])
    assert first.base_value == pytest.approx(means)
    assert sum(first.values) == pytest.approx(out - means, abs=0.5)


def test_float32_module_and_tensor_input() -> None:
    net = mlp(dtype=torch.float32)
    x = torch.randn(8)
    att = explain.captum(net).explain(x)
    assert len(att.values) == 8 and att.check_ok


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        pytest.param({"method": "lime"}, ExplanationInputError, "unknown method", id="method"),
        pytest.param({"n_steps": 0}, ExplanationInputError, "n_steps", id="n-steps"),
        pytest.param(
            {"baseline": np.zeros((2, 8))}, ExplanationInputError, "one baseline row", id="rows"
        ),
        pytest.param(
            {"baseline": [np.nan] * 8}, ExplanationInputError, "non-finite", id="nan-baseline"
        ),
    ],
)
def test_bad_configuration(kwargs, error, match) -> None:
    with pytest.raises(error, match=match):
        explain.captum(mlp(), **kwargs)


def test_not_a_module() -> None:
    with pytest.raises(ExplanationTypeError, match="torch.nn.Module"):
        explain.captum(lambda x: x)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        pytest.param(
            lambda ex: ex.explain(np.zeros(8), target=4),
            ExplanationInputError,
            "out of range",
            id="target",
        ),
        pytest.param(
            lambda ex: ex.explain(np.zeros(8), target=1, versus=1),
            ExplanationInputError,
            "target itself",
            id="versus-self",
        ),
        pytest.param(
            lambda ex: ex.explain(np.zeros(7)), ExplanationInputError, "7 features", id="width"
        ),
        pytest.param(lambda ex: ex.explain(["a"] * 8), ExplanationTypeError, "dtype", id="strings"),
    ],
)
def test_bad_calls(call, error, match) -> None:
    with pytest.raises(error, match=match):
        call(explain.captum(mlp()))


def test_module_that_raises() -> None:
    class Broken(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = torch.nn.Linear(3, 2)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            raise RuntimeError("policy crashed")

    with pytest.raises(ModelCallError, match="policy crashed"):
        explain.captum(Broken()).explain([1.0, 2.0, 3.0])


@pytest.mark.parametrize(
    "batch", [pytest.param(None, id="one-batch"), pytest.param(8, id="batched")]
)
def test_integrated_gradients_equals_captums_public_api(batch) -> None:
    # The explainer reuses Captum's Gauss-Legendre nodes; results must not change.
    from captum.attr import IntegratedGradients

    net = mlp(dtype=torch.float32)
    x = torch.randn(1, 8, generator=torch.Generator().manual_seed(5))
    ours = explain.captum(net, n_steps=32, internal_batch_size=batch).explain(x, target=2)

    class Pick(torch.nn.Module):
        def forward(self, inp: torch.Tensor) -> torch.Tensor:
            return net(inp)[:, 2]

    theirs = IntegratedGradients(Pick()).attribute(
        x, baselines=torch.zeros(1, 8), n_steps=32, method="gausslegendre"
    )
    np.testing.assert_allclose(ours.values, theirs[0].detach().numpy(), rtol=1e-5, atol=1e-7)


def _policy() -> torch.nn.Module:
    return torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.Tanh(), torch.nn.Linear(16, 3))


@pytest.mark.parametrize(
    ("module", "kwargs", "match"),
    [
        pytest.param(
            _policy,
            {"baseline": np.zeros(3)},
            "baseline has 3 features but the module expects 4",
            id="baseline",
        ),
        pytest.param(
            _policy,
            {"baseline": torch.zeros(1, 5)},
            "baseline has 5 features but the module expects 4",
            id="tensor-baseline",
        ),
        pytest.param(
            _policy,
            {"feature_names": ["a", "b"]},
            "feature_names has 2 names but the module expects 4 features",
            id="names",
        ),
        pytest.param(
            lambda: torch.nn.Sequential(torch.nn.Dropout(0.1), torch.nn.Linear(6, 2)),
            {"baseline": np.zeros(4)},
            "baseline has 4 features but the module expects 6",
            id="past-dropout",
        ),
        pytest.param(
            lambda: torch.nn.Linear(6, 2),
            {"feature_names": list("abcde")},
            "5 names but the module expects 6",
            id="bare-linear",
        ),
        pytest.param(
            lambda: torch.nn.Identity(),
            {"feature_names": list("abc"), "baseline": np.zeros(4)},
            "baseline has 4 features but feature_names has 3 names",
            id="names-vs-baseline",
        ),
    ],
)
def test_wrong_width_is_an_input_error_at_construction(module, kwargs, match) -> None:
    with pytest.raises(ExplanationInputError, match=match):
        explain.captum(module(), **kwargs)


class _SlicesItsInput(torch.nn.Module):
    """Takes 4 features but registers a 3-wide Linear: its width cannot be read off it."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = torch.nn.Linear(3, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.fc(x[:, :3])) + 0 * x[:, 3:4]


def test_custom_module_width_is_not_guessed_when_the_caller_gives_it() -> None:
    att = explain.captum(_SlicesItsInput(), feature_names=list("abcd")).explain([1, 2, 3, 4.0])
    assert att.values[3] == 0.0 and att.check_ok


def test_custom_module_of_another_width_fails_with_a_hint() -> None:
    class Custom(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = torch.nn.Linear(8, 2)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.fc(x)

    with pytest.raises(ModelCallError, match=r"module raised RuntimeError.*5-feature baseline"):
        explain.captum(Custom(), feature_names=[f"f{i}" for i in range(5)])


@pytest.mark.parametrize(
    ("versus", "error", "match"),
    [
        pytest.param(7, ExplanationInputError, r"versus 7 is out of range.*3 outputs", id="high"),
        pytest.param(-1, ExplanationInputError, "versus -1 is out of range", id="negative"),
        pytest.param(1.0, ExplanationTypeError, "versus must be an int", id="float"),
        pytest.param(True, ExplanationTypeError, "versus must be an int", id="bool"),
    ],
)
def test_bad_versus_is_named(versus, error, match) -> None:
    with pytest.raises(error, match=match):
        explain.captum(_policy()).explain(np.ones(4), 0, versus=versus)


def test_feature_names_as_one_string_is_refused() -> None:
    with pytest.raises(ExplanationTypeError, match="not the single string 'abcd'"):
        explain.captum(_policy(), feature_names="abcd")


@pytest.mark.parametrize(
    ("method", "estimate"),
    [
        pytest.param("integrated_gradients", "approximate", id="ig"),
        pytest.param("deeplift", "exact", id="deeplift"),
        pytest.param("gradient_shap", "approximate", id="gradient-shap"),
    ],
)
def test_estimate_names_how_the_values_were_computed(method, estimate) -> None:
    assert explain.captum(mlp(), method=method).explain(np.ones(8)).estimate == estimate
