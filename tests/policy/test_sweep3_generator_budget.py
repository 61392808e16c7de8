"""any()/all() over a generator: a costly body repeated per element is a clear error."""

from __future__ import annotations

import time

import pytest

from guard._exceptions import EvaluationError
from guard.policy._expr import compile_expr

MAX_GENERATOR_SECONDS = 1.0  # guard.policy._expr.MAX_GENERATOR_SECONDS


@pytest.mark.parametrize(
    "source",
    [
        "any(min([x] * 99999) < 0 for x in [0] * 2000)",
        "all(max([x] * 99999) == 0 for x in [0] * 2000)",
        "any(x for x in params.xs if sum([x] * 99999) < 0)",
    ],
)
def test_a_costly_generator_stops_with_an_error(source: str) -> None:
    # 41 characters of condition ran for 42 s of CPU (and 2,000 characters for ~30 min).
    expr = compile_expr(source)
    env = {"params": {"xs": [0] * 9000}}
    started = time.process_time()  # CPU time: a loaded machine does not stretch it
    with pytest.raises(EvaluationError, match="CPU time"):
        expr.evaluate(env)
    # The budget stops it; unbounded, this ran for 42 s of CPU.
    assert time.process_time() - started < MAX_GENERATOR_SECONDS + 9.0
    with pytest.raises(EvaluationError, match="CPU time"):
        expr.explain(env)


def test_a_cheap_generator_over_the_most_elements_still_runs() -> None:
    expr = compile_expr("all(x >= 0 and x in [0, 1, 2] for x in params.xs)")
    assert expr.evaluate({"params": {"xs": [0, 1, 2] * 3333}}) is True
