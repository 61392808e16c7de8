"""Captum backend: gradient attributions for torch policies, per action and contrastive."""

from __future__ import annotations

import functools
import inspect
import math
import time
import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from explain._errors import (
    ExplanationError,
    ExplanationInputError,
    ExplanationTypeError,
    ModelCallError,
    kind_of,
    missing_dependency,
)
from explain._models import Attribution, Estimate, check_passes
from explain._rng import isolated_rng
from explain._validate import (
    FeatureInput,
    Matrix,
    as_matrix,
    as_row,
    check_names,
    check_positive,
    check_seed,
    check_unique_labels,
    labels_of,
    mapping_rows,
    one_row_outputs,
    pick_target,
    sample_rows,
)

if TYPE_CHECKING:
    import torch

CaptumMethod = Literal["integrated_gradients", "deeplift", "gradient_shap"]
CAPTUM_METHODS: tuple[str, ...] = CaptumMethod.__args__  # type: ignore[attr-defined]
DEFAULT_TOLERANCE = 0.01
# IG integrates by quadrature; GradientSHAP averages that integral over the baseline rows
# (sampled when only some rows are used, or with noise); DeepLift's rescale rule is exact.
_ESTIMATES: dict[str, Estimate] = {
    "integrated_gradients": "approximate",
    "deeplift": "exact",
    "gradient_shap": "approximate",
}

# What autograd raises when the explained output has no gradient path back to the input.
_NO_GRAPH = ("does not require grad and does not have a grad_fn", "not have been used in the graph")

# DeepLift announces on every call that it hooks non-linear modules; that is expected here.
_DEEPLIFT_NOTICE = r"Setting forward, backward hooks and attributes on non-linear"


def _import_torch() -> Any:
    try:
        import torch
    except ImportError as exc:
        raise missing_dependency("torch", "explain.captum()") from exc
    return torch


def _import_captum_attr() -> Any:
    _import_torch()
    try:
        with isolated_rng():
            import captum.attr
    except ImportError as exc:
        raise missing_dependency("captum", "explain.captum()") from exc
    return captum.attr


@functools.cache
def _selector_class() -> type[torch.nn.Module]:
    torch = _import_torch()

    class Select(torch.nn.Module):  # type: ignore[misc,name-defined]
        """One output column of the wrapped policy, or the difference of two (contrastive)."""

        def __init__(self, module: Any, a: int, b: int | None) -> None:
            super().__init__()
            self.module, self.a, self.b = module, a, b

        def forward(self, x: Any) -> Any:
            # A copy (differentiable): a module writing its input in place (a first
            # nn.ReLU(inplace=True), x.mul_(2)) cannot write the leaf Captum tracks.
            out = self.module(x.clone())
            if isinstance(out, torch.Tensor) and x.shape[0] == 1:
                out = one_row_outputs(out, 1)  # a module squeezing its batch axis away
            if out.ndim == 1:
                out = out[:, None]
            chosen = out[:, self.a]
            return chosen if self.b is None else chosen - out[:, self.b]

    return Select


def _first_linear_width(module: Any) -> int | None:
    """A guess at the input width: the first registered layer with `in_features`.

    Registration order need not be call order in a custom module, so this only defaults
    the width when nothing else gives it; the construction-time call then tests it.
    """
    rnn = _import_torch().nn.RNNBase  # GRU, LSTM, RNN: input_size features per step
    for sub in module.modules():
        width = getattr(sub, "input_size" if isinstance(sub, rnn) else "in_features", None)
        if isinstance(width, int) and width > 0:
            return width
    return None


def _input_width(module: Any) -> int | None:
    """The input width a module certainly expects: that of a Linear it applies first.

    Known only for a Linear, or a Sequential whose first layer (past width-preserving
    ones: identity, flatten, dropout, element-wise activations) is a Linear; else None.
    """
    nn = _import_torch().nn
    keeps_width = (nn.Identity, nn.Flatten, nn.Dropout, nn.AlphaDropout)
    keeps_width += tuple(
        getattr(nn, name) for name in _ELEMENTWISE if isinstance(getattr(nn, name, None), type)
    )
    layer = module
    while isinstance(layer, nn.Sequential):
        layer = next((m for m in layer if not isinstance(m, keeps_width)), None)
    if isinstance(layer, nn.Linear):
        width = layer.in_features
        return width if isinstance(width, int) and width > 0 else None  # LazyLinear: 0
    return None


_ELEMENTWISE = (
    "ReLU", "ReLU6", "LeakyReLU", "PReLU", "RReLU", "ELU", "SELU", "CELU", "GELU", "SiLU",
    "Mish", "Sigmoid", "Tanh", "Softplus", "Softsign", "Hardtanh", "Hardsigmoid", "Hardswish",
    "Tanhshrink", "Softshrink", "Hardshrink", "LogSigmoid", "Threshold", "Softmax", "LogSoftmax",
)  # fmt: skip


def _gauss_legendre(n_steps: int) -> tuple[list[float], list[float]] | None:
    """Captum's own step sizes and alphas, when its IG accepts them precomputed."""
    try:
        from captum.attr import IntegratedGradients
        from captum.attr._utils.approximation_methods import approximation_parameters

        accepts = inspect.signature(IntegratedGradients._attribute).parameters
    except (ImportError, AttributeError, ValueError):
        return None
    if "step_sizes_and_alphas" not in accepts:
        return None
    step_sizes, alphas = approximation_parameters("gausslegendre")
    return list(step_sizes(n_steps)), list(alphas(n_steps))


class CaptumExplainer:
    """Gradient attributions of a torch module's outputs, one action (or contrast) at a time."""

    def __init__(
        self,
        module: Any,
        method: CaptumMethod,
        baseline: Matrix,
        feature_names: list[str],
        *,
        n_steps: int,
        internal_batch_size: int | None,
        n_samples: int,
        stdevs: float,
        tolerance: float,
        seed: int,
    ) -> None:
        self.module, self.method = module, method
        self.feature_names = feature_names
        self.n_steps, self.internal_batch_size = n_steps, internal_batch_size
        self.n_samples, self.stdevs = n_samples, stdevs
        self.tolerance, self.seed = tolerance, seed
        torch = _import_torch()
        param = next(iter(module.parameters()), None)
        self._dtype = torch.float32 if param is None else param.dtype
        self._device = torch.device("cpu") if param is None else param.device
        self._estimate = _ESTIMATES[method]
        if method == "gradient_shap" and (stdevs > 0 or baseline.shape[0] > n_samples):
            self._estimate = "sampled"
        if method == "gradient_shap" and stdevs == 0:
            baseline = sample_rows(baseline, n_samples, seed)
        self.baseline = baseline
        self._attr = _import_captum_attr()
        self._ig_steps = _gauss_legendre(n_steps) if method != "deeplift" else None
        check_eval_mode(module)
        check_repeatable(module, baseline)
        try:  # fail now, not per decision, if the width is wrong
            with isolated_rng(seed):  # the module may draw from the global generators
                self._outputs(self._tensor(baseline))
        except ModelCallError as exc:
            if exc.__cause__ is None:  # the module ran but returned something unusable
                raise
            n = len(feature_names)
            raise ModelCallError(
                f"{exc} (calling it on the {n}-feature baseline; if the module takes another "
                "number of features, pass feature_names or a baseline of that width)"
            ) from exc

    def explain(
        self, x: FeatureInput, target: int | None = None, *, versus: int | None = None
    ) -> Attribution:
        """Attribute output `target` (default: the highest, i.e. the chosen action) at `x`.

        With `versus=b`, attribute `out[target] - out[b]`: why `target` and not `b`.
        """
        torch = _import_torch()
        # Gradients are needed even when the caller runs its policy under no_grad() or
        # inference_mode(); tensors are made inside, so none is an inference tensor.
        # GradientShap and the module may draw from the global generators: seeded, restored.
        with torch.inference_mode(False), torch.enable_grad(), isolated_rng(self.seed):
            return self._explain(x, target, versus)

    def _explain(self, x: FeatureInput, target: int | None, versus: int | None) -> Attribution:
        start = time.perf_counter()
        check_eval_mode(self.module)
        row = as_row(x, self.feature_names)
        x_t, base_t = self._tensor(row[None, :]), self._tensor(self.baseline)
        outputs = self._outputs(_import_torch().cat([x_t, base_t]))
        k = pick_target(target, outputs[0])
        n_out = outputs.shape[1]
        b = self._check_versus(versus, k, n_out)
        contrast = outputs[:, k] if b is None else outputs[:, k] - outputs[:, b]
        if not np.isfinite(contrast).all():
            raise ModelCallError(
                f"output {k}{'' if b is None else f' - output {b}'} is not finite at the input "
                "or a baseline row (a masked action scored -inf?); explain a finite output"
            )
        values = self._attribute(x_t, base_t, k, b, constant=bool((contrast == contrast[0]).all()))
        fx, base = float(contrast[0]), float(contrast[1:].mean())
        gap = abs(float(values.sum()) - (fx - base))
        check_ok = check_passes(gap, self.tolerance, fx - base)
        return Attribution(
            method=self.method,
            feature_names=self.feature_names,
            values=values.tolist(),
            base_value=base,
            inputs=row.tolist(),
            output=fx,
            target=None if n_out == 1 else k,
            versus=b,
            baseline=self.baseline[0].tolist() if self.baseline.shape[0] == 1 else None,
            check_name="convergence_delta",
            check_value=gap,
            tolerance=self.tolerance,
            check_ok=check_ok,
            compute_ms=(time.perf_counter() - start) * 1e3,
            estimate=self._estimate,
            note=None if check_ok else self._why_not_complete(values, row),
        )

    def _why_not_complete(self, values: Matrix, row: Matrix) -> str | None:
        note = self._no_gradient(values, row)
        if note is None and self.method == "deeplift":
            note = deeplift_note(self.module)
        return note

    def _no_gradient(self, values: Matrix, row: Matrix) -> str | None:
        """Why the values miss the output's change, where features that differ from the
        baseline got exactly 0: the module cast them to integers, which carry no gradient."""
        moved = (self.baseline != row[None, :]).any(axis=0)
        names = [
            n for n, v, m in zip(self.feature_names, values, moved, strict=True) if m and not v
        ]
        if not names:
            return None
        return (
            f"{', '.join(repr(n) for n in names)} differ from the baseline but got no gradient "
            "(attribution 0): an input the module casts to an integer (an nn.Embedding index, "
            ".long(), .round()) has none, so gradient methods cannot attribute it; explain "
            "such a module with explain.shap(module, background)"
        )

    def _tensor(self, rows: Matrix) -> Any:
        torch = _import_torch()
        # A copy: a tensor sharing the explainer's baseline array would let a module that
        # writes its input in place change the baseline every later explanation uses.
        return torch.tensor(rows, dtype=self._dtype, device=self._device)

    def _outputs(self, batch: Any) -> Matrix:
        torch = _import_torch()
        try:
            with torch.no_grad():
                out = self.module(batch)
        except Exception as exc:
            raise ModelCallError(f"module raised {type(exc).__name__}: {exc}") from exc
        check_tensor(out)
        out = one_row_outputs(out, batch.shape[0])  # a module squeezing its batch axis away
        if not (out.is_floating_point() or out.is_complex()):
            raise ModelCallError(
                f"module returned a tensor of {out.dtype}; gradient attributions need "
                "floating-point outputs (the action scores or logits, not a chosen index)"
            )
        arr: Matrix = out.detach().cpu().double().numpy()
        if arr.ndim == 1:
            arr = arr[:, None]
        if arr.ndim != 2 or arr.shape[0] != batch.shape[0]:
            raise ModelCallError(
                f"module output has shape {tuple(out.shape)}; expected (batch,) or (batch, actions)"
            )
        # -inf is how a policy masks an action: only the outputs explained must be finite.
        if np.isnan(arr).any() or np.isposinf(arr).any():
            raise ModelCallError("module output contains NaN or +inf")
        return arr

    @staticmethod
    def _check_versus(versus: int | None, k: int, n_out: int) -> int | None:
        if versus is None:
            return None
        if n_out < 2:
            raise ExplanationInputError("versus needs a module with several outputs (actions)")
        b = pick_target(versus, np.zeros(n_out), what="versus")
        if b == k:
            raise ExplanationInputError(f"versus={versus!r} is the target itself; pick another")
        return b

    def _attribute(self, x_t: Any, base_t: Any, k: int, b: int | None, *, constant: bool) -> Matrix:
        module = hook_copy(self.module) if self.method == "deeplift" else self.module
        wrapped = _selector_class()(module, k, b)
        try:
            attr = self._run(wrapped, x_t, base_t)
        except ExplanationError:
            raise
        except Exception as exc:
            if not any(text in str(exc) for text in _NO_GRAPH):
                raise ModelCallError(f"{self.method} failed: {type(exc).__name__}: {exc}") from exc
            if constant:  # no gradient, same output at x and every baseline row: a constant
                return np.zeros(x_t.shape[1])
            raise ModelCallError(
                f"the input does not reach the output through autograd (the module detaches "
                f"it, runs under no_grad or converts it to numpy), so {self.method} has no "
                "gradient to attribute; explain it with explain.shap(module, background)"
            ) from exc
        values: Matrix = attr[0].detach().cpu().double().numpy()
        return values

    def _run(self, wrapped: Any, x_t: Any, base_t: Any) -> Any:
        if self.method == "integrated_gradients":
            return self._integrated(wrapped, x_t, base_t)
        if self.method == "gradient_shap" and self.stdevs == 0:
            # Expected gradients: the integral from each baseline row to x, averaged. Its
            # values add up to f(x) - mean f(baselines) up to the quadrature error, where
            # Captum's GradientShap (one random point on one random path per sample) only
            # does in expectation and failed its own check at the default n_samples.
            rows = base_t.shape[0]
            return self._integrated(wrapped, x_t.expand(rows, -1), base_t).mean(0, keepdim=True)
        # DeepLift and GradientShap warn unless the input already tracks gradients.
        x_t = x_t.detach().requires_grad_()
        if self.method == "deeplift":
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message=_DEEPLIFT_NOTICE, category=UserWarning)
                return self._attr.DeepLift(wrapped).attribute(x_t, baselines=base_t)
        return self._attr.GradientShap(wrapped).attribute(
            x_t, baselines=base_t, n_samples=self.n_samples, stdevs=self.stdevs
        )

    def _integrated(self, wrapped: Any, x_t: Any, base_t: Any) -> Any:
        if self._ig_steps and not self.internal_batch_size:
            # Captum's IG with its Gauss-Legendre nodes computed once, not on every call
            # (the public `attribute` recomputes them: ~70% of a 32-step explanation).
            ig = self._attr.IntegratedGradients(wrapped)
            return ig._attribute(
                inputs=(x_t,),
                baselines=(base_t,),
                n_steps=self.n_steps,
                method="gausslegendre",
                step_sizes_and_alphas=self._ig_steps,
            )[0]
        return self._attr.IntegratedGradients(wrapped).attribute(
            x_t,
            baselines=base_t,
            n_steps=self.n_steps,
            method="gausslegendre",
            internal_batch_size=self.internal_batch_size,
        )


# Layers linear in their input (in eval mode), through which DeepLift's values add up.
_LINEAR_LAYERS = (
    "Linear", "Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d",
    "ConvTranspose3d", "Identity", "Flatten", "Unflatten", "Dropout", "Dropout1d", "Dropout2d",
    "Dropout3d", "AlphaDropout", "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "AvgPool1d",
    "AvgPool2d", "AvgPool3d", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d",
    "ZeroPad1d", "ZeroPad2d", "ZeroPad3d", "ConstantPad1d", "ConstantPad2d", "ConstantPad3d",
)  # fmt: skip
# Captum's DeepLift rules (its SUPPORTED_NON_LINEAR) that make the values add up exactly;
# its Softmax rule does not (gaps of ~0.03 on a 3-action policy).
_DEEPLIFT_EXACT = (
    "ReLU", "ELU", "LeakyReLU", "Sigmoid", "Tanh", "Softplus", "MaxPool1d", "MaxPool2d",
    "MaxPool3d",
)  # fmt: skip


def deeplift_note(module: Any) -> str:
    """Why DeepLift's values may miss the output's change: the layers it has no exact rule
    for (a GELU, LayerNorm, Softmax or attention layer gets a plain gradient)."""
    torch = _import_torch()
    odd = [
        f"{type(m).__name__} {name!r}"
        for name, m in module.named_modules()
        if not next(m.children(), None)
        and not isinstance(m, torch.jit.ScriptModule)
        and type(m).__name__ not in _LINEAR_LAYERS + _DEEPLIFT_EXACT
        and _module_of(m).startswith("torch.nn")
    ]
    shown = ", ".join(odd[:4]) + (f" and {len(odd) - 4} more" if len(odd) > 4 else "")
    where = (
        f"{shown} and any nonlinearity called as a function in forward"
        if odd
        else "a nonlinearity called as a function in forward (F.gelu, torch.softmax, x * y)"
    )
    return (
        "DeepLift's values add up to the output's change only through ReLU, ELU, LeakyReLU, "
        f"Sigmoid, Tanh, Softplus and MaxPool layers registered as modules; {where} "
        "got another rule or a plain gradient; use method='integrated_gradients', whose "
        "values add up for any differentiable module"
    )


def _module_of(obj: Any) -> str:
    return type(obj).__module__ or ""


def hook_copy(module: Any, copies: dict[int, Any] | None = None) -> Any:
    """A copy of the module tree that shares its parameters, buffers and hooks.

    DeepLift hooks the non-linear layers and stores tensors on them while it runs. On the
    caller's module, that broke forward passes of the policy in other threads ("cannot
    register a hook on a tensor that doesn't require gradient"), mixed up concurrent
    explanations, and an error mid-way left the stored tensors behind. Each call hooks
    its own copy instead: the weights are the module's own, read as they are now.
    """
    torch = _import_torch()
    copies = {} if copies is None else copies
    if isinstance(module, torch.jit.ScriptModule):
        return module  # TorchScript runs no Python hooks: DeepLift adds none inside it
    if id(module) not in copies:
        twin = object.__new__(type(module))
        state = vars(module).items()
        twin.__dict__.update({k: v.copy() if isinstance(v, dict) else v for k, v in state})
        copies[id(module)] = twin
        for name, child in module._modules.items():
            if child is not None:
                twin._modules[name] = hook_copy(child, copies)
    return copies[id(module)]


def check_tensor(out: Any) -> None:
    """Refuse a module output that is not one tensor (an actor-critic's (logits, value))."""
    if not isinstance(out, _import_torch().Tensor):
        raise ModelCallError(
            f"module returned {kind_of(out)}, expected one tensor of outputs (batch, actions); "
            "explain a wrapper module returning the one tensor to explain"
        )


def check_eval_mode(module: Any) -> None:
    """Refuse a module whose Dropout or BatchNorm layers are in training mode.

    There, outputs are random or depend on the other rows of the batch (the path points
    explained together), and BatchNorm would update the caller's running statistics.
    """
    nn = _import_torch().nn
    norm = nn.modules.batchnorm
    active = [
        f"{type(m).__name__} {name!r}" if name else type(m).__name__
        for name, m in module.named_modules()
        if m.training
        and (
            (isinstance(m, nn.modules.dropout._DropoutNd) and m.p > 0)
            or isinstance(m, norm._BatchNorm)
            or (isinstance(m, norm._NormBase) and m.track_running_stats)
            or _own_dropout(m)
        )
    ]
    if active:
        shown = ", ".join(active[:3]) + (f" and {len(active) - 3} more" if len(active) > 3 else "")
        raise ExplanationInputError(
            f"the module is in training mode ({shown}): Dropout makes its outputs random, "
            "BatchNorm makes them depend on the batch and updates its running statistics; "
            "call module.eval() before explaining it"
        )


def check_repeatable(module: Any, rows: Matrix) -> None:
    """Refuse a module in training mode whose outputs on the same rows differ from call to
    call: a layer that drops out or adds noise in training mode without being a Dropout
    module (`F.dropout(x, p, self.training)`, stochastic depth), which check_eval_mode
    cannot see. A module with no submodule in training mode is not called."""
    if not any(m.training for m in module.modules()):
        return
    torch = _import_torch()
    param = next(iter(module.parameters()), None)
    dtype = torch.float32 if param is None else param.dtype
    device = None if param is None else param.device
    outs = []
    for seed in (1, 2):  # two different draws of whatever the module samples
        # A fresh copy each call: a module writing its input in place would otherwise
        # change the rows (and the background they are) between the two calls.
        batch = torch.tensor(rows, dtype=dtype, device=device)
        try:
            with isolated_rng(seed), torch.no_grad():
                outs.append(module(batch))
        except Exception:  # noqa: BLE001 - the explainer's own call reports a failing module
            return
    a, b = outs
    if isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor) and a.shape == b.shape:
        same = torch.equal(a, b)
        if not same and a.is_floating_point():  # NaN (a masked output) is not NaN's equal
            same = bool(torch.allclose(a, b, rtol=0.0, atol=0.0, equal_nan=True))
        if not same:
            raise ExplanationInputError(
                "the module is in training mode and its outputs are random (two calls on "
                "the same rows differ): a layer drops out or adds noise in training mode; "
                "call module.eval() before explaining it"
            )


def _own_dropout(m: Any) -> bool:
    """A layer that drops out by a rate of its own, not a Dropout submodule: a stacked
    GRU/LSTM/RNN (`dropout` between its layers) or a MultiheadAttention (on its weights)."""
    nn = _import_torch().nn
    rate = getattr(m, "dropout", 0.0)
    if not isinstance(rate, float | int) or isinstance(rate, bool) or rate <= 0:
        return False
    if isinstance(m, nn.RNNBase):
        return int(getattr(m, "num_layers", 1)) > 1  # dropout only acts between layers
    return isinstance(m, nn.MultiheadAttention)


def captum(
    module: Any,
    method: CaptumMethod = "integrated_gradients",
    baseline: Any = None,
    n_steps: int = 32,
    *,
    feature_names: Sequence[str] | None = None,
    internal_batch_size: int | None = None,
    n_samples: int = 32,
    stdevs: float = 0.0,
    tolerance: float = DEFAULT_TOLERANCE,
    seed: int = 0,
) -> CaptumExplainer:
    """Build a Captum explainer for a torch module mapping (batch, features) to action scores.

    `baseline` is one reference row (default zeros; a {feature: value} mapping too, whose
    keys, like a DataFrame's columns, name the features when `feature_names` is not); for
    `gradient_shap` it may be a sample of rows: the values are Integrated Gradients
    (`n_steps`) from each of up to `n_samples` rows (a seeded sample of them when there are
    more) to x, averaged, and add up to f(x) minus the mean output over those rows. With
    `stdevs > 0` Captum's GradientShap samples noisy points instead, complete only in
    expectation: expect `check_ok` False then. `check_ok` is False when the completeness gap
    |sum(values) - (f(x) - f(x'))| exceeds `tolerance` times max(1, |f(x) - f(x')|); its
    `note` then names the features that differ from the baseline yet got no gradient (an
    input the module casts to an integer, such as an nn.Embedding index). Dropout
    and BatchNorm layers (and a stacked RNN's or a MultiheadAttention's own `dropout`)
    must be in eval mode (`module.eval()`), as must a module whose outputs are random in
    training mode (`F.dropout`, checked by calling it twice); the module is never
    changed. For small policy networks explained one decision at a time,
    `torch.set_num_threads(1)` is usually several times faster (see
    benchmarks/bench_explain.py); the explainer leaves that global setting alone.
    """
    torch = _import_torch()
    if not isinstance(module, torch.nn.Module):
        raise ExplanationTypeError(
            f"explain.captum() needs a torch.nn.Module, got {type(module).__name__!r}"
        )
    if method not in CAPTUM_METHODS:
        raise ExplanationInputError(
            f"unknown method {method!r}; expected one of {', '.join(CAPTUM_METHODS)}"
        )
    check_positive("n_steps", n_steps)
    check_positive("n_samples", n_samples)
    if internal_batch_size is not None:
        check_positive("internal_batch_size", internal_batch_size)
    _check_finite_non_negative("tolerance", tolerance)
    _check_finite_non_negative("stdevs", stdevs)
    check_seed(seed)
    check_one_input(module)
    _check_trainable_tensors(module)
    names = _resolve_names(module, baseline, feature_names)
    base = _baseline_rows(baseline, names, method)
    return CaptumExplainer(
        module,
        method,
        base,
        names,
        n_steps=n_steps,
        internal_batch_size=internal_batch_size,
        n_samples=n_samples,
        stdevs=float(stdevs),
        tolerance=float(tolerance),
        seed=seed,
    )


def check_one_input(module: Any, caller: str = "explain.captum()") -> None:
    """Refuse a module whose forward needs several tensors: it is called with one."""
    try:
        params = inspect.signature(module.forward).parameters.values()
    except (TypeError, ValueError):
        return  # no readable signature (a builtin or TorchScript forward): the call tells
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    needed = [p.name for p in params if p.kind in kinds and p.default is inspect.Parameter.empty]
    if len(needed) > 1:
        raise ExplanationTypeError(
            f"{caller} calls the module with one (batch, features) tensor, but "
            f"{type(module).__name__}.forward takes {len(needed)} inputs ({', '.join(needed)}); "
            "wrap it in a module whose forward takes the features side by side in one "
            "tensor and splits them, and explain that"
        )


def _check_trainable_tensors(module: Any) -> None:
    """Refuse a module built under torch.inference_mode(): autograd cannot go through it."""
    tensors = (*module.named_parameters(), *module.named_buffers())
    frozen = [name for name, t in tensors if t.is_inference()]
    if frozen:
        shown = ", ".join(repr(n) for n in frozen[:3]) + (" ..." if len(frozen) > 3 else "")
        raise ExplanationTypeError(
            f"the module's tensors {shown} were made under torch.inference_mode(), so no "
            "gradient can pass through them; build or load the module outside "
            "inference_mode (torch.no_grad() is fine), or explain it with "
            "explain.shap(module, background)"
        )


def _check_finite_non_negative(name: str, value: Any) -> None:
    number = isinstance(value, float | int) and not isinstance(value, bool)
    if not (number and math.isfinite(value) and value >= 0):
        raise ExplanationInputError(f"{name} must be a finite number >= 0, got {value!r}")


def _baseline_width(baseline: Any) -> int | None:
    if baseline is None:
        return None
    rows = mapping_rows(baseline)
    if rows is not None:
        return len(rows[0])
    try:
        shape = np.shape(baseline.detach().cpu() if hasattr(baseline, "detach") else baseline)
    except (TypeError, ValueError):
        return None  # ragged: as_matrix reports it
    return int(shape[-1]) if len(shape) else None


def _resolve_names(module: Any, baseline: Any, feature_names: Sequence[str] | None) -> list[str]:
    expected = _input_width(module)
    width = _baseline_width(baseline)
    names = check_names(feature_names, None)
    if names is not None and expected is not None and len(names) != expected:
        raise ExplanationInputError(
            f"feature_names has {len(names)} names but the module expects {expected} features"
        )
    if width is not None and expected is not None and width != expected:
        raise ExplanationInputError(
            f"baseline has {width} features but the module expects {expected}"
        )
    if names is not None and width is not None and width != len(names):
        raise ExplanationInputError(
            f"baseline has {width} features but feature_names has {len(names)} names"
        )
    if names is not None:
        return names
    own = _baseline_labels(baseline)
    if own is not None:
        if expected is not None and len(own) != expected:
            raise ExplanationInputError(
                f"baseline has {len(own)} features but the module expects {expected}"
            )
        return check_names(own, None) or []
    n = width or expected or _first_linear_width(module)
    if n is None:
        raise ExplanationInputError(
            "cannot tell how many features the module takes: pass feature_names or baseline"
        )
    return [f"x{i}" for i in range(n)]


def _baseline_labels(baseline: Any) -> list[str] | None:
    """The feature names a baseline carries, as explain.shap reads a background's: a
    mapping's keys, a DataFrame's columns or a Series' index, when all are strings."""
    rows = mapping_rows(baseline)
    if rows is not None:
        baseline = rows[0]
    labels = list(baseline) if isinstance(baseline, Mapping) else labels_of(baseline)
    if not labels or not all(isinstance(c, str) for c in labels):
        return None  # a frame built from an array: columns 0, 1, ... name nothing
    if not isinstance(baseline, Mapping):
        check_unique_labels(
            baseline, "baseline", " (or pass feature_names to read them by position)"
        )
    return labels


def _baseline_rows(baseline: Any, names: list[str], method: str) -> Matrix:
    if baseline is None:
        return np.zeros((1, len(names)))
    rows = as_matrix(baseline, names, what="baseline")
    if rows.shape[0] > 1 and method != "gradient_shap":
        raise ExplanationInputError(
            f"{method} takes one baseline row, got {rows.shape[0]}; "
            "use method='gradient_shap' for a baseline distribution"
        )
    return rows
