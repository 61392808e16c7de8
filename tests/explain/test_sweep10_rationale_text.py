"""A rationale's text counts in the singular where a count is one."""

from __future__ import annotations

import explain


def test_one_visit_and_one_simulation_are_singular() -> None:
    tree = {"children": {"a": {"visits": 1, "value": 0.5}}}
    text = explain.rationale(tree).text
    assert "1 visit," in text and "Search ran 1 simulation;" in text
    assert "1 visits" not in text and "1 simulations" not in text


def test_a_tie_on_one_visit_each_is_singular() -> None:
    tree = {"children": {"a": {"visits": 1, "value": 0.9}, "b": {"visits": 1, "value": 0.1}}}
    text = explain.rationale(tree).text
    assert "both received 1 visit and" in text and "Search ran 2 simulations;" in text
