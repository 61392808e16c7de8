"""List caps group items by JSON value at any depth: 1 and 1.0 are one group."""

from __future__ import annotations

import pytest

from guard import Guard
from guard.policy import parse

CAP = "name: r\nversion: 1\nrules:\n  - id: cap\n    scope: list\n    cap: {by: item.g, max: 1}\n"


@pytest.mark.parametrize(
    ("first", "second"),
    [(1, 1.0), ([1], [1.0]), ({"x": 1}, {"x": 1.0}), ([{"x": [2]}], [{"x": [2.0]}])],
)
def test_integral_floats_at_any_depth_share_a_group(first: object, second: object) -> None:
    g = Guard([parse(CAP)])
    d = g.rank([{"id": "a", "g": first}, {"id": "b", "g": second}])
    assert [o.id for o in d.items if o.verdict != "deny"] == ["a"]


@pytest.mark.parametrize(("first", "second"), [(True, 1), ([True], [1]), ([1.5], [1])])
def test_other_values_are_other_groups(first: object, second: object) -> None:
    g = Guard([parse(CAP)])
    d = g.rank([{"id": "a", "g": first}, {"id": "b", "g": second}])
    assert [o.id for o in d.items if o.verdict != "deny"] == ["a", "b"]
