"""Booleans are not numbers at any depth, and an overflowing sum is an error, not NaN."""

from __future__ import annotations

import pytest

from guard import Guard, Verdict
from guard.policy import parse

PACK = """\
name: semantics
version: 1
defaults: {{verdict: allow, on_error: deny}}
rules:
  - id: r
    when: >-
      {when}
    effect: escalate
"""


def _verdict(when: str, params: dict[str, object]) -> Verdict:
    guard = Guard([parse(PACK.format(when=when))])
    return guard.check({"kind": "k", "params": params}).verdict


@pytest.mark.parametrize(
    ("when", "params", "expected"),
    [
        pytest.param("params.x == [true]", {"x": [1]}, Verdict.ALLOW, id="list-vs-literal"),
        pytest.param("params.x != [true]", {"x": [1]}, Verdict.ESCALATE, id="ne-list-literal"),
        pytest.param("params.x == [true]", {"x": [True]}, Verdict.ESCALATE, id="same-list"),
        pytest.param("params.x == params.y", {"x": [1], "y": [True]}, Verdict.ALLOW, id="paths"),
        pytest.param("params.x == params.y", {"x": {"a": 1}, "y": {"a": True}}, Verdict.ALLOW,
                     id="objects"),
        pytest.param("params.x == params.y", {"x": [[1, 2]], "y": [[1, 2]]}, Verdict.ESCALATE,
                     id="nested-equal"),
        pytest.param('params.x == {"a": 1}', {"x": {"a": True}}, Verdict.ALLOW,
                     id="object-literal"),
        pytest.param("params.x == [1.0]", {"x": [1]}, Verdict.ESCALATE, id="int-float-equal"),
        pytest.param('params.x == "a"', {"x": "a"}, Verdict.ESCALATE, id="strings"),
    ],
)  # fmt: skip
def test_equality_keeps_booleans_apart_at_any_depth(
    when: str, params: dict[str, object], expected: Verdict
) -> None:
    assert _verdict(when, params) is expected


@pytest.mark.parametrize(
    ("when", "params"),
    [
        pytest.param("params.x < params.y", {"x": [True], "y": [2]}, id="paths"),
        pytest.param("params.x < [2]", {"x": [True]}, id="value-holds-bool"),
        pytest.param("params.x > [true]", {"x": [2]}, id="literal-holds-bool"),
        pytest.param("params.x <= params.y", {"x": [[1]], "y": [[False]]}, id="nested"),
    ],
)
def test_ordering_lists_that_hold_booleans_is_an_error(
    when: str, params: dict[str, object]
) -> None:
    # an error follows on_error (deny), where Python would have compared true as 1
    assert _verdict(when, params) is Verdict.DENY


def test_lists_without_booleans_still_order() -> None:
    assert _verdict("params.x < params.y", {"x": [1, 2], "y": [1, 3]}) is Verdict.ESCALATE
    assert _verdict("params.x < [1, 3]", {"x": [1, 2]}) is Verdict.ESCALATE


@pytest.mark.parametrize(
    "when",
    [
        pytest.param("params.a * 10 - params.a * 10 >= 5", id="nan-ge"),
        pytest.param("params.a * 10 - params.a * 10 < 5", id="nan-lt"),
        pytest.param("params.a * 10 > 0", id="inf"),
        pytest.param("params.a + params.a > 0", id="add"),
        pytest.param("params.a / 1e-300 > 0", id="div"),
        pytest.param("params.a - -params.a > 0", id="sub"),
    ],
)
def test_an_overflowing_result_is_an_error_not_a_silent_false(when: str) -> None:
    assert _verdict(when, {"a": 1e308}) is Verdict.DENY


def test_finite_arithmetic_is_unchanged() -> None:
    assert _verdict("params.a * 10 - params.a * 10 < 5", {"a": 1e300}) is Verdict.ESCALATE
