from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import explain
from explain import Attribution, ExplanationInputError, ExplanationTypeError

from ._shapley import brute_force_shapley

lgb = pytest.importorskip("lightgbm")
sklearn_linear = pytest.importorskip("sklearn.linear_model")
sklearn_ensemble = pytest.importorskip("sklearn.ensemble")
sklearn_tree = pytest.importorskip("sklearn.tree")


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 6))
    y = X[:, 0] + X[:, 1] * X[:, 2] + 0.5 * np.sin(X[:, 3]) + rng.normal(scale=0.1, size=400)
    return X, y


def nonlinear(X: np.ndarray) -> np.ndarray:
    """A small model with higher-order interactions: no shortcut gives its Shapley values."""
    return (
        np.sin(X[:, 0]) * X[:, 1]
        + X[:, 2] * X[:, 3] ** 2
        + np.exp(0.3 * X[:, 4]) * X[:, 0] * X[:, 5]
        - X[:, 1] * X[:, 3] * X[:, 5]
    )


def pairwise(X: np.ndarray) -> np.ndarray:
    """Main effects and pairwise interactions only, over 12 features."""
    return np.sin(X[:, 0]) + X[:, 1] * X[:, 2] - 2 * X[:, 3] * X[:, 11] + X[:, 4:11].sum(axis=1)


# -- linear models: closed form w_i (x_i - E[x_i]) -------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda: sklearn_linear.LinearRegression(), id="linear-regression"),
        pytest.param(lambda: sklearn_linear.Ridge(alpha=3.0), id="ridge"),
        pytest.param(lambda: sklearn_linear.Lasso(alpha=0.01), id="lasso"),
    ],
)
def test_linear_regressors_match_closed_form(make, data) -> None:
    X, y = data
    model = make().fit(X, y)
    background = X[:80]
    ex = explain.shap(model, background)
    att = ex.explain(X[200])
    expected = model.coef_ * (X[200] - background.mean(axis=0))
    assert att.method == "linear_shap"
    np.testing.assert_allclose(att.values, expected, atol=1e-12)
    assert att.base_value == pytest.approx(model.predict(background).mean())
    assert att.output == pytest.approx(model.predict(X[200:201])[0])
    assert att.check_ok and att.check_value < 1e-9


def test_logistic_regression_explains_log_odds_per_class(data) -> None:
    X, y = data
    labels = np.digitize(y, [-0.5, 0.5])  # three classes
    model = sklearn_linear.LogisticRegression(max_iter=500).fit(X, labels)
    ex = explain.shap(model, X[:50])
    for k in range(3):
        att = ex.explain(X[7], target=k)
        expected = model.coef_[k] * (X[7] - X[:50].mean(axis=0))
        np.testing.assert_allclose(att.values, expected, atol=1e-12)
        assert att.output == pytest.approx(model.decision_function(X[7:8])[0, k])
        assert att.target == k
    default = ex.explain(X[7])
    assert default.target == int(np.argmax(model.decision_function(X[7:8])[0]))


def test_coef_intercept_pair() -> None:
    coef, intercept = np.array([1.5, -2.0, 0.0]), 0.25
    background = np.array([[0.0, 1.0, 2.0], [2.0, 3.0, 4.0]])
    att = explain.shap((coef, intercept), background, ["a", "b", "c"]).explain([1.0, 1.0, 1.0])
    assert att.as_dict() == pytest.approx({"a": 0.0, "b": 2.0, "c": 0.0})
    assert att.base_value == pytest.approx(1.5 * 1.0 - 2.0 * 2.0 + 0.25)
    assert att.output == pytest.approx(1.5 - 2.0 + 0.25)


@settings(max_examples=40, deadline=None)
@given(
    coef=hnp.arrays(np.float64, 5, elements=st.floats(-10, 10)),
    intercept=st.floats(-10, 10),
    x=hnp.arrays(np.float64, 5, elements=st.floats(-100, 100)),
    background=hnp.arrays(np.float64, (4, 5), elements=st.floats(-100, 100)),
)
def test_linear_property_values_and_efficiency(coef, intercept, x, background) -> None:
    att = explain.shap((coef, intercept), background).explain(x)
    np.testing.assert_allclose(
        att.values, coef * (x - background.mean(axis=0)), rtol=1e-9, atol=1e-9
    )
    assert sum(att.values) + att.base_value == pytest.approx(att.output, rel=1e-9, abs=1e-7)


# -- black-box models: exact against brute force, efficiency for sampling --------------------


def test_exact_matches_brute_force_enumeration() -> None:
    rng = np.random.default_rng(1)
    background = rng.normal(size=(8, 6))
    ex = explain.shap(nonlinear, background)
    assert ex.method == "exact_shap"
    for x in rng.normal(size=(3, 6)):
        att = ex.explain(x)
        expected, base = brute_force_shapley(nonlinear, x, background)
        np.testing.assert_allclose(att.values, expected, atol=1e-10)
        assert att.base_value == pytest.approx(base)
        assert att.check_ok


def test_permutation_is_exact_for_pairwise_interactions() -> None:
    # Antithetic permutation sampling recovers Shapley values exactly when no interaction
    # involves more than two features, so brute force is a fair ground truth here.
    rng = np.random.default_rng(2)
    background = rng.normal(size=(5, 12))
    ex = explain.shap(pairwise, background, max_evals=200)
    assert ex.method == "permutation_shap"
    x = rng.normal(size=12)
    att = ex.explain(x)
    expected, base = brute_force_shapley(pairwise, x, background)
    np.testing.assert_allclose(att.values, expected, atol=1e-9)
    assert att.base_value == pytest.approx(base)


@pytest.mark.parametrize(
    "algorithm", [pytest.param("permutation", id="permutation"), pytest.param("exact", id="exact")]
)
def test_black_box_efficiency(algorithm) -> None:
    rng = np.random.default_rng(3)
    background = rng.normal(size=(30, 6))
    ex = explain.shap(nonlinear, background, algorithm=algorithm)
    for x in rng.normal(size=(4, 6)):
        att = ex.explain(x)
        assert sum(att.values) == pytest.approx(att.output - att.base_value, abs=1e-9)
        assert att.check_ok


def test_permutation_is_seeded_and_leaves_global_rng_alone() -> None:
    rng = np.random.default_rng(4)
    background, x = rng.normal(size=(10, 6)), rng.normal(size=6)
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    first = explain.shap(nonlinear, background, algorithm="permutation").explain(x)
    second = explain.shap(nonlinear, background, algorithm="permutation").explain(x)
    assert first.values == second.values
    np.testing.assert_array_equal(np.random.get_state()[1], before)


def test_background_is_capped_at_100_rows() -> None:
    rng = np.random.default_rng(5)
    background = rng.normal(size=(1000, 6))
    att = explain.shap(nonlinear, background).explain(background[0])
    assert att.check_ok
    assert att.base_value != pytest.approx(float(nonlinear(background).mean()), abs=1e-12)


def test_multi_output_callable_selects_target() -> None:
    def two(X: np.ndarray) -> np.ndarray:
        return np.stack([X.sum(axis=1), -2 * X[:, 0]], axis=1)

    ex = explain.shap(two, np.zeros((1, 3)))
    att = ex.explain([1.0, 2.0, 3.0], target=1)
    assert att.values == pytest.approx([-2.0, 0.0, 0.0])
    assert explain.shap(two, np.zeros((1, 3))).explain([1.0, 2.0, 3.0]).target == 0
    with pytest.raises(ExplanationInputError, match="out of range"):
        ex.explain([1.0, 2.0, 3.0], target=2)


def test_kernel_only_by_name() -> None:
    rng = np.random.default_rng(6)
    background = rng.normal(size=(10, 4))

    def f(X: np.ndarray) -> np.ndarray:
        return X[:, 0] * X[:, 1] + X[:, 2]

    assert explain.shap(f, background).method == "exact_shap"
    att = explain.shap(f, background, algorithm="kernel").explain(rng.normal(size=4))
    assert att.method == "kernel_shap" and att.check_ok


def _product(X: np.ndarray) -> np.ndarray:
    return X[:, 0] * X[:, 1] * X[:, 2] * X[:, 3]


@pytest.mark.parametrize("max_evals", [1, 3, 5, 10])
def test_kernel_refuses_a_budget_that_cannot_determine_the_values(max_evals) -> None:
    background = np.random.default_rng(1).normal(size=(10, 4))
    with pytest.raises(ExplanationInputError, match=r"too low for kernel SHAP with 4 features.*11"):
        explain.shap(_product, background, algorithm="kernel", max_evals=max_evals)


def test_kernel_min_evals_makes_the_regression_full_rank() -> None:
    from explain._shap import _BlackBox, guarded, kernel_min_evals

    rng = np.random.default_rng(2)
    for n in (2, 3, 4, 6, 9, 13):
        background, x = rng.normal(size=(6, n)), rng.normal(size=(1, n))
        box = _BlackBox(
            guarded(lambda X: np.prod(X, axis=1), "f"),
            background,
            [f"x{i}" for i in range(n)],
            "kernel",
            kernel_min_evals(n),
            0,
        )
        box.attribute(x)  # raises if the sampled coalitions leave the regression short of rank
        k = box._explainer
        masks = k.maskMatrix[: k.nsamplesAdded]
        assert np.linalg.matrix_rank(masks[:, :-1] - masks[:, -1:]) == n - 1


def test_kernel_refuses_an_underdetermined_regression_it_was_not_warned_of(monkeypatch) -> None:
    # Should shap's sampler change so that the up-front minimum no longer suffices, the rank
    # of each row's coalitions is checked: two complementary pairs cannot fix 3 free values.
    import explain._shap as shap_backend

    monkeypatch.setattr(shap_backend, "kernel_min_evals", lambda n: 1)
    background = np.random.default_rng(1).normal(size=(10, 4))
    ex = explain.shap(_product, background, algorithm="kernel", max_evals=4)
    with pytest.raises(explain.ExplanationError, match=r"determine only 2 of the 3 free values"):
        ex.explain([1.0, 2.0, 3.0, 4.0])


def test_kernel_over_every_coalition_is_exact_and_says_so() -> None:
    background = np.random.default_rng(1).normal(size=(10, 4))
    x = np.array([1.0, 2.0, 3.0, 4.0])
    expected, base = brute_force_shapley(_product, x, background)
    for max_evals in (14, None):  # 2**4 - 2 coalitions besides the empty and the full one
        att = explain.shap(_product, background, algorithm="kernel", max_evals=max_evals).explain(x)
        np.testing.assert_allclose(att.values, expected, atol=1e-9)
        assert att.base_value == pytest.approx(base) and att.estimate == "exact"
    sampled = explain.shap(_product, background, algorithm="kernel", max_evals=13).explain(x)
    assert sampled.estimate == "sampled" and sampled.check_ok


def test_kernel_keeps_every_feature_past_ten() -> None:
    # shap's default l1_reg keeps 10 features and zeroes the rest; a linear model's
    # KernelSHAP values are exact from any full-rank sample of coalitions.
    rng = np.random.default_rng(7)
    w, background, x = rng.normal(size=12), rng.normal(size=(20, 12)), rng.normal(size=12)
    att = explain.shap(lambda X: X @ w, background, algorithm="kernel").explain(x)
    assert att.estimate == "sampled"
    np.testing.assert_allclose(att.values, w * (x - background.mean(axis=0)), atol=1e-9)


def test_kernel_counts_only_varying_features_for_exactness() -> None:
    def f(X: np.ndarray) -> np.ndarray:
        return X[:, 0] * X[:, 1] + X[:, 2] * X[:, 0] + X[:, 3:].sum(axis=1)

    rng = np.random.default_rng(8)
    background = rng.normal(size=(5, 14))
    background[:, 3:] = 0.0
    x = np.zeros(14)
    x[:3] = [1.0, -2.0, 0.5]  # 3 varying features: 6 coalitions cover them all
    att = explain.shap(f, background, algorithm="kernel").explain(x)
    expected, _ = brute_force_shapley(f, x, background)
    np.testing.assert_allclose(att.values, expected, atol=1e-9)
    assert att.estimate == "exact"


def test_estimate_is_reported_for_each_algorithm() -> None:
    rng = np.random.default_rng(9)
    background = rng.normal(size=(5, 6))
    x = rng.normal(size=6)
    assert explain.shap(nonlinear, background).explain(x).estimate == "exact"
    perm = explain.shap(nonlinear, background, algorithm="permutation").explain(x)
    assert perm.estimate == "sampled"
    two = explain.shap(
        lambda X: X[:, 0] * X[:, 1], rng.normal(size=(5, 2)), algorithm="permutation"
    )
    assert two.explain([1.0, 2.0]).estimate == "exact"  # both orders of two features
    assert explain.shap((np.ones(6), 0.0), background).explain(x).estimate == "exact"


@pytest.mark.parametrize(
    ("max_evals", "match"),
    [
        pytest.param(1.5, "positive int, got float 1.5", id="float"),
        pytest.param(100.0, "positive int, got float 100.0", id="whole-float"),
        pytest.param(True, "positive int, got bool True", id="bool"),
        pytest.param("100", "positive int, got str '100'", id="str"),
        pytest.param(0, "positive int, got 0", id="zero"),
        pytest.param(-5, "positive int, got -5", id="negative"),
    ],
)
def test_max_evals_is_checked_when_the_explainer_is_built(max_evals, match) -> None:
    with pytest.raises(ExplanationInputError, match=match):
        explain.shap(nonlinear, np.zeros((3, 6)), max_evals=max_evals)


def test_permutation_budget_is_checked_when_the_explainer_is_built() -> None:
    background = np.random.default_rng(10).normal(size=(5, 12))
    with pytest.raises(ExplanationInputError, match=r"permutation SHAP with 12 features.*25"):
        explain.shap(pairwise, background, max_evals=24)
    assert explain.shap(pairwise, background, max_evals=np.int64(25)).explain(background[0])


# -- tree ensembles -------------------------------------------------------------------------


def _lgb_models(X: np.ndarray, y: np.ndarray) -> dict[str, object]:
    common = {"n_estimators": 30, "num_leaves": 8, "verbose": -1, "random_state": 0}
    grades = np.digitize(y, np.quantile(y, [0.25, 0.5, 0.75]))
    return {
        "regressor": lgb.LGBMRegressor(**common).fit(X, y),
        "ranker": lgb.LGBMRanker(**common).fit(X, grades, group=[40] * 10),
        "binary": lgb.LGBMClassifier(**common).fit(X, y > 0),
        "multiclass": lgb.LGBMClassifier(**common).fit(X, grades),
        "booster": lgb.train({"verbose": -1, "num_leaves": 8}, lgb.Dataset(X, y), 20),
    }


@pytest.fixture(scope="module")
def lgb_models(data) -> dict[str, object]:
    return _lgb_models(*data)


LGB_KINDS = ["regressor", "ranker", "binary", "multiclass", "booster"]


@pytest.mark.parametrize("kind", [pytest.param(k, id=k) for k in LGB_KINDS])
@pytest.mark.parametrize(
    "with_background", [pytest.param(False, id="path"), pytest.param(True, id="interventional")]
)
def test_lightgbm_efficiency(kind, with_background, lgb_models, data) -> None:
    X, _ = data
    model = lgb_models[kind]
    ex = explain.shap(model, X[:60] if with_background else None)
    booster = model if kind == "booster" else model.booster_
    for row in X[100:105]:
        att = ex.explain(row)
        raw = np.atleast_1d(booster.predict(row[None, :], raw_score=True)[0])
        k = att.target or 0
        assert att.output == pytest.approx(raw[k])
        assert sum(att.values) + att.base_value == pytest.approx(att.output, abs=1e-6)
        assert att.check_ok, att.check_value
    expected = "tree_shap_interventional" if with_background else "tree_shap_path_dependent"
    assert ex.method == expected


def test_lightgbm_native_matches_shap_tree_explainer(lgb_models, data) -> None:
    shap = pytest.importorskip("shap")
    X, _ = data
    model = lgb_models["regressor"]
    ours = explain.shap(model).explain_rows(X[:5])
    theirs = shap.TreeExplainer(model).shap_values(X[:5])
    np.testing.assert_allclose([a.values for a in ours], theirs, atol=1e-9)


def test_interventional_tree_shap_matches_brute_force(lgb_models, data) -> None:
    X, _ = data
    model = lgb_models["regressor"]
    background = X[300:305]

    def f(rows: np.ndarray) -> np.ndarray:
        return model.booster_.predict(rows, raw_score=True)

    ex = explain.shap(model).with_background(background)  # reuses the converted ensemble
    fresh = explain.shap(model, background)
    for x in X[:3]:
        expected, base = brute_force_shapley(f, x, background)
        for att in (ex.explain(x), fresh.explain(x)):
            np.testing.assert_allclose(
                att.values, expected, atol=1e-7
            )  # shap reads leaf values from the model dump
            assert att.base_value == pytest.approx(base)


SKLEARN_TREES = [
    pytest.param(lambda: sklearn_tree.DecisionTreeRegressor(max_depth=4), "reg", id="tree-reg"),
    pytest.param(
        lambda: sklearn_ensemble.RandomForestRegressor(10, max_depth=4, random_state=0),
        "reg",
        id="forest-reg",
    ),
    pytest.param(
        lambda: sklearn_ensemble.GradientBoostingRegressor(n_estimators=20, random_state=0),
        "reg",
        id="gbm-reg",
    ),
    pytest.param(
        lambda: sklearn_ensemble.RandomForestClassifier(10, max_depth=4, random_state=0),
        "clf",
        id="forest-clf-proba",
    ),
    pytest.param(
        lambda: sklearn_ensemble.GradientBoostingClassifier(n_estimators=20, random_state=0),
        "clf",
        id="gbm-clf-logodds",
    ),
]


@pytest.mark.parametrize(("make", "task"), SKLEARN_TREES)
@pytest.mark.parametrize(
    "with_background", [pytest.param(False, id="path"), pytest.param(True, id="interventional")]
)
def test_sklearn_tree_efficiency(make, task, with_background, data) -> None:
    X, y = data
    model = make().fit(X, y if task == "reg" else y > 0)
    ex = explain.shap(model, X[:50] if with_background else None)
    for row in X[100:104]:
        att = ex.explain(row)
        assert sum(att.values) + att.base_value == pytest.approx(att.output, abs=1e-6)
        assert att.check_ok, att.check_value


def test_tree_algorithm_refuses_other_models() -> None:
    with pytest.raises(ExplanationTypeError, match="tree model"):
        explain.shap(nonlinear, np.zeros((2, 6)), algorithm="tree")


# -- the Attribution model -----------------------------------------------------------------


def test_attribution_helpers(lgb_models, data) -> None:
    X, _ = data
    att = explain.shap(lgb_models["regressor"], feature_names=list("abcdef")).explain(X[0])
    top = att.top(2)
    assert [name for name, _ in top] == sorted(
        att.feature_names, key=lambda n: -abs(att.as_dict()[n])
    )[:2]
    assert att.as_dict() == dict(zip("abcdef", att.values, strict=True))
    assert Attribution.model_validate(att.model_dump(mode="json")) == att
    with pytest.raises(ExplanationInputError):
        att.top(0)


def test_to_shap_feeds_shap_plots(lgb_models, data) -> None:
    shap = pytest.importorskip("shap")
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    X, _ = data
    att = explain.shap(lgb_models["regressor"]).explain(X[0])
    exp = att.to_shap()
    assert isinstance(exp, shap.Explanation)
    np.testing.assert_allclose(exp.values, att.values)
    assert exp.base_values == att.base_value
    shap.plots.waterfall(exp, show=False)
    matplotlib.pyplot.close("all")


def test_mapping_input_in_feature_order() -> None:
    ex = explain.shap((np.array([1.0, 2.0]), 0.0), np.zeros((1, 2)), ["a", "b"])
    assert ex.explain({"b": 1.0, "a": 3.0}).values == pytest.approx([3.0, 2.0])


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(
            lambda: sklearn_ensemble.HistGradientBoostingRegressor(max_iter=20), id="hgb-reg"
        ),
        pytest.param(
            lambda: sklearn_ensemble.HistGradientBoostingClassifier(max_iter=20), id="hgb-clf"
        ),
    ],
)
def test_hist_gradient_boosting_avoids_inexact_interventional_treeshap(make, data) -> None:
    # shap's interventional TreeSHAP misses additivity on these models by ~1e-3; a background
    # routes them to exact model-agnostic SHAP of the same (raw) output instead.
    X, y = data
    model = make().fit(X[:, :5], y if "Regressor" in type(make()).__name__ else y > 0)
    rows = X[:, :5]
    path = explain.shap(model)
    assert path.method == "tree_shap_path_dependent" and path.explain(rows[1]).check_ok
    exact = explain.shap(model, rows[:20])
    assert exact.method == "exact_shap"
    att = exact.explain(rows[1])
    assert att.check_ok and att.output == pytest.approx(path.explain(rows[1]).output)
    with pytest.raises(ExplanationTypeError, match="inexact"):
        explain.shap(model, rows[:20], algorithm="tree_interventional")
    with pytest.raises(ExplanationTypeError, match="inexact"):
        path.with_background(rows[:20])
