"""SHAP on data nobody here made: categorical LightGBM, missing values, pandas categories."""

from __future__ import annotations

import json

import numpy as np
import pytest

import explain
from explain import ExplanationInputError, ExplanationTypeError
from tests.explain._shapley import brute_force_shapley

lgb = pytest.importorskip("lightgbm")
pd = pytest.importorskip("pandas")
pytest.importorskip("shap")


def frame(n: int = 240) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "price.usd": rng.normal(size=n),
            "city": pd.Categorical(rng.choice(["a", "b", "c"], n)),
            "rating": np.where(rng.random(n) < 0.2, np.nan, rng.normal(size=n)),
        }
    )


def target(df: pd.DataFrame) -> pd.Series:
    return 2 * df["price.usd"] + (df["city"] == "b") + df["rating"].fillna(-1.0)


def fitted(df: pd.DataFrame):  # type: ignore[no-untyped-def]
    return lgb.LGBMRegressor(n_estimators=15, min_child_samples=5, verbose=-1).fit(df, target(df))


def codes(df: pd.DataFrame) -> np.ndarray:
    return df.assign(city=df["city"].cat.codes).to_numpy(dtype=float)


@pytest.mark.parametrize(
    "categorical",
    [pytest.param(True, id="categorical"), pytest.param(False, id="numeric-negative")],
)
def test_lightgbm_with_categorical_features_adds_up_against_a_background(categorical) -> None:  # type: ignore[no-untyped-def]
    """shap's interventional TreeSHAP misreads LightGBM's categorical splits: values
    missed f(x) - E f by ~0.3 and every explain_ranking attribution had check_ok False."""
    df = frame()
    X = codes(df)
    model = fitted(df if categorical else pd.DataFrame(X, columns=list(df.columns)))
    rows = np.nan_to_num(X[:6])
    for att in explain.explain_ranking(model, rows):
        assert att.check_ok, att.check_value
    att = explain.shap(model, rows).explain(rows[0])
    assert att.check_ok
    assert att.method == ("exact_shap" if categorical else "tree_shap_interventional")


def test_interventional_treeshap_is_refused_by_name_for_categorical_lightgbm() -> None:
    model = fitted(frame())
    with pytest.raises(ExplanationTypeError, match="inexact for LGBMRegressor with categorical"):
        explain.shap(model, np.zeros((3, 3)), algorithm="tree_interventional")


def _nan_row() -> np.ndarray:
    return np.array([0.3, 1.0, np.nan])


@pytest.mark.parametrize(
    ("background", "method"),
    [
        pytest.param(None, "tree_shap_path_dependent", id="lightgbm-native"),
        pytest.param("codes", "exact_shap", id="categorical-fallback"),
    ],
)
def test_a_missing_value_is_explained_for_a_tree_model(background, method) -> None:  # type: ignore[no-untyped-def]
    """LightGBM reads NaN as missing (it was trained with them), but every row with a
    missing feature was refused as 'non-finite': no explanation for those decisions."""
    df = frame()
    model = fitted(df)
    bg = codes(df)[:20] if background == "codes" else None
    att = explain.shap(model, bg).explain(_nan_row())
    assert att.method == method and att.check_ok
    assert att.inputs == [0.3, 1.0, None]  # JSON-safe: None, not NaN
    json.dumps(att.model_dump(mode="json"), allow_nan=False)
    assert np.isnan(att.to_shap().data[2])


def test_missing_values_in_rankings_and_pairs_of_a_tree_model() -> None:
    X = codes(frame())
    model = lgb.LGBMRegressor(n_estimators=15, verbose=-1).fit(X, np.nan_to_num(X).sum(axis=1))
    items = X[:5]
    assert np.isnan(items).any()
    assert all(a.check_ok for a in explain.explain_ranking(model, items))
    pair = explain.explain_pair(model, _nan_row(), X[3])
    assert pair.check_ok and pair.inputs[2] is None


@pytest.mark.parametrize(
    ("x", "error", "match"),
    [
        pytest.param([0.3, 1.0, np.nan], ExplanationInputError, "non-finite", id="nan-linear"),
        pytest.param([0.3, np.inf, 1.0], ExplanationInputError, "non-finite", id="inf-linear"),
    ],
)
def test_models_that_cannot_read_missing_values_still_refuse_them(x, error, match) -> None:  # type: ignore[no-untyped-def]
    ex = explain.shap((np.ones(3), 0.0), np.zeros((4, 3)))
    with pytest.raises(error, match=match):
        ex.explain(x)


def test_an_infinite_value_is_refused_for_a_tree_model_too() -> None:
    with pytest.raises(ExplanationInputError, match="infinite values at rating=inf"):
        explain.shap(fitted(frame())).explain([0.3, 1.0, np.inf])


@pytest.mark.parametrize(
    ("row", "match"),
    [
        pytest.param(
            lambda df: [0.3, "b", 1.0], r"column 1 holds a str \(text\)", id="string-in-list"
        ),
        pytest.param(lambda df: [0.3, 1.0, None], "column 2 holds None.*NaN", id="none"),
    ],
)
def test_a_non_number_is_named_with_its_column(row, match) -> None:  # type: ignore[no-untyped-def]
    """A frame with a pandas category column gave only "got dtype 'object'". The value
    itself is not quoted: the reason is recorded with the decision."""
    df = frame()
    ex = explain.shap(fitted(df))
    with pytest.raises(ExplanationTypeError, match=match) as info:
        ex.explain(row(df))
    assert "'b'" not in str(info.value)


def test_a_pandas_row_of_a_category_model_is_refused_with_the_way_to_pass_it() -> None:
    """A row (Series) has lost its columns' dtypes: which values are categories is unknown
    (sweep 14 reads a frame's category columns as LightGBM does)."""
    df = frame()
    with pytest.raises(ExplanationInputError, match=r"pandas row.*df\.iloc\[\[i\]\]") as info:
        explain.shap(fitted(df)).explain(df.iloc[0])
    assert "'b'" not in str(info.value)


def test_a_one_row_frame_of_a_category_model_is_explained_by_category_value() -> None:
    df = frame()
    model = fitted(df)
    attribution = explain.shap(model).explain(df.iloc[[0]])
    assert attribution.check_ok
    assert attribution.output == pytest.approx(float(model.predict(df.iloc[[0]])[0]))


def test_exact_shap_of_a_callable_equals_brute_force_shapley_with_int_features() -> None:
    rng = np.random.default_rng(3)
    background = rng.integers(0, 5, size=(6, 4))  # int64 features

    def f(X: np.ndarray) -> np.ndarray:
        return X[:, 0] * X[:, 1] + np.sin(X[:, 2]) - X[:, 3] ** 2

    x = np.array([4, 1, 3, 2])
    att = explain.shap(f, background, ["a.b", "c.d", "e", "f"]).explain(x)
    phi, base = brute_force_shapley(f, x.astype(float), background.astype(float))
    np.testing.assert_allclose(att.values, phi, atol=1e-9)
    assert att.base_value == pytest.approx(base) and att.check_ok
    assert att.as_dict().keys() == {"a.b", "c.d", "e", "f"}


torch = pytest.importorskip("torch")


def test_a_bfloat16_torch_model_and_input_are_read() -> None:
    """bfloat16 outputs and inputs raised 'Got unsupported ScalarType BFloat16'."""
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    net = net.to(torch.bfloat16).eval()
    att = explain.shap(net, np.zeros((2, 3))).explain(torch.ones(3, dtype=torch.bfloat16))
    assert att.check_ok
    assert explain.captum(net).explain(torch.ones(1, 3, dtype=torch.bfloat16)).check_ok


def test_a_torch_model_in_training_mode_is_refused_by_shap_too() -> None:
    net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Dropout(0.5), torch.nn.Linear(4, 1))
    with pytest.raises(ExplanationInputError, match="training mode \\(Dropout '1'\\)"):
        explain.shap(net, np.zeros((2, 3))).explain(np.ones(3))
    assert net.training
