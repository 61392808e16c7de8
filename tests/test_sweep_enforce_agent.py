"""Defects found by using @g.agent as a new user would: each test failed before its fix."""

from __future__ import annotations

import numpy as np
import pytest

from guard import Action, Guard, InvalidAction, Verdict
from guard.policy import parse

PACK = """\
name: sweep
version: 1
rules:
  - id: no-big-pay
    match: {kind: pay}
    when: params.amount > 1000
    effect: deny
  - id: no-action-0
    match: {kind: planner_action}
    when: params.action == 0
    effect: deny
"""

BIG = {"kind": "pay", "params": {"amount": 5000}}
SMALL = {"kind": "pay", "params": {"amount": 10}}
READ = {"kind": "read", "params": {}}


@pytest.fixture
def g() -> Guard:
    return Guard([parse(PACK)])


def test_a_substituted_planner_action_is_the_one_the_rationale_names(g: Guard) -> None:
    """The runner-up by visits is a proven loss: the search ranks it below action 2, and
    so does the rationale; the guard must play what the rationale says."""
    tree = {
        "visits": 100,
        "children": [
            {"action": 0, "visits": 45, "value": 0.5},
            {"action": 1, "visits": 30, "value": -0.9, "outcome": -1.0},
            {"action": 2, "visits": 25, "value": 0.1},
        ],
    }

    @g.agent
    def plan(obs: object) -> dict:
        return tree

    out = plan(None)
    [r] = out.decision.explanations
    assert r["rule"] == "best_allowed" and r["chosen"] == 2
    assert out["params"]["action"] == r["chosen"]


def test_pydantic_actions_are_accepted_as_alternatives(g: Guard) -> None:
    @g.agent
    def act() -> list:
        return [
            (Action(kind="pay", params={"amount": 5000}), 0.7),
            (Action(kind="pay", params={"amount": 10}), 0.3),
        ]

    out = act()
    assert out["params"] == {"amount": 10}
    assert out.decision.substitution is not None and out.decision.substitution.chosen_index == 1


@pytest.mark.parametrize(
    "scores",
    [
        pytest.param(np.array([[0.9, 0.1, 0.0]]), id="numpy-1xk"),
        pytest.param([[0.9, 0.1, 0.0]], id="list-1xk"),
    ],
)
def test_a_batch_of_one_row_of_scores_is_read_as_the_vector(g: Guard, scores: object) -> None:
    @g.agent(actions=[BIG, SMALL, READ])
    def act() -> object:
        return scores

    out = act()
    assert out == SMALL and out.decision.substitution is not None


def test_a_batch_of_one_torch_row_is_read_as_the_vector(g: Guard) -> None:
    torch = pytest.importorskip("torch")

    @g.agent(actions=[BIG, SMALL, READ])
    def act() -> object:
        return torch.tensor([[0.1, 0.2, 0.7]], requires_grad=True)

    assert act() == READ


def test_a_real_batch_of_scores_is_refused_naming_its_shape(g: Guard) -> None:
    @g.agent(actions=[BIG, SMALL])
    def act() -> object:
        return np.zeros((2, 2))

    with pytest.raises(InvalidAction, match=r"shape \(2, 2\)"):
        act()


@pytest.mark.parametrize(
    "result",
    [
        pytest.param({"x0": 1.0}, id="dict"),
        pytest.param(None, id="none"),
        pytest.param([1.0, 2.0], id="list"),
    ],
)
def test_an_explain_callable_returning_no_attribution_costs_nothing(
    g: Guard, result: object
) -> None:
    @g.agent(explain=lambda obs: result)
    def act(obs: object) -> dict:
        return SMALL

    out = act(1)
    assert out.decision.verdict is Verdict.ALLOW
    [e] = out.decision.explanations
    assert e["kind"] == "unavailable" and type(result).__name__ in e["reason"]


def test_a_generator_of_alternatives_is_read_once_and_enforced(g: Guard) -> None:
    @g.agent(explain=lambda obs: None)
    def act(obs: object):  # type: ignore[no-untyped-def]
        yield (BIG, 0.6)
        yield (SMALL, 0.4)

    out = act(1)
    assert out == SMALL and out.decision.substitution is not None
    assert out.decision.substitution.rejected[0]["rule_ids"] == ["no-big-pay"]


def test_a_generator_of_items_is_ranked() -> None:
    r = Guard.from_policy("ranking")

    @r.ranker
    def search(q: str):  # type: ignore[no-untyped-def]
        yield {"id": "a", "score": 0.9, "status": "suspended"}
        yield {"id": "b", "score": 0.8, "verified": True}

    assert [i["id"] for i in search("q")] == ["b"]


RATE_PACK = """\
name: rates
version: 1
rules:
  - id: no-big-pay
    match: {kind: pay}
    when: params.amount > 1000
    effect: deny
  - id: two-small-pays-a-minute
    match: {kind: pay}
    when: params.amount <= 1000 and rate(str(actor), 60) > 2
    effect: deny
"""


def test_shadow_mode_records_the_first_choice_that_ran_not_the_substitute() -> None:
    """In shadow mode nothing is enforced, so the denied first choice runs: the decision
    is that action's (deny, with the substitution enforcing would make), and rate() counts
    it, not the alternative that never ran."""
    g = Guard([parse(RATE_PACK)], mode="shadow")
    big = {"kind": "pay", "actor": "u", "params": {"amount": 5000}}
    small = {"kind": "pay", "actor": "u", "params": {"amount": 10}}

    @g.agent
    def act() -> list:
        return [(big, 0.9), (small, 0.1)]

    for _ in range(2):
        out = act()
        assert out == big
        assert out.decision.verdict is Verdict.DENY
        assert out.decision.substitution is not None
        assert out.decision.substitution.chosen_index == 1
    assert g.check(small).verdict is Verdict.ALLOW  # no small payment has happened yet


def test_a_method_is_explained_on_its_observation_not_on_self(g: Guard) -> None:
    torch = pytest.importorskip("torch")
    import explain

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 3))

    class Agent:
        @g.agent(actions=[BIG, SMALL, READ], explain=explain.captum(net))
        def act(self, x: object) -> object:
            return net(torch.as_tensor(x, dtype=torch.float32))

    out = Agent().act([0.5, -1.0, 2.0])
    [e] = out.decision.explanations
    assert e["kind"] == "attribution" and e["inputs"] == [0.5, -1.0, 2.0]
    assert abs(sum(e["values"]) - (e["output"] - e["base_value"])) < 1e-3  # completeness


def test_a_planner_method_labels_root_actions_from_its_state() -> None:
    g = Guard([parse(PACK)])

    class State:
        def legal_actions(self) -> list[int]:
            return [0, 1]

        def current_player(self) -> int:
            return 0

        def action_to_string(self, player: int, action: int) -> str:
            return f"move-{action}"

    class Planner:
        @g.agent
        def plan(self, state: State) -> dict:
            return {"children": [{"action": 0, "visits": 6}, {"action": 1, "visits": 4}]}

    out = Planner().plan(State())
    [r] = out.decision.explanations
    assert r["chosen"] == 1 and r["chosen_label"] == "move-1"
