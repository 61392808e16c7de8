"""Nested search trees with statistics that are not numbers get a SearchTreeError."""

from __future__ import annotations

import numpy as np
import pytest

from explain import SearchTreeError, rationale


@pytest.mark.parametrize(
    ("child", "needle"),
    [
        pytest.param(
            {"value": "high"}, "value must be a number, got a str \\(text\\)$", id="str-value"
        ),
        pytest.param({"total_reward": "x"}, "total value must be a number", id="str-total"),
        pytest.param({"value": 0.1, "prior": "p"}, "prior must be a number", id="str-prior"),
        pytest.param({"value": 0.1, "outcome": [1]}, "outcome must be a number", id="list-outcome"),
        pytest.param({"value": "Ada Lovelace"}, "got a str", id="text-not-quoted"),
        pytest.param({"value": True}, "value must be a number, got a bool$", id="bool-value"),
    ],
)
def test_a_statistic_that_is_not_a_number_is_a_search_tree_error(
    child: dict[str, object], needle: str
) -> None:
    tree = {"children": [{"action": 0, "visits": 3, **child}]}
    with pytest.raises(SearchTreeError, match=needle):
        rationale(tree)


def test_numpy_and_torch_scalars_are_numbers() -> None:
    torch = pytest.importorskip("torch")
    tree = {
        "children": [
            {"action": 0, "visits": 3, "value": torch.tensor(0.5), "prior": np.array(0.2)},
            {"action": 1, "visits": 1, "value": np.float32(0.25), "outcome": np.float64(-1)},
        ]
    }
    r = rationale(tree)
    assert (r.actions[0].q, r.actions[0].prior, r.actions[1].outcome) == (0.5, 0.2, -1.0)


def test_a_visit_count_that_is_text_is_not_quoted() -> None:
    tree = {"children": [{"action": 0, "visits": "Ada Lovelace", "value": 0.1}]}
    with pytest.raises(SearchTreeError, match="got a str") as caught:
        rationale(tree)
    assert "Ada" not in str(caught.value)
