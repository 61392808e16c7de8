"""Explanation errors name a value's type, position or feature, never the value itself: an
`ExplanationUnavailable` reason is stored in the audit log, and a value the PII detectors
miss (a name, an account id, free text) would be stored as it was given."""

from __future__ import annotations

import decimal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import explain
from explain import ExplanationUnavailable, safe_explain
from explain._errors import ExplanationTypeError, SearchTreeError
from guard import Guard
from guard.audit import open_audit
from guard.policy import parse

SECRET = "Ada Quill ACCT-7731-ZQ"


def _sum(rows: np.ndarray) -> np.ndarray:
    return rows.sum(axis=1)


def _reason(explainer_call: Callable[[], Any]) -> str:
    class Explainer:
        def explain(self, x: Any, target: int | None = None) -> Any:
            return explainer_call()

    result = safe_explain(Explainer(), None)
    assert isinstance(result, ExplanationUnavailable)
    return result.reason


@pytest.mark.parametrize(
    ("call", "needle"),
    [
        pytest.param(
            lambda: explain.shap(_sum, pd.DataFrame({"a": [1.0, 2.0], "b": [SECRET, "x"]})),
            "row 0, column 'b' holds a str (text)",
            id="frame-background",
        ),
        pytest.param(
            lambda: explain.shap(_sum, np.zeros((2, 3))).explain([1.0, SECRET, 2.0]),
            "column 1 holds a str (text)",
            id="list-row",
        ),
        pytest.param(
            lambda: explain.shap(_sum, np.zeros((2, 2)), ["amount", "account"]).explain(
                {"amount": 1.0, "account": SECRET}
            ),
            "column 'account' holds a str (text)",
            id="mapping-row",
        ),
        pytest.param(
            lambda: explain.shap(_sum, pd.DataFrame({"a": [1.0], "b": [2.0]})).explain(
                pd.Series({"a": 1.0, "b": SECRET})
            ),
            "column 'b' holds a str (text)",
            id="series-row",
        ),
        pytest.param(
            lambda: explain.shap(_sum, np.zeros((2, 2))).explain([1.0, SECRET.encode()]),
            "column 1 holds bytes",
            id="bytes",
        ),
        pytest.param(
            lambda: explain.shap(_sum, np.zeros((2, 2))).explain([1.0, {"name": SECRET}]),
            "column 1 holds a dict",
            id="dict-in-row",
        ),
        pytest.param(
            lambda: explain.shap(_sum, np.zeros((2, 2)), ["amount", SECRET.encode()]),  # type: ignore[list-item]
            "feature_names must be strings; name 1 is bytes",
            id="feature-name-bytes",
        ),
        pytest.param(
            lambda: explain.shap(lambda rows: np.array([SECRET] * len(rows)), np.zeros((2, 2))),
            "output is not numeric: it holds a str (text)",
            id="model-output-text",
        ),
    ],
)
def test_a_reason_names_the_type_and_place_not_the_value(
    call: Callable[[], Any], needle: str
) -> None:
    reason = _reason(call)
    assert needle in reason
    assert "Ada" not in reason and "ACCT" not in reason


def test_hints_still_say_what_to_do() -> None:
    ex = explain.shap(_sum, np.zeros((2, 3)))
    with pytest.raises(
        ExplanationTypeError, match=r"column 0 holds a str \(text\) that reads as a number: convert"
    ):
        ex.explain(np.array(["1.5", "2.5", "3.5"]))
    with pytest.raises(ExplanationTypeError, match=r"column 2 holds a Decimal: give it as a float"):
        ex.explain([1.0, 2.0, decimal.Decimal("12345.67")])
    with pytest.raises(
        ExplanationTypeError, match=r"column 0 holds None: give a missing value as NaN"
    ):
        ex.explain([None, 2.0, 3.0])
    with pytest.raises(ExplanationTypeError, match=r"holds a str \(text\): encode categorical"):
        ex.explain(["red", 2.0, 3.0])


def test_a_row_of_text_is_not_stored_in_the_audit_log(tmp_path: Path) -> None:
    """The guarded agent's input reaches the explainer; its refusal is recorded with the
    decision, and the account id (no PII detector finds it) must not be in the record."""
    pack = parse("name: plain\nversion: 1\nrules: []\n")
    g = Guard([pack], audit=open_audit(f"sqlite:///{tmp_path / 'a.db'}"))
    actions = [{"kind": "offer", "params": {"tier": 0}}, {"kind": "offer", "params": {"tier": 1}}]
    explainer = explain.shap(_sum, np.zeros((1, 2)), ["amount", "account"])

    @g.agent(actions=actions, explain=explainer, explain_mode="sync")
    def policy(x: dict[str, Any]) -> list[float]:
        return [0.2, 0.8]

    out = policy({"amount": 3.0, "account": SECRET})
    [unavailable] = out.decision.explanations
    assert "column 'account' holds a str (text)" in unavailable["reason"]
    g.flush()
    assert g.audit is not None
    [stored] = g.audit.query(record_type="guard.decision/v1").items
    g.close()
    text = str(stored.record)
    assert "column 'account'" in text
    assert "Ada" not in text and "ACCT" not in text


@pytest.mark.parametrize(
    ("tree", "needle"),
    [
        pytest.param({"children": [SECRET]}, "child 0 is a str (text), not a node", id="str-child"),
        pytest.param({"children": SECRET}, "got a str (text)", id="str-children"),
        pytest.param(
            {"children": [{"action": {"to": SECRET}, "visits": 1, "value": 0.0}]},
            "an action must be an int or str, got a dict",
            id="dict-action",
        ),
    ],
)
def test_a_malformed_tree_is_named_without_its_contents(tree: Any, needle: str) -> None:
    with pytest.raises((SearchTreeError, ExplanationTypeError)) as info:
        explain.rationale(tree)
    assert needle in str(info.value)
    assert "Ada" not in str(info.value)


def test_labels_that_are_neither_mapping_nor_function_are_named_by_type() -> None:
    tree = {"children": [{"action": 0, "visits": 1, "value": 0.0}]}
    with pytest.raises(ExplanationTypeError, match="got a list") as info:
        explain.rationale(tree, labels=[SECRET])
    assert "Ada" not in str(info.value)


def test_a_single_root_action_with_nothing_shielded_is_the_only_root_action() -> None:
    """'the only allowed root action' implied a shield removed others; none was."""
    tree = {"children": [{"action": 0, "visits": 4, "value": 1.0}]}
    text = explain.rationale(tree).text
    assert "it was the only root action" in text
    assert "allowed" not in text
    two = {"children": [*tree["children"], {"action": 1, "visits": 2, "value": 0.0}]}
    assert "the only allowed root action" in explain.rationale(two, shielded={1: "r"}).text


def test_a_pair_item_with_text_is_named_as_that_item_and_its_column() -> None:
    """explain_pair(f, [1.0, text], b) said 'background ... column 0 holds a str that reads
    as a number': the row was made an array of text first, so 1.0 became '1.0', and the
    error named an argument the caller never passed."""
    with pytest.raises(ExplanationTypeError) as info:
        explain.explain_pair(_sum, [1.0, SECRET], [1.0, 2.0])
    message = str(info.value)
    assert message.startswith("a must hold numbers")
    assert "column 1 holds a str (text)" in message and "Ada" not in message


def test_ranking_items_with_text_are_named_as_items() -> None:
    with pytest.raises(ExplanationTypeError) as info:
        explain.explain_ranking(_sum, [[1.0, 2.0], [3.0, SECRET]])
    message = str(info.value)
    assert message.startswith("items must hold numbers")
    assert "row 1, column 1 holds a str (text)" in message and "Ada" not in message


def test_ranking_items_given_as_mappings_are_named_as_items_with_a_way_out() -> None:
    """A ranker's items as dicts said 'background must be a 2-D array': the caller passed
    no background. Since sweep 15 they are read as pandas.DataFrame(rows) would be, and a
    malformed item is named as an item."""
    items = [{"price": 1.0, "rating": 4.0}, {"price": 2.0, "rating": 3.0}]
    ranked = explain.explain_ranking(_sum, items)
    framed = explain.explain_ranking(_sum, pd.DataFrame(items))
    assert [a.values for a in ranked] == [a.values for a in framed]
    assert [a.feature_names for a in ranked] == [["price", "rating"]] * 2
    with pytest.raises(explain.ExplanationInputError) as info:
        explain.explain_ranking(_sum, [items[0], {"price": 2.0}])
    assert str(info.value).startswith("items[1] as a mapping must have exactly")
