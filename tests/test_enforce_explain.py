from __future__ import annotations

from pathlib import Path

import pytest

from guard import ActionEscalated, Guard, Verdict
from guard.audit import open_audit
from guard.policy import parse

TREE = {
    "visits": 100,
    "children": [
        {"action": 0, "visits": 60, "value": 30.0, "prior": 0.5, "children": []},
        {"action": 1, "visits": 30, "value": 6.0, "prior": 0.3, "children": []},
        {"action": 2, "visits": 10, "value": -5.0, "prior": 0.2, "children": []},
    ],
}

PLANNER = """\
name: planner
version: 1
rules:
  - id: no-action-0
    match: {kind: planner_action}
    when: params.action == 0
    effect: deny
  - id: low-confidence
    when: rationale.visit_share < 0.2
    effect: escalate
"""


def test_denied_planner_choice_is_replaced_by_best_allowed_child() -> None:
    g = Guard([parse(PLANNER)])

    @g.agent
    def plan(obs: str) -> dict:
        return TREE

    out = plan("s")
    assert out["params"]["action"] == 1
    d = out.decision
    assert d.substitution is not None and d.substitution.chosen_index == 1
    [r] = d.explanations
    assert r["kind"] == "rationale" and r["chosen"] == 1
    assert r["shielded"][0]["action"] == 0 and "no-action-0" in r["shielded"][0]["rule"]
    assert "0" in r["text"] and r["substituted_for"] == 0


def test_rules_can_read_the_rationale() -> None:
    g = Guard([parse(PLANNER)])
    tree = {
        "visits": 100,
        "children": [
            {"action": 5, "visits": 15, "value": 1.0, "children": []},
            {"action": 6, "visits": 14, "value": 1.0, "children": []},
            {"action": 7, "visits": 14, "value": 1.0, "children": []},
            {"action": 8, "visits": 14, "value": 1.0, "children": []},
            {"action": 9, "visits": 14, "value": 1.0, "children": []},
            {"action": 10, "visits": 14, "value": 1.0, "children": []},
            {"action": 11, "visits": 15, "value": 1.5, "children": []},
        ],
    }

    @g.agent
    def plan() -> dict:
        return tree

    with pytest.raises(ActionEscalated) as info:
        plan()
    assert info.value.decision.hits[0].rule_id == "low-confidence"
    assert info.value.decision.hits[0].evidence["rationale.visit_share"] < 0.2


def test_openspiel_mcts_choice_is_post_shielded() -> None:
    pyspiel = pytest.importorskip("pyspiel")
    import numpy as np
    from open_spiel.python.algorithms import mcts

    game = pyspiel.load_game("tic_tac_toe")
    state = game.new_initial_state()
    bot = mcts.MCTSBot(
        game,
        2.0,
        200,
        mcts.RandomRolloutEvaluator(1, np.random.RandomState(0)),
        random_state=np.random.RandomState(0),
        solve=False,
    )
    root = bot.mcts_search(state)
    best = root.best_child().action
    pack = parse(
        f"name: ttt\nversion: 1\nrules:\n  - id: not-{best}\n    when: params.cell == {best}\n"
        "    effect: deny\n"
    )
    g = Guard([pack])

    @g.agent(action_of=lambda a: {"kind": "move", "params": {"cell": a}})
    def play(s: object) -> object:
        return root

    out = play(state)
    kids = sorted((c for c in root.children if c.action != best), key=lambda c: -c.explore_count)
    assert out["params"]["cell"] == kids[0].action
    r = out.decision.explanations[0]
    visits = {a["action"]: a["visits"] for a in r["actions"]}
    assert visits == {c.action: c.explore_count for c in root.children}
    assert r["simulations"] >= 199


LINEAR = """\
name: scorer
version: 1
rules:
  - id: driven-by-age
    when: attribution.age > 1.0
    effect: escalate
"""


def _linear_net():
    torch = pytest.importorskip("torch")
    net = torch.nn.Linear(3, 2)
    with torch.no_grad():
        net.weight.copy_(torch.tensor([[2.0, 0.0, 0.0], [0.0, 1.0, 0.0]]))
        net.bias.zero_()
    return torch, net


def test_attribution_is_computed_synchronously_when_rules_read_it() -> None:
    torch, net = _linear_net()
    import explain

    g = Guard([parse(LINEAR)])
    actions = [{"kind": "offer", "params": {"tier": 0}}, {"kind": "offer", "params": {"tier": 1}}]
    explainer = explain.captum(net, feature_names=["age", "income", "tenure"])

    @g.agent(actions=actions, explain=explainer)
    def policy(x):
        return net(x)

    with pytest.raises(ActionEscalated) as info:
        policy(torch.tensor([1.0, 0.5, 0.0]))
    attribution = info.value.decision.explanations[0]
    assert attribution["method"].startswith("integrated_gradients")
    assert attribution["values"][0] == pytest.approx(2.0, abs=1e-3)
    assert info.value.decision.hits[0].evidence["attribution.age"] == pytest.approx(2.0, abs=1e-3)
    out = policy(torch.tensor([0.2, 0.1, 0.0]))
    assert out.decision.verdict is Verdict.ALLOW


def test_deferred_explanation_is_a_linked_audit_record(tmp_path: Path) -> None:
    torch, net = _linear_net()
    import explain

    pack = parse("name: plain\nversion: 1\nrules: []\n")
    g = Guard([pack], audit=open_audit(f"sqlite:///{tmp_path / 'a.db'}"))
    actions = [{"kind": "offer", "params": {"tier": 0}}, {"kind": "offer", "params": {"tier": 1}}]

    @g.agent(actions=actions, explain=explain.captum(net))
    def policy(x):
        return net(x)

    out = policy(torch.tensor([1.0, 0.5, 0.0]))
    assert out.decision.explanations == []
    g.flush()
    assert g.audit is not None
    page = g.audit.query(ref_id=out.decision.id, record_type="guard.explanation/v1")
    [linked] = page.items
    assert linked.record["explanation"]["kind"] == "attribution"
    assert linked.record["explanation"]["check_ok"] is True
    g.close()


def test_failed_explanation_never_loses_the_decision() -> None:
    g = Guard([parse("name: plain\nversion: 1\nrules: []\n")])

    def broken(*args: object) -> object:
        raise RuntimeError("model exploded")

    @g.agent(explain=broken)
    def act(x: int) -> dict:
        return {"kind": "noop", "params": {}}

    out = act(1)
    assert out.decision.verdict is Verdict.ALLOW
    assert out.decision.explanations[0]["reason"].startswith("RuntimeError: model exploded")


def test_the_planners_choice_runs_even_when_it_is_not_the_most_visited() -> None:
    """A proven win is chosen with fewer visits: the guard checks and runs that action,
    the one its recorded rationale names, not the most visited one."""
    g = Guard([parse(PLANNER.replace("params.action == 0", "params.action == 2"))])
    solved = {
        "visits": 100,
        "children": [
            {"action": 0, "visits": 70, "value": 0.2},
            {"action": 1, "visits": 20, "value": 1.0, "outcome": 1.0},
            {"action": 3, "visits": 10, "value": -0.1},
        ],
    }

    @g.agent
    def plan(obs: str) -> dict:
        return solved

    out = plan("s")
    [r] = out.decision.explanations
    assert r["chosen"] == 1 and out["params"]["action"] == 1
    assert out.decision.substitution is None


def test_a_deferred_explanation_explains_the_input_as_it_was(tmp_path: Path) -> None:
    np = pytest.importorskip("numpy")
    torch, net = _linear_net()
    import explain

    pack = parse("name: plain\nversion: 1\nrules: []\n")
    g = Guard([pack], audit=open_audit(f"sqlite:///{tmp_path / 'a.db'}"))
    actions = [{"kind": "offer", "params": {"tier": 0}}, {"kind": "offer", "params": {"tier": 1}}]

    @g.agent(actions=actions, explain=explain.captum(net), explain_mode="deferred")
    def policy(x):
        with torch.no_grad():
            return net(torch.as_tensor(x, dtype=torch.float32))

    buffer = np.array([0.5, -0.2, 1.0])
    decided = []
    for step in range(3):  # an RL loop reusing one observation buffer
        buffer[:] = [0.5 + step, -0.2, 1.0]
        decided.append((policy(buffer).decision.id, buffer.tolist()))
    g.flush()
    assert g.audit is not None
    for decision_id, seen in decided:
        [linked] = g.audit.query(ref_id=decision_id, record_type="guard.explanation/v1").items
        assert linked.record["explanation"]["inputs"] == pytest.approx(seen)
    g.close()
