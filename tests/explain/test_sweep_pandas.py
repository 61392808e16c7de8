"""pandas inputs are read by label, as mappings are: a reordered frame is the same input."""

from __future__ import annotations

import numpy as np
import pytest

from explain import ExplanationInputError, shap

pd = pytest.importorskip("pandas")
pytest.importorskip("sklearn")


def _model_and_frame():  # type: ignore[no-untyped-def]
    from sklearn.ensemble import RandomForestRegressor

    rng = np.random.RandomState(0)
    X = rng.randn(200, 3)
    df = pd.DataFrame(X, columns=["a", "b", "c"])
    model = RandomForestRegressor(10, max_depth=3, random_state=0).fit(df, 3 * X[:, 0])
    return model, df


def test_a_reordered_series_is_explained_as_the_same_row() -> None:
    model, df = _model_and_frame()
    ex = shap(model)
    row = df.iloc[0]
    want = ex.explain(row)
    got = ex.explain(row[["c", "b", "a"]])
    assert got.inputs == want.inputs
    np.testing.assert_allclose(got.values, want.values, atol=1e-12)
    assert got.check_ok


def test_reordered_rows_and_background_frames_are_read_by_column() -> None:
    model, df = _model_and_frame()
    ex = shap(model, df[:20])
    flipped = shap(model, df[["c", "b", "a"]][:20])
    assert flipped.explain(df.iloc[0]).base_value == pytest.approx(
        ex.explain(df.iloc[0]).base_value
    )
    rows = ex.explain_rows(df[:2][["b", "c", "a"]])
    assert [r.inputs for r in rows] == df[:2].to_numpy().tolist()


def test_a_frame_with_some_of_the_features_is_refused() -> None:
    model, df = _model_and_frame()
    with pytest.raises(ExplanationInputError, match=r"missing \['c'\], unexpected \['z'\]"):
        shap(model).explain(df.iloc[0].rename({"c": "z"}))


def test_unrelated_labels_are_read_by_position() -> None:
    model, df = _model_and_frame()
    ex = shap(model)
    assert ex.explain(df.iloc[0].reset_index(drop=True)).inputs == df.iloc[0].tolist()


def test_feature_names_reordering_the_models_own_names_are_refused() -> None:
    """The model reads columns in its fitted order: names in another order would credit
    feature a's effect to c."""
    model, df = _model_and_frame()
    with pytest.raises(ExplanationInputError, match="disagree with the names the model"):
        shap(model, feature_names=["c", "b", "a"])
    renamed = shap(model, feature_names=["p", "q", "r"]).explain(df.iloc[0].to_numpy())
    assert renamed.top(1)[0][0] == "p"
