"""Captum: DeepLift never hooks the caller's module (threads, errors), and odd modules and
arguments give specific errors; values are checked by completeness, not snapshots."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import explain
from explain import ExplanationInputError, ModelCallError

torch = pytest.importorskip("torch")
pytest.importorskip("captum")
nn = torch.nn


def _state(module) -> dict:
    """Everything DeepLift could leave behind: hooks of every kind and instance attributes."""
    return {
        name: (
            {k: dict(getattr(m, k)) for k in vars(m) if k.endswith("hooks")},
            sorted(vars(m)),
        )
        for name, m in module.named_modules()
    }


def _net() -> nn.Module:
    torch.manual_seed(0)
    layers = [nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 3)]
    return nn.Sequential(*layers)


class _Spy(nn.Module):
    """Records, from inside its own forward, whether the caller's ReLU carries hooks."""

    def __init__(self) -> None:
        super().__init__()
        self.inner, self.act, self.out = nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2)
        self.hooked: list[int] = []
        self.original: list[nn.Module] = [self]  # a plain list: not a registered submodule

    def forward(self, x):
        act = self.original[0].act
        self.hooked.append(len(act._forward_hooks) + len(act._forward_pre_hooks))
        return self.out(self.act(self.inner(x)))


def test_deeplift_never_hooks_the_callers_module() -> None:
    spy = _Spy().eval()
    a = explain.captum(spy, "deeplift").explain(np.ones(4), 0)
    assert a.check_ok
    # While DeepLift ran, the caller's own layers carried its hooks and tensors: any forward
    # pass of the policy elsewhere (another thread deciding) went through them.
    assert spy.hooked and max(spy.hooked) == 0


def test_deeplift_from_several_threads_matches_one_thread() -> None:
    net = _net().eval()
    before = _state(net)
    ex = explain.captum(net, "deeplift")
    xs = [np.random.default_rng(i).normal(size=6) for i in range(30)]
    expected = [ex.explain(x, 1).values for x in xs]
    errors: list[str] = []
    wrong: list[int] = []

    def work() -> None:
        for j, x in enumerate(xs):
            try:
                if not np.allclose(ex.explain(x, 1).values, expected[j], atol=1e-6):
                    wrong.append(j)
                with torch.no_grad():  # the policy deciding meanwhile, in the same thread pool
                    net(torch.as_tensor(x, dtype=torch.float32)[None])
            except Exception as exc:  # noqa: BLE001 - collected and asserted below
                errors.append(repr(exc))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and wrong == []
    assert _state(net) == before


class _FailsWithGrad(nn.Module):
    """Runs under no_grad (the construction check) but raises once gradients are tracked,
    after its ReLU has run: the point where DeepLift has stored tensors on it."""

    def __init__(self) -> None:
        super().__init__()
        self.inner, self.act, self.out = nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2)

    def forward(self, x):
        h = self.act(self.inner(x))
        if x.requires_grad:
            raise RuntimeError("no gradients here")
        return self.out(h)


def test_a_failed_deeplift_leaves_the_module_exactly_as_it_was() -> None:
    module = _FailsWithGrad().eval()
    before = _state(module)
    ex = explain.captum(module, "deeplift")
    with pytest.raises(ModelCallError, match="no gradients here"):
        ex.explain(np.ones(4), 0)
    assert _state(module) == before  # the ReLU kept DeepLift's `input` and `output` tensors
    assert not hasattr(module.act, "input")


def test_deeplift_reads_the_modules_current_weights() -> None:
    net = _net().eval()
    ex = explain.captum(net, "deeplift")
    x = np.linspace(-1, 1, 6)
    first = ex.explain(x, 2)
    with torch.no_grad():
        net[4].weight.mul_(2.0)
        net[4].bias.mul_(2.0)
    second = ex.explain(x, 2)
    assert second.check_ok and second.output == pytest.approx(2 * first.output, rel=1e-5)
    np.testing.assert_allclose(second.values, 2 * np.asarray(first.values), rtol=1e-4, atol=1e-6)


class _ArgMax(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.inner = nn.Linear(4, 3)

    def forward(self, x):
        return self.inner(x).argmax(dim=1)


def test_a_module_returning_integers_is_refused_when_built() -> None:
    with pytest.raises(ModelCallError, match="floating-point"):
        explain.captum(_ArgMax().eval())  # failed per call: "does not require grad"


@pytest.mark.parametrize(
    ("options", "needle"),
    [
        pytest.param({"stdevs": -1.0}, "stdevs must be a finite number >= 0", id="negative"),
        pytest.param({"stdevs": float("nan")}, "stdevs must be a finite number >= 0", id="nan"),
        pytest.param({"stdevs": "a"}, "stdevs must be a finite number >= 0", id="str"),
        pytest.param({"seed": "a"}, "seed must be an int", id="seed-str"),
        pytest.param({"seed": 1.5}, "seed must be an int", id="seed-float"),
    ],
)
def test_gradient_shap_options_are_checked_when_built(options, needle) -> None:
    with pytest.raises(ExplanationInputError, match=needle):
        explain.captum(_net().eval(), "gradient_shap", **options)


@pytest.mark.parametrize("method", ["integrated_gradients", "deeplift", "gradient_shap"])
@pytest.mark.parametrize(
    "x",
    [
        pytest.param(np.array([1, -2, 0, 3, 1, 2]), id="int"),
        pytest.param(np.linspace(-1, 1, 6)[None, :], id="2d-one-row"),
        pytest.param(torch.linspace(-1, 1, 6, dtype=torch.float64), id="float64-tensor"),
    ],
)
def test_odd_but_valid_inputs_are_complete(method, x) -> None:
    a = explain.captum(_net().eval(), method).explain(x, 1)
    assert a.check_ok
    assert sum(a.values) == pytest.approx(a.output - a.base_value, abs=0.01)


def test_noisy_gradient_shap_from_several_threads_gives_its_seeded_values() -> None:
    baseline = np.random.default_rng(0).normal(size=(50, 6))
    ex = explain.captum(_net().eval(), "gradient_shap", baseline=baseline, stdevs=0.1)
    x = np.ones(6)
    expected = ex.explain(x, 1).values
    results: list[list[float]] = []

    def work() -> None:
        results.extend(ex.explain(x, 1).values for _ in range(20))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Each call re-seeded numpy's and torch's global generators: threads interleaved draws.
    assert len(results) == 80
    assert all(np.allclose(values, expected) for values in results)
