"""Sweep 15: search trees whose statistics are 0-d numpy or torch arrays.

A planner keeping its counts in an array hands out `counts[a]`, a 0-d array, not a Python
int. Values and priors given so were read, but visit counts and actions were refused
("visits must be a whole number, got a Tensor"; "an action must be an int or str").
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import explain

torch = pytest.importorskip("torch")


def _tree(num: Any) -> dict[str, Any]:
    return {
        "visits": num(10),
        "children": [
            {"action": num(0), "visits": num(4), "value": 0.9, "prior": 0.2},
            {
                "action": num(1),
                "visits": num(5),
                "total_reward": 1.5,
                "prior": 0.5,
                "children": [{"action": num(2), "visits": num(3), "value": -0.1}],
            },
            {"action": num(2), "visits": num(1), "value": 0.0, "prior": 0.3},
        ],
    }


@pytest.mark.parametrize(
    "num", [np.array, torch.tensor, np.int64], ids=["numpy_0d", "torch_0d", "numpy_int"]
)
def test_array_scalars_read_as_the_numbers_they_hold(num: Any) -> None:
    expected = explain.rationale(_tree(int))

    got = explain.rationale(_tree(num))

    assert got.model_dump() == expected.model_dump()
    assert got.chosen == 1 and isinstance(got.chosen, int)
    assert got.principal_variation == [1, 2]
    assert got.simulations == 10


def test_an_array_of_several_counts_is_still_refused() -> None:
    tree = {"children": [{"action": 0, "visits": np.array([4, 1]), "value": 0.5}]}

    with pytest.raises(explain.SearchTreeError, match="whole number"):
        explain.rationale(tree)
