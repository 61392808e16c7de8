"""Deferred explanations of pandas observations explain the input the decision saw."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

import explain
from guard import Guard
from guard.audit import open_audit
from guard.policy import parse

pd = pytest.importorskip("pandas")

COEF = (np.array([[1.0, 2.0], [0.5, -1.0]]), np.zeros(2))
ACTIONS = [{"kind": "offer", "params": {"tier": 0}}, {"kind": "offer", "params": {"tier": 1}}]


class Gated:
    """A SHAP explainer that starts only when the test says so (after the caller moved on)."""

    def __init__(self) -> None:
        self.inner = explain.shap(COEF, pd.DataFrame(np.zeros((3, 2)), columns=["a", "b"]))
        self.go = threading.Event()

    def explain(self, x: object, target: int | None = None) -> explain.Attribution:
        self.go.wait(10)
        return self.inner.explain(x, target)


@pytest.mark.parametrize(
    ("obs", "mutate"),
    [
        pytest.param(
            pd.DataFrame([[1.0, 2.0]], columns=["a", "b"]),
            lambda o: o.iloc.__setitem__((0, 0), 100.0),
            id="dataframe",
        ),
        pytest.param(
            pd.Series([1.0, 2.0], index=["a", "b"]),
            lambda o: o.__setitem__("a", 100.0),
            id="series",
        ),
        pytest.param(np.array([1.0, 2.0]), lambda o: o.__setitem__(0, 100.0), id="numpy"),
    ],
)
def test_a_reused_pandas_observation_is_explained_as_it_was(tmp_path: Path, obs, mutate) -> None:  # type: ignore[no-untyped-def]
    """A DataFrame was handed to the deferred worker as is: changed after the call, the
    recorded attribution showed inputs [100, 2] for a decision taken on [1, 2]."""
    g = Guard(
        [parse("name: plain\nversion: 1\nrules: []\n")],
        audit=open_audit(f"sqlite:///{tmp_path / 'a.db'}"),
    )
    gated = Gated()

    @g.agent(actions=ACTIONS, explain=gated, explain_mode="deferred")
    def policy(x):  # type: ignore[no-untyped-def]
        return list(np.asarray(x, dtype=float).reshape(-1) @ COEF[0].T)

    decision = policy(obs).decision
    mutate(obs)
    gated.go.set()
    g.flush()
    assert g.audit is not None
    [linked] = g.audit.query(ref_id=decision.id, record_type="guard.explanation/v1").items
    assert linked.record["explanation"]["inputs"] == [1.0, 2.0]
    g.close()
