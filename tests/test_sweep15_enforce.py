"""Sweep 15: what a guarded agent returns, as a new user's policy returns it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from guard import ActionEscalated, Guard
from guard._exceptions import InvalidAction

PACK = """\
name: s15
version: 1
rules:
  - id: no-delete
    match: {kind: delete}
    when: "true"
    effect: deny
  - id: big-payment
    match: {kind: pay}
    when: params.amount > 500
    effect: escalate
"""


@pytest.fixture
def g(tmp_path: Path) -> Guard:
    path = tmp_path / "s15.yaml"
    path.write_text(PACK, encoding="utf-8")
    return Guard.from_policy(str(path))


# -- numbers a model computed, inside the action: read as numbers, as a ranker's are -----


def _torch_scalar(value: float) -> Any:
    torch = pytest.importorskip("torch")
    return torch.tensor(value, requires_grad=True)


@pytest.mark.parametrize(
    "amount",
    [
        pytest.param(lambda: np.int64(600), id="numpy-int64"),
        pytest.param(lambda: np.float32(600.0), id="numpy-float32"),
        pytest.param(lambda: np.float16(600.0), id="numpy-float16"),
        pytest.param(lambda: _torch_scalar(600.0), id="torch-requires-grad"),
    ],
)
def test_a_model_number_in_the_action_is_checked_as_a_number(g: Guard, amount: Any) -> None:
    value = amount()
    action = {"kind": "pay", "params": {"amount": value}}

    @g.agent
    def act(obs: Any) -> dict[str, Any]:
        return action

    @g.agent
    def alternatives(obs: Any) -> list[tuple[dict[str, Any], float]]:
        return [({"kind": "delete"}, 0.9), (action, 0.1)]

    for guarded in (act, alternatives):
        with pytest.raises(ActionEscalated) as info:
            guarded(None)
        assert info.value.decision.hits[-1].rule_id == "big-payment"
    assert action["params"]["amount"] is value  # the policy's own action is left as it was

    small = {"kind": "pay", "params": {"amount": np.int64(5), "ids": np.array([1, 2])}}
    ran = g.agent(lambda obs: small)(None)
    assert ran == {"kind": "pay", "params": {"amount": 5, "ids": [1, 2]}}
    assert type(ran["params"]["amount"]) is int


def test_a_model_nan_in_the_action_is_still_refused(g: Guard) -> None:
    act = g.agent(lambda obs: {"kind": "pay", "params": {"amount": np.float32("nan")}})
    with pytest.raises(InvalidAction, match="nan"):
        act(None)


# -- one (action, probability) pair, not in a list: the error says so -------------------


def test_a_bare_pair_is_refused_with_how_to_return_it(g: Guard) -> None:
    act = g.agent(lambda obs: ({"kind": "read"}, 0.9))
    with pytest.raises(InvalidAction) as info:
        act(None)
    text = str(info.value)
    assert "without its probability" not in text  # it has one: the old message was wrong
    assert "one (action, probability) pair" in text and "[(action, probability)]" in text


# -- a ranker's items as pandas gives them ---------------------------------------------


def test_dataframe_rows_as_items_are_refused_with_how_to_pass_them(tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    path = tmp_path / "r.yaml"
    path.write_text(
        "name: r\nversion: 1\nrules:\n  - id: cap\n    scope: list\n"
        "    cap: {by: item.agency, max: 1}\n",
        encoding="utf-8",
    )
    g = Guard.from_policy(str(path))
    frame = pd.DataFrame([{"id": "a", "agency": "x"}, {"id": "b", "agency": "x"}])

    @g.ranker
    def rank(query: str) -> list[Any]:
        return [row for _, row in frame.iterrows()]

    with pytest.raises(InvalidAction) as info:
        rank("q")
    text = str(info.value)
    assert "got list" not in text  # the row was not a list: its labels were dropped
    assert "Series" in text and "to_dict('records')" in text


# -- action_of turns a planner's action into a guard action: a wrong one is named -------


def test_action_of_returning_no_action_names_itself(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        "name: p\nversion: 1\nrules:\n  - id: no-left\n    when: params.dir == 'left'\n",
        encoding="utf-8",
    )
    g = Guard.from_policy(str(path))
    tree = {"visits": 10, "children": {"left": {"visits": 6}, "up": {"visits": 4}}}
    act = g.agent(lambda state: tree, action_of=lambda a: a)  # forgot to build the dict
    with pytest.raises(InvalidAction) as info:
        act(None)
    text = str(info.value)
    assert "action_of" in text and "str" in text and "'left'" in text
    assert "pair" not in text  # the pairs are the guard's own, not the user's

    good = g.agent(lambda state: tree, action_of=lambda a: {"kind": "move", "params": {"dir": a}})
    assert good(None) == {"kind": "move", "params": {"dir": "up"}}


# -- a policy that yields for ever: refused once it passes the bound, not read for ever --


def test_an_endless_generator_of_alternatives_is_refused(g: Guard) -> None:
    import itertools

    from guard.enforce import MAX_YIELDED

    @g.agent
    def sampler(obs: Any) -> Any:
        for i in itertools.count():  # a sampler that never stops
            yield ({"kind": "read", "params": {"n": i}}, 1.0 / (i + 1))

    with pytest.raises(InvalidAction, match=f"more than {MAX_YIELDED:,}"):
        sampler(None)


def test_an_endless_async_generator_of_items_is_refused(g: Guard) -> None:
    import asyncio

    from guard.enforce import MAX_YIELDED

    @g.ranker
    async def rank(query: str) -> Any:
        i = 0
        while True:
            yield {"id": i}
            i += 1

    with pytest.raises(InvalidAction, match=f"more than {MAX_YIELDED:,}"):
        asyncio.run(rank("q"))


def test_a_generator_within_the_bound_is_read_whole(g: Guard) -> None:
    @g.ranker
    def rank(query: str) -> Any:
        yield from ({"id": i} for i in range(300))

    assert [item["id"] for item in rank("q")] == list(range(300))


# -- `score` in an action rule: the candidate's probability, as the policy doc says -----

SCORED = """\
name: scored
version: 1
rules:
  - id: no-delete
    match: {kind: delete}
    when: "true"
  - id: low-confidence
    when: score < 0.2
    effect: deny
    message: "score {score}"
"""


@pytest.fixture
def scored(tmp_path: Path) -> Guard:
    path = tmp_path / "scored.yaml"
    path.write_text(SCORED, encoding="utf-8")
    return Guard.from_policy(str(path))


def test_each_alternative_is_decided_with_its_own_score(scored: Guard) -> None:
    from guard import ActionBlocked

    @scored.agent
    def confident(obs: Any) -> list[tuple[dict[str, Any], float]]:
        return [({"kind": "delete"}, 0.6), ({"kind": "read"}, 0.3)]

    ran = confident(None)  # delete is denied; read's 0.3 is confident enough
    assert ran == {"kind": "read"} and not ran.decision.hits

    @scored.agent
    def unsure(obs: Any) -> list[tuple[dict[str, Any], float]]:
        return [({"kind": "delete"}, 0.6), ({"kind": "read"}, 0.1)]

    with pytest.raises(ActionBlocked) as info:
        unsure(None)
    sub = info.value.decision.substitution
    assert sub is not None
    assert [r["rule_ids"] for r in sub.rejected] == [["no-delete"], ["low-confidence"]]
    assert not any(h.error for h in info.value.decision.hits)  # decided, not failed


def test_scores_over_declared_actions_are_the_candidates_scores(scored: Guard) -> None:
    act = scored.agent(
        lambda obs: np.array([0.15, 0.85], dtype=np.float32),
        actions=[{"kind": "a"}, {"kind": "b"}],
    )
    assert act(None) == {"kind": "b"}


def test_a_single_action_has_no_score_of_its_own(scored: Guard) -> None:
    act = scored.agent(lambda obs: {"kind": "a"}, context={"score": 0.5})
    assert act(None) == {"kind": "a"}  # the context's own score: 0.5 is allowed
    bare = scored.agent(lambda obs: {"kind": "a"})
    from guard import ActionBlocked

    with pytest.raises(ActionBlocked) as info:
        bare(None)  # no score anywhere: the rule fails closed, as documented
    assert info.value.decision.hits[0].error is not None


# -- a functools.partial of an async callable object is awaited, as the object itself is --


def test_a_partial_of_an_async_callable_object_is_awaited(g: Guard) -> None:
    import asyncio
    import functools

    class Policy:
        async def __call__(self, mode: str, obs: Any) -> dict[str, Any]:
            return {"kind": mode}

        async def stream(self, mode: str, obs: Any) -> Any:
            yield ({"kind": "delete"}, 0.9)
            yield ({"kind": mode}, 0.1)

    act = g.agent(functools.partial(Policy(), "read"))
    assert asyncio.run(act(None)) == {"kind": "read"}
    streamed = g.agent(functools.partial(functools.partial(Policy().stream), "read"))
    assert asyncio.run(streamed(None)) == {"kind": "read"}


# -- a ranker returning a search response (a dict holding the list) ---------------------


def test_a_ranker_returning_a_response_dict_is_told_to_return_its_list(g: Guard) -> None:
    @g.ranker
    def search(query: str) -> Any:
        return {"total": 2, "items": [{"id": "a"}, {"id": "b"}]}

    with pytest.raises(InvalidAction) as info:
        search("q")
    text = str(info.value)
    assert "DataFrame" not in text  # the old hint was about another mistake
    assert "'items'" in text and "the list" in text
