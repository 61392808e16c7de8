"""Sweep 13: explanations tried on inputs nobody here wrote (labels, pandas, planners, torch)."""

from __future__ import annotations

import re

import numpy as np
import pytest

import explain

pd = pytest.importorskip("pandas")

WEIGHTS = np.array([1.0, 2.0, -1.0])


def scorer(rows):
    """A ranking function that names no features of its own."""
    return np.asarray(rows, dtype=float) @ WEIGHTS


def test_ranking_items_keep_their_column_names() -> None:
    items = pd.DataFrame({"price": [1.0, 0.0, 2.0], "rating": [2.0, 1.0, 0.0], "km": [0, 0, 1.0]})
    first = explain.explain_ranking(scorer, items)[0]
    assert first.feature_names == ["price", "rating", "km"]
    assert first.as_dict()["rating"] == pytest.approx(2.0 * (2.0 - 1.0))


def test_ranking_names_are_each_querys_own_not_the_first_querys() -> None:
    def score(rows):  # a model of its own, so no other test's call is cached for it
        return scorer(rows)

    explain.explain_ranking(score, np.array([[1.0, 2.0, 0.0], [0.0, 1.0, 0.0]]))
    items = pd.DataFrame({"price": [1.0, 0.0], "rating": [2.0, 1.0], "km": [0.0, 0.0]})
    assert explain.explain_ranking(score, items)[0].feature_names == ["price", "rating", "km"]


@pytest.mark.parametrize(
    ("a", "b"),
    [
        pytest.param(
            {"price": 1.0, "rating": 2.0, "km": 0.0},
            {"price": 0.0, "rating": 1.0, "km": 0.0},
            id="mappings",
        ),
        pytest.param(
            pd.Series({"price": 1.0, "rating": 2.0, "km": 0.0}),
            pd.Series({"price": 0.0, "rating": 1.0, "km": 0.0}),
            id="series",
        ),
    ],
)
def test_pair_of_labelled_rows_is_named_by_their_labels(a, b) -> None:
    pair = explain.ranking(scorer, None, seed=0).explain_pair(a, b)
    assert pair.feature_names == ["price", "rating", "km"]
    by_name = pair.as_dict()
    assert by_name["price"] == pytest.approx(1.0)
    assert by_name["rating"] == pytest.approx(2.0)
    assert by_name["km"] == pytest.approx(0.0)


def test_a_frame_with_integer_columns_is_read_by_label_when_the_names_are_its_labels() -> None:
    # The background's columns 0, 1, 2 name the features "0", "1", "2"; a row of that
    # frame with its labels in another order must be read by label, not by position.
    background = pd.DataFrame(np.arange(12.0).reshape(4, 3))
    explainer = explain.shap(scorer, background)
    assert explainer.feature_names == ["0", "1", "2"]
    row = pd.Series({0: 1.0, 1: 2.0, 2: 0.0})
    in_order = explainer.explain(row)
    reordered = explainer.explain(row[[2, 0, 1]])
    assert reordered.output == pytest.approx(in_order.output)
    assert reordered.values == pytest.approx(in_order.values)
    assert explainer.explain(pd.DataFrame([row])[[1, 2, 0]]).values == pytest.approx(
        in_order.values
    )


def test_captum_names_a_module_that_takes_several_inputs() -> None:
    torch = pytest.importorskip("torch")

    class TwoInputs(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.user, self.item = torch.nn.Linear(2, 3), torch.nn.Linear(2, 3)

        def forward(self, user, item):
            return self.user(user) + self.item(item)

    with pytest.raises(explain.ExplanationTypeError, match=r"takes 2 inputs \(user, item\)"):
        explain.captum(TwoInputs().eval(), feature_names=["a", "b", "c", "d"])


def test_captum_still_takes_a_module_with_optional_extra_arguments() -> None:
    torch = pytest.importorskip("torch")

    class WithMask(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layer = torch.nn.Linear(3, 2)

        def forward(self, x, mask=None):
            out = self.layer(x)
            return out if mask is None else out.masked_fill(mask, float("-inf"))

    assert explain.captum(WithMask().eval()).explain([1.0, 2.0, 3.0]).check_ok


@pytest.mark.parametrize("algorithm", ["exact", "permutation", "kernel"])
def test_a_model_that_scales_its_input_in_place_is_explained_at_the_given_row(algorithm) -> None:
    def doubled_sum(rows):
        rows *= 2.0  # normalises in place, as some predict functions do
        return rows.sum(axis=1)

    explainer = explain.shap(doubled_sum, np.ones((2, 3)), algorithm=algorithm)
    x = np.array([1.0, 2.0, 3.0])
    attribution = explainer.explain(x)
    assert x.tolist() == [1.0, 2.0, 3.0]
    assert attribution.inputs == [1.0, 2.0, 3.0]
    assert attribution.output == pytest.approx(12.0)
    assert attribution.base_value == pytest.approx(6.0)
    assert attribution.values == pytest.approx([0.0, 2.0, 4.0])
    assert attribution.check_ok


@pytest.mark.parametrize("method", ["integrated_gradients", "deeplift", "gradient_shap"])
def test_captum_refuses_a_module_built_under_inference_mode_when_built(method) -> None:
    torch = pytest.importorskip("torch")
    with torch.inference_mode():
        net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    with pytest.raises(explain.ExplanationTypeError, match=r"'0\.weight'.*inference_mode"):
        explain.captum(net.eval(), method=method)


def test_captum_takes_a_module_loaded_under_no_grad() -> None:
    torch = pytest.importorskip("torch")
    with torch.no_grad():
        net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    assert explain.captum(net.eval()).explain([1.0, 2.0, 3.0]).check_ok


@pytest.mark.parametrize("x", [3.0, 3, np.float64(3.0), np.array(3.0)], ids=repr)
def test_a_one_feature_model_is_explained_at_a_plain_number(x) -> None:
    attribution = explain.shap(lambda rows: rows * 2.0, np.zeros((1, 1))).explain(x)
    assert attribution.inputs == [3.0]
    assert attribution.values == pytest.approx([6.0])


def test_a_one_feature_torch_policy_is_explained_at_a_zero_dim_tensor() -> None:
    torch = pytest.importorskip("torch")
    net = torch.nn.Linear(1, 2).eval()
    attribution = explain.captum(net).explain(torch.tensor(3.0))
    assert attribution.inputs == [3.0]
    assert attribution.check_ok


def test_a_number_for_a_several_feature_model_is_refused() -> None:
    explainer = explain.shap(lambda rows: rows.sum(axis=1), np.zeros((1, 2)))
    with pytest.raises(explain.ExplanationInputError, match=r"one row of 2 features.*shape \(\)"):
        explainer.explain(3.0)


@pytest.mark.parametrize("k", [0, 2.5, "2", None], ids=repr)
def test_top_names_k_when_it_is_not_a_positive_int(k) -> None:
    attribution = explain.shap(scorer, np.zeros((1, 3))).explain([1.0, 2.0, 3.0])
    expected = f"k must be a positive int, got {k!r}"
    with pytest.raises(explain.ExplanationInputError, match=re.escape(expected)):
        attribution.top(k)


class _DictExplainer:
    """A hand-written explainer that returns its own mapping instead of an Attribution."""

    def explain(self, x, target=None):
        return {"budget": 0.3}


def test_safe_explain_reports_an_explainer_returning_something_else() -> None:
    result = explain.safe_explain(_DictExplainer(), [1.0, 2.0])
    assert isinstance(result, explain.ExplanationUnavailable)
    assert result.error_code == "explanation_invalid_type"
    assert "_DictExplainer.explain returned dict" in result.reason


def test_a_guarded_agent_runs_when_its_explainer_returns_something_else() -> None:
    from guard import Guard

    guard = Guard.from_policy("marketplace-agent")
    actions = [{"kind": "search", "params": {"q": "a"}}, {"kind": "search", "params": {"q": "b"}}]

    @guard.agent(actions=actions, explain=_DictExplainer(), explain_mode="sync")
    def act(obs):
        return [0.2, 0.8]

    action = act([1.0, 2.0])
    assert action.decision.verdict == "allow"
    assert action.decision.explanations[0]["kind"] == "unavailable"


def _three_class_data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(150, 4))
    y = (X[:, 0] > 0.5).astype(int) + (X[:, 1] > 0).astype(int)
    return X, y


def test_a_multiclass_linear_svc_is_explained_by_its_own_decision_function() -> None:
    svm = pytest.importorskip("sklearn.svm")
    X, y = _three_class_data()
    model = svm.SVC(kernel="linear").fit(X, y)  # one-vs-rest votes over one-vs-one models
    attribution = explain.shap(model, X[:30]).explain(X[40])
    scores = model.decision_function(X[40:41])[0]
    assert attribution.output == pytest.approx(scores[attribution.target])
    assert attribution.check_ok
    with pytest.raises(explain.ExplanationTypeError, match="decision_function_shape='ovo'"):
        explain.shap(model, X[:30], algorithm="linear")


def test_a_one_vs_one_linear_svc_keeps_the_closed_form() -> None:
    svm = pytest.importorskip("sklearn.svm")
    X, y = _three_class_data()
    model = svm.SVC(kernel="linear", decision_function_shape="ovo").fit(X, y)
    attribution = explain.shap(model, X[:30]).explain(X[40])
    assert attribution.method == "linear_shap"
    assert attribution.check_ok


@pytest.mark.parametrize(
    ("name", "options"),
    [
        pytest.param("PoissonRegressor", {}, id="poisson"),
        pytest.param("GammaRegressor", {}, id="gamma"),
        pytest.param("TweedieRegressor", {"power": 1.5}, id="tweedie-log-link"),
        pytest.param("TweedieRegressor", {"power": 0.0}, id="tweedie-identity-link"),
    ],
)
def test_a_generalised_linear_model_adds_up_to_its_prediction(name, options) -> None:
    linear_model = pytest.importorskip("sklearn.linear_model")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(150, 3))
    model = getattr(linear_model, name)(**options).fit(X, np.exp(0.5 * X[:, 0]) + 0.1)
    attribution = explain.shap(model, X[:30]).explain(X[40])
    assert attribution.output == pytest.approx(model.predict(X[40:41])[0])
    assert sum(attribution.values) == pytest.approx(
        attribution.output - model.predict(X[:30]).mean()
    )
    assert attribution.check_ok


def test_linear_algorithm_names_why_a_log_link_model_is_not_linear() -> None:
    linear_model = pytest.importorskip("sklearn.linear_model")
    X = np.random.default_rng(0).normal(size=(50, 2))
    model = linear_model.PoissonRegressor().fit(X, np.exp(X[:, 0]))
    with pytest.raises(explain.ExplanationTypeError, match=r"exp\(X @ coef_ \+ intercept_\)"):
        explain.shap(model, X[:10], algorithm="linear")


def test_captum_takes_its_baseline_as_a_mapping_like_its_input() -> None:
    torch = pytest.importorskip("torch")
    net = torch.nn.Linear(3, 2).eval()
    names = ["budget", "trust", "urgency"]
    baseline = {"urgency": 2.0, "budget": 1.0, "trust": 0.0}
    explainer = explain.captum(net, feature_names=names, baseline=baseline)
    attribution = explainer.explain({"budget": 3.0, "trust": 1.0, "urgency": 2.0})
    assert attribution.baseline == [1.0, 0.0, 2.0]
    assert attribution.as_dict()["urgency"] == pytest.approx(0.0)
    assert attribution.check_ok
    with pytest.raises(explain.ExplanationInputError, match=r"missing \['urgency'\]"):
        explain.captum(net, feature_names=names, baseline={"budget": 1.0, "trust": 0.0})


@pytest.mark.parametrize("names", [None, ["a", "b"]], ids=["names-from-keys", "names-given"])
def test_shap_takes_a_one_row_background_mapping(names) -> None:
    explainer = explain.shap(lambda rows: rows @ np.array([1.0, 2.0]), {"a": 0.0, "b": 1.0}, names)
    attribution = explainer.explain({"a": 1.0, "b": 1.0})
    assert attribution.base_value == pytest.approx(2.0)
    assert attribution.as_dict() == pytest.approx({"a": 1.0, "b": 0.0})
