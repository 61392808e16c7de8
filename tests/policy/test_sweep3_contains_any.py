"""contains_any() over two lists: linear for scalars, exact, and bounded for the rest."""

from __future__ import annotations

import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from guard._exceptions import EvaluationError
from guard.policy._expr import compile_expr
from guard.policy._functions import _same

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.sampled_from([0.0, 1.0, -1.0, 2.5, float("nan")]),
    st.sampled_from(["", "a", "A", "1", "true"]),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from("ab"), inner),
    max_leaves=6,
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_values, max_size=6), st.lists(_values, max_size=6))
def test_same_answer_as_every_pair(haystack: list[Any], needles: list[Any]) -> None:
    expected = any(_same(n, x) for n in needles for x in haystack)
    expr = compile_expr("contains_any(params.h, params.n)")
    assert expr.evaluate({"params": {"h": haystack, "n": needles}}) is expected


def test_two_long_lists_of_scalars_take_linear_time() -> None:
    expr = compile_expr("contains_any(params.h, params.n)")
    env = {"params": {"h": list(range(50_000)), "n": [str(i) for i in range(50_000)]}}
    started = time.process_time()
    assert expr.evaluate(env) is False  # 2.5e9 pairs compared one by one before
    assert time.process_time() - started < 2.0


def test_two_long_lists_of_lists_are_a_clear_error() -> None:
    expr = compile_expr("contains_any(params.h, params.n)")
    env = {"params": {"h": [[i] for i in range(1, 5_001)], "n": [[-i] for i in range(1, 5_001)]}}
    with pytest.raises(EvaluationError, match="more than"):
        expr.evaluate(env)
