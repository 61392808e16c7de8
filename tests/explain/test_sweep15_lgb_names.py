"""Sweep 15: a LightGBM model fitted on columns with spaces, explained from a mapping.

LightGBM names the column "price usd" of its training frame "price_usd". A DataFrame or
Series of the frame's own columns was read by name, but the same row as a mapping
(`df.iloc[i].to_dict()`, an agent's observation) was refused: "missing ['price_usd'],
unexpected ['price usd']".
"""

from __future__ import annotations

import numpy as np
import pytest

import explain

pd = pytest.importorskip("pandas")
lgb = pytest.importorskip("lightgbm")


def _fitted() -> tuple[object, object]:
    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.normal(size=(120, 3)), columns=["price usd", "âge", "size cm"])
    y = 2.0 * df["price usd"] + df["âge"]
    model = lgb.LGBMRegressor(n_estimators=8, verbose=-1).fit(df, y)
    return model, df


@pytest.mark.parametrize("background", [False, True])
def test_a_mapping_with_the_frames_column_names_is_read_by_name(background: bool) -> None:
    model, df = _fitted()
    explainer = explain.shap(model, df.iloc[:5] if background else None)
    row = df.iloc[7]

    from_mapping = explainer.explain({k: row[k] for k in reversed(list(row.index))})
    from_series = explainer.explain(row)

    assert from_mapping.feature_names == ["price_usd", "âge", "size_cm"]
    assert from_mapping.values == from_series.values
    assert from_mapping.inputs == pytest.approx(row.to_list())
    assert from_mapping.output == pytest.approx(model.predict(df.iloc[[7]], raw_score=True)[0])


def test_a_mapping_missing_a_feature_is_still_refused() -> None:
    model, df = _fitted()
    row = df.iloc[7].to_dict()
    del row["size cm"]

    with pytest.raises(explain.ExplanationInputError, match="missing"):
        explain.shap(model).explain(row)
