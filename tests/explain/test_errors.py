from __future__ import annotations

import numpy as np
import pytest

import explain
from explain import (
    Attribution,
    ExplanationError,
    ExplanationInputError,
    ExplanationTypeError,
    ExplanationUnavailable,
    ModelCallError,
    NoAllowedAction,
    SearchTreeError,
)
from guard._exceptions import GuardError

COEF = (np.array([1.0, -1.0, 2.0]), 0.5)
BACKGROUND = np.zeros((4, 3))


def scorer(X: np.ndarray) -> np.ndarray:
    return X[:, 0] * X[:, 1] + X[:, 2]


def fragile(X: np.ndarray) -> np.ndarray:
    if (X[:, 0] > 5).any():
        raise RuntimeError("feature out of the training range")
    return X.sum(axis=1)


@pytest.mark.parametrize("model", [pytest.param(COEF, id="linear"), pytest.param(scorer, id="bb")])
@pytest.mark.parametrize(
    ("x", "error", "match"),
    [
        pytest.param([1.0, 2.0], ExplanationInputError, "has 2 features", id="too-few"),
        pytest.param([1.0, 2.0, 3.0, 4.0], ExplanationInputError, "has 4 features", id="too-many"),
        pytest.param(np.ones((2, 3)), ExplanationInputError, "one row", id="two-rows"),
        pytest.param(["a", "b", "c"], ExplanationTypeError, "dtype '<U1'", id="strings"),
        pytest.param([1.0, None, 2.0], ExplanationTypeError, "dtype 'object'", id="none"),
        pytest.param([1.0, np.nan, 2.0], ExplanationInputError, r"x1=nan", id="nan"),
        pytest.param([np.inf, 0.0, -np.inf], ExplanationInputError, r"x0=inf, x2=-inf", id="inf"),
        pytest.param({"x0": 1.0, "x1": 2.0}, ExplanationInputError, r"missing \['x2'\]", id="map"),
    ],
)
def test_bad_input_rows(model, x, error, match) -> None:
    ex = explain.shap(model, BACKGROUND)
    with pytest.raises(error, match=match):
        ex.explain(x)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        pytest.param(
            {"model": scorer, "background": None}, ExplanationInputError, "feature", id="no-bg"
        ),
        pytest.param(
            {"model": scorer, "background": np.full((2, 3), np.nan)},
            ExplanationInputError,
            "background has non-finite",
            id="nan-bg",
        ),
        pytest.param(
            {"model": COEF, "background": np.zeros((2, 4))},
            ExplanationInputError,
            "background has 4 features but the model expects 3",
            id="bg-width",
        ),
        pytest.param(
            {"model": scorer, "background": BACKGROUND, "algorithm": "lime"},
            ExplanationInputError,
            "unknown algorithm 'lime'",
            id="algorithm",
        ),
        pytest.param(
            {"model": COEF, "background": BACKGROUND, "feature_names": ["a", "a", "b"]},
            ExplanationInputError,
            "unique",
            id="dup-names",
        ),
        pytest.param(
            {"model": COEF, "background": BACKGROUND, "feature_names": ["a", "b"]},
            ExplanationInputError,
            "2 names but the model has 3",
            id="name-count",
        ),
        pytest.param(
            {"model": COEF, "background": BACKGROUND, "feature_names": "abc"},
            ExplanationTypeError,
            "not the single string 'abc'",
            id="names-string",
        ),
        pytest.param(
            {"model": object(), "background": BACKGROUND},
            ExplanationTypeError,
            "cannot explain a 'object'",
            id="not-a-model",
        ),
        pytest.param(
            {"model": lambda X: X[:, 0] / 0.0 * 0.0, "background": BACKGROUND},
            ModelCallError,
            "NaN or inf",
            id="nan-output",
        ),
        pytest.param(
            {"model": lambda X: np.ones((2, 2, 2)), "background": BACKGROUND},
            ModelCallError,
            "shape",
            id="bad-shape",
        ),
        pytest.param(
            {"model": lambda X: 1 / 0, "background": BACKGROUND},
            ModelCallError,
            "ZeroDivisionError",
            id="raises",
        ),
    ],
)
def test_bad_configuration(kwargs, error, match) -> None:
    with np.errstate(all="ignore"), pytest.raises(error, match=match):
        explain.shap(**kwargs)


def test_model_that_raises_on_one_input() -> None:
    ex = explain.shap(fragile, BACKGROUND)
    assert ex.explain([1.0, 2.0, 3.0]).check_ok
    with pytest.raises(ModelCallError, match="feature out of the training range") as info:
        ex.explain([9.0, 2.0, 3.0])
    assert isinstance(info.value.__cause__, RuntimeError)


def test_exception_hierarchy() -> None:
    assert issubclass(ExplanationError, GuardError)
    assert issubclass(ExplanationInputError, ValueError)
    assert issubclass(ExplanationTypeError, TypeError)
    assert issubclass(NoAllowedAction, SearchTreeError)
    for exc in (ExplanationInputError, ExplanationTypeError, ModelCallError, SearchTreeError):
        assert issubclass(exc, ExplanationError) and exc.code != ExplanationError.code


def test_safe_explain_keeps_the_reason() -> None:
    ex = explain.shap(fragile, BACKGROUND)
    ok = explain.safe_explain(ex, [1.0, 2.0, 3.0])
    assert isinstance(ok, Attribution)
    failed = explain.safe_explain(ex, [9.0, 2.0, 3.0])
    assert isinstance(failed, ExplanationUnavailable)
    assert failed.error_code == "explanation_model_failed"
    assert "feature out of the training range" in failed.reason
    assert str(failed).startswith("explanation unavailable: ModelCallError")
    assert failed.as_dict() == {}
    assert failed.model_dump(mode="json")["kind"] == "unavailable"


def test_safe_explain_catches_any_explainer_failure() -> None:
    class Flaky:
        def explain(self, x, target=None) -> Attribution:
            raise MemoryError("out of memory")

    flaky = Flaky()
    assert isinstance(flaky, explain.Explainer)
    result = explain.safe_explain(flaky, [1.0])
    assert isinstance(result, ExplanationUnavailable)
    assert result.error_type == "MemoryError" and result.error_code == "explanation_error"


def test_safe_explain_passes_options() -> None:
    torch = pytest.importorskip("torch")
    pytest.importorskip("captum")
    net = torch.nn.Linear(3, 2).double()
    att = explain.safe_explain(explain.captum(net), [1.0, 2.0, 3.0], 0, versus=1)
    assert isinstance(att, Attribution) and att.versus == 1
    bad = explain.safe_explain(explain.captum(net), [1.0, 2.0, 3.0], 0, versus=0)
    assert isinstance(bad, ExplanationUnavailable) and "target itself" in bad.reason
