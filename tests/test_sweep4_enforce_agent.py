"""@g.agent / @g.ranker around policies nobody here wrote: masks, dtypes, async generators."""

from __future__ import annotations

import asyncio
import math

import numpy as np
import pytest

from guard import Guard, InvalidAction
from guard.policy import parse

torch = pytest.importorskip("torch")

PACK = """\
name: sweep4
version: 1
rules:
  - id: no-big-pay
    match: {kind: pay}
    when: params.amount > 1000
    effect: deny
"""
BIG = {"kind": "pay", "params": {"amount": 5000}}
SMALL = {"kind": "pay", "params": {"amount": 10}}
READ = {"kind": "read", "params": {}}
ACTIONS = [BIG, SMALL, READ]
INF = math.inf


@pytest.fixture
def g() -> Guard:
    return Guard([parse(PACK)])


@pytest.mark.parametrize(
    ("scores", "runs", "chosen"),
    [
        pytest.param([3.0, -INF, 1.0], READ, 2, id="masked-runner-up-is-skipped"),
        pytest.param([-INF, 2.0, 1.0], SMALL, None, id="masked-first"),
        pytest.param(torch.tensor([[3.0, -INF, 1.0]]), READ, 2, id="torch-batch-of-one"),
        pytest.param(np.array([3.0, 2.0, -np.inf]), SMALL, 1, id="numpy"),
        pytest.param([3.0, 2.0, 1.0], SMALL, 1, id="no-mask"),
    ],
)
def test_a_minus_inf_score_masks_its_action(g: Guard, scores, runs, chosen) -> None:  # type: ignore[no-untyped-def]
    """Action masking (-inf logits) raised InvalidAction 'score #1 is -inf'; a masked
    action must never be proposed, nor substituted for a denied one."""
    out = g.agent(lambda: scores, actions=ACTIONS)()
    assert dict(out) == runs
    sub = out.decision.substitution
    assert (sub.chosen_index if sub else None) == chosen


@pytest.mark.parametrize(
    ("scores", "match"),
    [
        pytest.param(
            [-INF, -INF, -INF], "every one of the 3 declared actions scored -inf", id="all"
        ),
        pytest.param(
            [math.nan, 1.0, 0.0], "score #0 is nan; scores must be finite, or -inf", id="nan"
        ),
        pytest.param([INF, 1.0, 0.0], "score #0 is inf", id="plus-inf"),
    ],
)
def test_scores_that_propose_nothing_are_refused(g: Guard, scores, match) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidAction, match=match):
        g.agent(lambda: scores, actions=ACTIONS)()


def test_a_minus_inf_probability_among_alternatives_is_still_refused(g: Guard) -> None:
    with pytest.raises(InvalidAction, match="alternative #1 is -inf; scores must be finite$"):
        g.agent(lambda: [(BIG, 0.9), (SMALL, -INF)])()


@pytest.mark.parametrize(
    "dtype",
    [
        pytest.param(torch.bfloat16, id="bfloat16"),
        pytest.param(torch.float16, id="float16"),
        pytest.param(torch.int64, id="int64"),
    ],
)
def test_torch_scores_of_any_dtype_are_read(g: Guard, dtype) -> None:  # type: ignore[no-untyped-def]
    """bfloat16 logits raised a bare TypeError ('Got unsupported ScalarType BFloat16')."""
    out = g.agent(lambda: torch.tensor([[3, 2, 1]], dtype=dtype), actions=ACTIONS)()
    assert dict(out) == SMALL


def test_a_ranker_with_bfloat16_scores_keeps_its_items() -> None:
    g = Guard([parse(PACK)])
    items = [{"id": "a", "score": torch.tensor(0.5, dtype=torch.bfloat16)}]
    assert [i["score"] for i in g.ranker(lambda: items)()] == [0.5]
    assert isinstance(items[0]["score"], torch.Tensor)  # the caller's items are untouched


def test_an_async_generator_of_alternatives_is_enforced(g: Guard) -> None:
    """An async generator policy got 'must return an action ... got async_generator'."""

    @g.agent
    async def act():  # type: ignore[no-untyped-def]
        yield BIG, 0.7
        yield SMALL, 0.3

    out = asyncio.run(act())
    assert dict(out) == SMALL and out.decision.substitution is not None


def test_an_async_generator_of_items_is_ranked() -> None:
    g = Guard([parse(PACK)])

    @g.ranker
    async def rank():  # type: ignore[no-untyped-def]
        yield {"id": "a", "score": 0.9}
        yield {"id": "b", "score": 0.1}

    assert [i["id"] for i in asyncio.run(rank())] == ["a", "b"]


@pytest.mark.parametrize(
    ("out", "hint"),
    [
        pytest.param(
            np.array([("a", 0.5)], dtype=[("id", "U5"), ("score", "f8")]),
            "got ndarray; convert .*dtype.names",
            id="structured-array",
        ),
        pytest.param({"id": "a", "score": 0.5}, "got dict", id="one-item"),
    ],
)
def test_a_ranker_returning_no_list_is_told_how_to_convert(out, hint) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidAction, match=hint):
        Guard([parse(PACK)]).ranker(lambda: out)()


def test_a_policy_that_raises_runs_nothing_and_says_why(g: Guard) -> None:
    ran = []

    @g.agent
    def act() -> dict:
        raise RuntimeError("model crashed")

    with pytest.raises(RuntimeError, match="model crashed"):
        ran.append(act())
    assert ran == []
