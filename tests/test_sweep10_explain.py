"""explain leaves the caller's program alone: global RNGs, models, inputs; odd inputs read."""

from __future__ import annotations

import random
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import explain
from explain import ExplanationInputError, ModelCallError
from tests.test_sweep4_explain_captum import mlp

torch = pytest.importorskip("torch")
pytest.importorskip("captum")
pytest.importorskip("shap")
pd = pytest.importorskip("pandas")
lgb = pytest.importorskip("lightgbm")
ensemble = pytest.importorskip("sklearn.ensemble")
linear_model = pytest.importorskip("sklearn.linear_model")

RNG = np.random.default_rng(10)
X = RNG.normal(size=(40, 6))
Y = X @ np.arange(1.0, 7.0) + np.sin(X[:, 0] * X[:, 1])


def _draws(n: int) -> np.ndarray:
    """A model's share of global randomness: it draws from all three generators, unused."""
    np.random.random_sample()
    random.random()
    torch.rand(1)
    return np.zeros(n)


def noisy(Z: np.ndarray) -> np.ndarray:
    return Z @ np.arange(1.0, 7.0) + np.tanh(Z[:, 2]) + _draws(len(Z))


class NoisyNet(torch.nn.Module):
    """An eval-mode policy drawing from the global generators in forward (noise times 0)."""

    def __init__(self) -> None:
        super().__init__()
        self.net = mlp()

    def forward(self, x: Any) -> Any:
        out = self.net(x)
        _draws(0)
        return out + 0 * torch.rand_like(out)


def _fitted() -> dict[str, Any]:
    return {
        "forest": ensemble.RandomForestRegressor(4, max_depth=3, random_state=0).fit(X, Y),
        "lightgbm": lgb.LGBMRegressor(n_estimators=5, verbose=-1).fit(X, Y),
        "linear": linear_model.LinearRegression().fit(X, Y),
        "logistic": linear_model.LogisticRegression().fit(X, Y > Y.mean()),
    }


MODELS = _fitted()
NOISY_NET = NoisyNet().eval()  # built here: mlp() seeds torch

# (name, build the explainer) for every path of explain/_shap.py and explain/_captum.py
PATHS: list[tuple[str, Callable[[], Any]]] = [
    ("linear", lambda: explain.shap(MODELS["linear"], X)),
    ("linear-decision-function", lambda: explain.shap(MODELS["logistic"], X)),
    ("tree-path-dependent", lambda: explain.shap(MODELS["forest"])),
    ("tree-interventional", lambda: explain.shap(MODELS["forest"], X)),
    ("lightgbm-native", lambda: explain.shap(MODELS["lightgbm"])),
    ("lightgbm-interventional", lambda: explain.shap(MODELS["lightgbm"], X)),
    ("exact", lambda: explain.shap(noisy, X)),
    ("permutation", lambda: explain.shap(noisy, X, algorithm="permutation")),
    ("kernel", lambda: explain.shap(noisy, X, algorithm="kernel")),
    ("torch-module-exact", lambda: explain.shap(NOISY_NET, X)),
    ("rebased", lambda: explain.shap(noisy, X).with_background(X[:5])),
    ("integrated-gradients", lambda: explain.captum(NOISY_NET)),
    ("ig-internal-batch", lambda: explain.captum(NOISY_NET, internal_batch_size=8)),
    ("deeplift", lambda: explain.captum(NOISY_NET, "deeplift")),
    ("gradient-shap", lambda: explain.captum(NOISY_NET, "gradient_shap", X)),
    (
        "gradient-shap-noise",
        lambda: explain.captum(NOISY_NET, "gradient_shap", X, stdevs=0.1),
    ),
]


def _states() -> tuple[Any, ...]:
    np_state = np.random.get_state()
    return (
        (np_state[0], np_state[1].tolist(), *np_state[2:]),
        random.getstate(),
        (torch.get_rng_state().tolist()),
    )


@pytest.mark.parametrize(("name", "build"), PATHS, ids=[name for name, _ in PATHS])
def test_every_explainer_path_leaves_the_global_generators_as_they_were(name, build) -> None:  # type: ignore[no-untyped-def]
    """A model (or torch module) drawing from numpy's, Python's or torch's global generator
    while being explained advanced them: a seeded experiment drew other numbers after."""
    np.random.seed(7)
    random.seed(7)
    torch.manual_seed(7)
    before = _states()
    explainer = build()
    assert _states() == before, "building the explainer"
    first = explainer.explain(X[3])
    assert _states() == before, "explaining"
    if hasattr(explainer, "explain_rows"):
        explainer.explain_rows(X[:2])
        explainer.predict(X[:2])
        assert _states() == before, "explain_rows / predict"
    assert explainer.explain(X[3]).values == first.values  # still seeded, deterministic


def test_ranking_explanations_leave_the_global_generators_as_they_were() -> None:
    np.random.seed(7)
    before = _states()
    explain.explain_ranking(noisy, X[:5])
    explain.explain_pair(noisy, X[0], X[1])
    assert _states() == before


def test_the_first_explanation_leaves_python_random_alone() -> None:
    """Importing shap (rich, through it) draws from Python's random: a program's first
    explanation changed its seeded random sequence."""
    code = textwrap.dedent(
        """
        import random
        import numpy as np
        import explain
        random.seed(3)
        before = random.getstate()
        explain.shap(lambda Z: Z.sum(axis=1), np.zeros((3, 2))).explain([1.0, 2.0])
        explain.Attribution.to_shap  # noqa: B018
        print(random.getstate() == before)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert out.stdout.strip() == "True", out.stderr[-2000:]


def test_seeding_for_gradient_shap_leaves_cuda_generators_alone(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """torch.manual_seed also re-seeds every CUDA device's generator, which fork_rng(devices=[])
    does not restore: a CUDA user's seeded experiment was re-seeded by an explanation."""
    net, calls = mlp(), []
    monkeypatch.setattr(torch.cuda, "manual_seed_all", calls.append)
    explain.captum(net, "gradient_shap", X, stdevs=0.1).explain(X[0])
    assert calls == []


# -- the caller's model and data are left as they were ------------------------------------


@pytest.mark.parametrize("method", ["integrated_gradients", "deeplift", "gradient_shap"])
def test_captum_leaves_the_module_and_tensors_as_they_were(method) -> None:  # type: ignore[no-untyped-def]
    net = mlp().train()  # no Dropout/BatchNorm: training mode changes nothing, allowed
    frozen = [p.requires_grad_(False) for p in net[0].parameters()]
    x, baseline = torch.ones(6), torch.zeros(2 if method == "gradient_shap" else 1, 6)
    explain.captum(net, method, baseline).explain(x)
    assert net.training and all(m.training for m in net)
    assert [p.requires_grad for p in frozen] == [False, False]
    assert all(p.grad is None for p in net.parameters())
    assert not x.requires_grad and x.grad is None and not baseline.requires_grad
    assert torch.equal(x, torch.ones(6)) and not baseline.any()


def test_shap_leaves_the_dataframe_and_arrays_as_they_were() -> None:
    df = pd.DataFrame(X[:10], columns=list("abcdef"))
    copy, x32 = df.copy(), X[0].astype(np.float32)
    explain.shap(noisy, df).explain(x32)
    explain.explain_ranking(noisy, df)
    pd.testing.assert_frame_equal(df, copy)
    assert x32.dtype == np.float32 and np.array_equal(x32, X[0].astype(np.float32))


# -- constant modules ----------------------------------------------------------------------


class Constant(torch.nn.Module):
    def forward(self, x: Any) -> Any:
        return torch.full((x.shape[0], 2), 5.0)


class Detached(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(3, 2)

    def forward(self, x: Any) -> Any:
        return self.layer(x.detach())


@pytest.mark.parametrize("method", ["integrated_gradients", "deeplift", "gradient_shap"])
def test_a_constant_module_gets_zero_attributions(method) -> None:  # type: ignore[no-untyped-def]
    """Its output has no gradient at all: Captum's RuntimeError ('element 0 of tensors does
    not require grad') came out as the explanation, where SHAP gives zeros."""
    att = explain.captum(Constant(), method, feature_names=["a", "b", "c"]).explain([1, 2, 3])
    assert att.values == [0.0, 0.0, 0.0] and att.check_ok
    assert att.output == att.base_value == 5.0


@pytest.mark.parametrize("method", ["integrated_gradients", "deeplift", "gradient_shap"])
def test_a_module_detaching_its_input_is_named_as_such(method) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ModelCallError, match="does not reach the output through autograd"):
        explain.captum(Detached().eval(), method).explain([1.0, 2.0, 3.0])


# -- pandas frames nobody here wrote -------------------------------------------------------


def _sum(Z: np.ndarray) -> np.ndarray:
    return Z.sum(axis=1)


@pytest.mark.parametrize(
    "frame",
    [
        pytest.param(pd.DataFrame({"a": [True, False, True], "b": [1, 2, 3]}), id="bool-int"),
        pytest.param(pd.DataFrame({"a": pd.array([1, 2, 3], dtype="Int64")}), id="Int64"),
        pytest.param(
            pd.DataFrame({"a": pd.array([0.5, 1.0, 2.0], dtype="Float64"), "b": [1, 2, 3]}),
            id="Float64",
        ),
        pytest.param(pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [0, 1, 0]}).astype(object), id="obj"),
    ],
)
def test_numeric_frames_of_any_dtype_are_read(frame) -> None:  # type: ignore[no-untyped-def]
    """A frame mixing bool and int columns, or pandas' nullable Int64/Float64, became an
    object array: 'background must hold numbers (bool, int or float), got dtype object'."""
    ex = explain.shap(_sum, frame)
    att = ex.explain(frame.iloc[1])
    assert att.inputs == frame.iloc[1].astype(float).tolist()
    assert att.check_ok


def test_a_missing_nullable_value_is_a_non_finite_input_for_a_black_box() -> None:
    frame = pd.DataFrame({"a": pd.array([1, None, 3], dtype="Int64"), "b": [1.0, 2.0, 3.0]})
    with pytest.raises(ExplanationInputError, match="non-finite values .* at a=nan"):
        explain.shap(_sum, frame)


def test_a_non_number_in_a_frame_is_still_named_with_its_column() -> None:
    frame = pd.DataFrame({"a": [1.0, 2.0], "b": ["x", "y"]})
    with pytest.raises(
        explain.ExplanationTypeError, match=r"row 0, column 'b' holds a str \(text\)"
    ) as info:
        explain.shap(_sum, frame)
    assert "'x'" not in str(info.value)  # the value is recorded nowhere: only its type


def test_lightgbm_trained_on_columns_with_spaces_reads_that_frame() -> None:
    """LightGBM renames 'price usd' to 'price_usd': the frame it was trained on was refused
    ('labels are not the model's features; missing ['price_usd'], unexpected ['price usd']')."""
    df = pd.DataFrame(X[:, :3], columns=["price usd", "a.b", "ä"])
    model = lgb.LGBMRegressor(n_estimators=5, verbose=-1).fit(df, Y)
    want = explain.shap(model, df.to_numpy()).explain(df.to_numpy()[0])
    got = explain.shap(model, df).explain(df.iloc[0])
    assert got.values == want.values and got.feature_names == ["price_usd", "a.b", "ä"]
    assert explain.shap(model).explain(df.iloc[0][::-1]).inputs == want.inputs
    assert explain.explain_ranking(model, df.iloc[:3])[0].check_ok


def test_explanations_in_threads_leave_the_generators_and_each_other_alone() -> None:
    """Explanations of SHAP and Captum in several threads at once (the documented case:
    one explanation holds the generators at a time) give their single-thread values and
    leave the generators as they were once all are done."""
    kernel = explain.shap(noisy, X, algorithm="kernel", max_evals=200)
    gradient = explain.captum(NOISY_NET, "gradient_shap", X, stdevs=0.1)
    want = (kernel.explain(X[1]).values, gradient.explain(X[1]).values)
    np.random.seed(7)
    before, got = _states(), []

    def work() -> None:
        got.extend((kernel.explain(X[1]).values, gradient.explain(X[1]).values) for _ in range(3))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert got == [want] * 12
    assert _states() == before
