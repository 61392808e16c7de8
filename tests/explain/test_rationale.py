from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import explain
from explain import ExplanationTypeError, NoAllowedAction, Node, SearchTreeError

# -- OpenSpiel: the rationale must agree with the planner's own tree and choice ------------

pyspiel = pytest.importorskip("pyspiel")
mcts = pytest.importorskip("open_spiel.python.algorithms.mcts")


def _bot(game, seed: int, sims: int):
    return mcts.MCTSBot(
        game,
        uct_c=2.0,
        max_simulations=sims,
        evaluator=mcts.RandomRolloutEvaluator(1, np.random.RandomState(seed)),
        random_state=np.random.RandomState(seed),
        solve=True,
    )


def _position(moves: list[int]):
    game = pyspiel.load_game("tic_tac_toe")
    state = game.new_initial_state()
    for move in moves:
        state.apply_action(move)
    return game, state


POSITIONS = [
    pytest.param([], 1, 200, id="empty-board"),
    pytest.param([4], 2, 300, id="after-center"),
    pytest.param([0, 4, 8], 3, 400, id="corners"),
    pytest.param([0, 3, 1, 4], 4, 200, id="x-can-win"),
    pytest.param([0, 4, 1], 5, 300, id="o-must-block"),
]


@pytest.mark.parametrize(("moves", "seed", "sims"), POSITIONS)
def test_openspiel_rationale_matches_tree_and_bot(moves, seed, sims) -> None:
    game, state = _position(moves)
    root = _bot(game, seed, sims).mcts_search(state)
    r = explain.rationale(root, state)

    assert r.chosen == root.best_child().action
    # A fresh bot with the same seeds replays the same search and plays the same move.
    assert _bot(game, seed, sims).step(state) == r.chosen
    assert r.simulations == root.explore_count <= sims  # a solved root stops the search early
    player = state.current_player()
    total = sum(c.explore_count for c in root.children)
    by_action = {s.action: s for s in r.actions}
    assert set(by_action) == set(state.legal_actions())
    for child in root.children:
        stat = by_action[child.action]
        assert stat.visits == child.explore_count
        assert stat.visit_share == pytest.approx(child.explore_count / total)
        n = child.explore_count
        assert stat.q == (pytest.approx(child.total_reward / n) if n else None)
        assert stat.prior == pytest.approx(child.prior)
        assert stat.outcome == (None if child.outcome is None else child.outcome[child.player])
        assert stat.label == state.action_to_string(player, child.action)
    assert r.chosen_label == state.action_to_string(player, r.chosen)


@pytest.mark.parametrize(("moves", "seed", "sims"), POSITIONS)
def test_openspiel_principal_variation_follows_best_children(moves, seed, sims) -> None:
    game, state = _position(moves)
    root = _bot(game, seed, sims).mcts_search(state)
    r = explain.rationale(root, state)
    node, expected = root.best_child(), [root.best_child().action]
    while len(expected) < 11:
        visited = [c for c in node.children if c.explore_count > 0]
        if not visited:
            break
        node = max(visited, key=mcts.SearchNode.sort_key)
        expected.append(node.action)
    assert r.principal_variation == expected


def test_openspiel_solved_win_is_reported_as_solved() -> None:
    game, state = _position([0, 3, 1, 4])  # x to move, 2 wins at once
    root = _bot(game, 4, 200).mcts_search(state)
    r = explain.rationale(root, state)
    assert r.chosen == 2
    assert r.rule == "solved"
    assert r.stat(2).outcome == 1.0
    assert "proved" in r.text


def test_openspiel_margins_and_as_dict() -> None:
    game, state = _position([4])
    r = explain.rationale(_bot(game, 2, 300).mcts_search(state), state)
    chosen, runner = r.stat(r.chosen), r.stat(r.runner_up)
    assert r.visit_margin == chosen.visits - runner.visits >= 0
    assert r.q_margin == pytest.approx(chosen.q - runner.q)
    d = r.as_dict()
    assert {"visit_share", "q_margin", "visit_margin", "simulations", "chosen", "q"} <= set(d)
    assert d["visit_share"] == chosen.visit_share and d["q"] == chosen.q
    assert d["chosen"] == r.chosen and d["simulations"] == 300
    assert f"Chose {chosen.label} over {runner.label}" in r.text


def test_openspiel_shield_substitutes_best_allowed() -> None:
    game, state = _position([4])
    root = _bot(game, 2, 300).mcts_search(state)
    planner = root.best_child().action
    r = explain.rationale(root, state, shielded={planner: "no-corner"})
    allowed = [c for c in root.children if c.action != planner]
    best = max(allowed, key=mcts.SearchNode.sort_key)
    assert (r.chosen, r.rule, r.substituted_for) == (best.action, "best_allowed", planner)
    assert r.stat(planner).shielded and r.stat(planner).shield_rule == "no-corner"
    assert [(s.action, s.rule) for s in r.shielded] == [(planner, "no-corner")]
    assert "no-corner" in r.text and "preferred" in r.text


# -- mctx-style batched arrays -------------------------------------------------------------


def mctx_tree() -> dict[str, np.ndarray]:
    """Two batch elements, four nodes, three actions; node 0 is the root."""
    visits = np.zeros((2, 4, 3), dtype=np.int32)
    visits[0, 0] = [2, 7, 1]
    visits[0, 2] = [0, 4, 2]  # below root action 1
    visits[1, 0] = [5, 0, 5]
    values = np.zeros((2, 4, 3))
    values[0, 0] = [0.5, 0.2, 0.9]
    values[0, 2] = [0.0, 0.3, 0.1]
    values[1, 0] = [0.1, 0.0, 0.4]
    index = np.full((2, 4, 3), -1)
    index[0, 0] = [1, 2, 3]
    index[0, 2, 1] = 1  # not a real layout, but a followable child
    index[1, 0] = [1, -1, 2]
    logits = np.zeros((2, 4, 3))
    logits[0, 0] = [0.0, np.log(2.0), np.log(3.0)]
    return {
        "children_visits": visits,
        "children_values": values,
        "children_rewards": np.full((2, 4, 3), 0.1),
        "children_discounts": np.full((2, 4, 3), -1.0),
        "children_prior_logits": logits,
        "children_index": index,
        "root_invalid_actions": np.array([[0, 0, 0], [0, 1, 0]]),
    }


def test_mctx_arrays() -> None:
    r = explain.rationale(mctx_tree(), labels={0: "left", 1: "stay", 2: "right"})
    assert (r.chosen, r.chosen_label, r.rule) == (1, "stay", "most_visits")
    assert r.simulations == 10
    stay = r.stat("stay")
    assert stay.visits == 7 and stay.visit_share == pytest.approx(0.7)
    assert stay.q == pytest.approx(0.1 - 0.2)  # reward + discount * value
    assert stay.prior == pytest.approx(2 / 6)
    assert r.principal_variation == [1, 1]


def test_mctx_batch_element_object_and_invalid_actions() -> None:
    tree = SimpleNamespace(**mctx_tree())
    r = explain.from_mctx(tree, batch_index=1)
    assert [k.action for k in r.children] == [0, 2]  # action 1 is invalid at this root
    rat = explain.rationale(r)
    # equal visits: the higher value wins, as in OpenSpiel's sort key
    assert rat.chosen == 0
    assert rat.stat(0).q == pytest.approx(0.1 - 0.1) and rat.stat(2).q == pytest.approx(-0.3)
    with pytest.raises(SearchTreeError, match="batch_index"):
        explain.from_mctx(tree, batch_index=2)


def test_mctx_unvisited_children_have_no_value() -> None:
    r = explain.rationale(mctx_tree())
    tree = mctx_tree()
    tree["children_visits"][0, 0] = [0, 3, 0]
    r = explain.rationale(tree)
    assert r.runner_up in (0, 2) and r.stat(0).q is None and r.q_margin is None


# -- nested dicts and dataclasses ----------------------------------------------------------


def nested() -> dict:
    return {
        "visits": 20,
        "children": [
            {
                "action": "refund",
                "visits": 12,
                "value": 0.4,
                "prior": 0.5,
                "children": [
                    {"action": "notify", "visits": 11, "total_reward": 5.5},
                ],
            },
            {"action": "escalate", "visits": 6, "value": 0.7, "prior": 0.3},
            {"action": "ignore", "visits": 1, "total_reward": -1.0, "prior": 0.2},
        ],
    }


def test_nested_dicts() -> None:
    r = explain.rationale(nested())
    assert (r.chosen, r.runner_up, r.visit_margin) == ("refund", "escalate", 6)
    assert r.q_margin == pytest.approx(0.4 - 0.7)
    assert r.stat("ignore").q == -1.0
    assert r.principal_variation == ["refund", "notify"]
    assert "escalate had the higher mean value (+0.700 vs +0.400) but on fewer visits" in r.text


def test_nested_children_keyed_by_action() -> None:
    tree = {"children": {"a": {"visits": 3, "value": 0.1}, "b": {"visits": 5, "value": 0.0}}}
    r = explain.rationale(tree)
    assert r.chosen == "b" and r.simulations == 8


def test_dataclass_nodes() -> None:
    @dataclass
    class Step:
        action: int
        visits: int
        total_reward: float
        children: list = field(default_factory=list)

    @dataclass
    class Root:
        children: list

    root = Root([Step(0, 4, 2.0), Step(1, 4, 3.0), Step(2, 1, 1.0)])
    r = explain.rationale(root)
    assert r.chosen == 1  # same visits as 0, higher total value


def test_plain_node_protocol() -> None:
    root = Node(children=(Node(action=7, visits=3, q=0.5), Node(action=9, visits=1, q=0.9)))
    assert isinstance(root, explain.TreeNode)
    assert explain.rationale(root, labels=lambda a: f"move {a}").chosen_label == "move 7"


def test_custom_adapter() -> None:
    def adapter(tree: list[tuple[str, int]]) -> Node:
        return Node(children=tuple(Node(action=a, visits=n, q=0.0) for a, n in tree))

    r = explain.rationale([("x", 2), ("y", 9)], adapter=adapter)
    assert r.chosen == "y"


# -- sampled choices, shields and substitution ---------------------------------------------


def test_sampled_choice() -> None:
    r = explain.rationale(nested(), chosen="escalate")
    assert (r.chosen, r.rule, r.runner_up) == ("escalate", "sampled", "refund")
    assert "sampled" in r.text


def _three() -> dict:
    return {
        "visits": 100,
        "children": [
            {"action": 0, "visits": 60, "value": 0.2, "prior": 0.5},
            {"action": 1, "visits": 30, "value": 0.6, "prior": 0.3},
            {"action": 2, "visits": 10, "value": -0.1, "prior": 0.2},
        ],
    }


def test_sampled_less_visited_choice_says_the_search_preferred_another() -> None:
    r = explain.rationale(_three(), chosen=2)
    assert (r.chosen, r.rule, r.runner_up, r.visit_margin) == (2, "sampled", 0, -50)
    assert "chosen by the caller" in r.text and "puts 0 first" in r.text
    assert (
        "2 was chosen over 0 although 0 had more visits (60 vs 10) "
        "and a higher mean value (+0.200 vs -0.100)."
    ) in r.text
    assert "because" not in r.text and "trusted it less" not in r.text


def test_sampled_choice_with_more_value_but_fewer_visits() -> None:
    r = explain.rationale(_three(), chosen=1)
    assert "1 was chosen over 0 although 0 had more visits (60 vs 30)." in r.text
    assert "1: 30 visits, 30%, mean value +0.600" in r.text


def test_most_visited_choice_over_a_higher_value() -> None:
    r = explain.rationale(_three())
    assert r.rule == "most_visits"
    assert (
        "Chose 0 over 1 because it received more visits (60 vs 30); 1 had the higher mean "
        "value (+0.600 vs +0.200) but on fewer visits, so the search trusted it less."
    ) in r.text


def test_proven_loss_ranks_a_more_visited_action_below() -> None:
    tree = {
        "children": [
            {"action": 0, "visits": 50, "value": -0.9, "outcome": -1.0},
            {"action": 1, "visits": 20, "value": 0.1},
        ]
    }
    r = explain.rationale(tree)
    assert (r.chosen, r.rule) == (1, "solved")
    assert "Chose 1 over 0 because the search proved 0's outcome (-1), worse than" in r.text
    assert "more visits" not in r.text


def test_equal_visits_decided_by_value() -> None:
    tree = {
        "children": [
            {"action": 0, "visits": 5, "value": 0.1},
            {"action": 1, "visits": 5, "value": 0.3},
        ]
    }
    r = explain.rationale(tree)
    assert r.chosen == 1
    assert "both received 5 visits and it had a higher mean value (+0.300 vs +0.100)" in r.text


def test_close_values_print_distinct() -> None:
    tree = {
        "children": [
            {"action": 0, "visits": 5, "value": 0.2001},
            {"action": 1, "visits": 5, "value": 0.2004},
        ]
    }
    assert "(+0.200400 vs +0.200100)" in explain.rationale(tree).text


@pytest.mark.parametrize(
    ("allowed", "chosen", "rule"),
    [
        pytest.param({"refund", "escalate"}, "refund", "most_visits", id="choice-allowed"),
        pytest.param({"escalate", "ignore"}, "escalate", "best_allowed", id="next-by-visits"),
        pytest.param({"ignore"}, "ignore", "best_allowed", id="only-one-left"),
    ],
)
def test_substitute(allowed, chosen, rule) -> None:
    r = explain.rationale(nested()).substitute(allowed, rule="no-refunds")
    assert (r.chosen, r.rule) == (chosen, rule)
    assert r.principal_variation[0] == chosen
    assert {s.action for s in r.shielded} == {"refund", "escalate", "ignore"} - allowed
    assert all(s.rule == "no-refunds" for s in r.shielded)
    if rule == "best_allowed":
        assert r.substituted_for == "refund"
        assert "preferred refund" in r.text and "no-refunds" in r.text
    if len(allowed) == 1:
        assert r.runner_up is None and "only allowed" in r.text


def test_substitute_breaks_visit_ties_by_value() -> None:
    tree = {
        "children": [
            {"action": 0, "visits": 9, "value": 0.0},
            {"action": 1, "visits": 4, "value": 0.1},
            {"action": 2, "visits": 4, "value": 0.6},
        ]
    }
    assert explain.rationale(tree).substitute({1, 2}).chosen == 2


def test_substitute_twice_keeps_the_planner_preference() -> None:
    r = explain.rationale(nested()).substitute({"escalate", "ignore"}, "r1")
    r = r.substitute({"ignore"}, "r2")
    assert (r.chosen, r.substituted_for) == ("ignore", "refund")
    assert {(s.action, s.rule) for s in r.shielded} == {("refund", "r1"), ("escalate", "r2")}


def test_shield_of_an_action_not_in_the_tree_is_refused() -> None:
    with pytest.raises(SearchTreeError, match=r"shielded action 'delete_account' is not a root"):
        explain.rationale(nested(), shielded={"delete_account": "irreversible"})
    with pytest.raises(SearchTreeError, match=r"shielded action 7 is not a root action"):
        explain.rationale(nested(), shielded={7: "x"})


def test_shield_by_label() -> None:
    tree = {"children": [{"action": 0, "visits": 5}, {"action": 1, "visits": 3}]}
    r = explain.rationale(tree, labels={0: "left", 1: "right"}, shielded={"left": "no-left"})
    assert (r.chosen, r.substituted_for) == (1, 0)
    assert [(s.action, s.label, s.rule) for s in r.shielded] == [(0, "left", "no-left")]


def test_empty_action_set_after_shielding() -> None:
    r = explain.rationale(nested())
    with pytest.raises(NoAllowedAction, match="removed every root action"):
        r.substitute(set())
    with pytest.raises(NoAllowedAction):
        explain.rationale(nested(), shielded={a: "x" for a in ("refund", "escalate", "ignore")})


# -- malformed trees -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tree", "error", "match"),
    [
        pytest.param({"children": []}, SearchTreeError, "no children", id="no-children"),
        pytest.param(
            {"children": [{"action": 1, "visits": 0}, {"action": 2, "visits": 0}]},
            SearchTreeError,
            "no visits",
            id="no-visits",
        ),
        pytest.param(
            {"children": [{"action": 1, "visits": -3}]}, SearchTreeError, ">= 0", id="negative"
        ),
        pytest.param(
            {"children": [{"action": 1, "visits": 2.5}]}, SearchTreeError, "whole", id="fraction"
        ),
        pytest.param(
            {"children": [{"action": 1, "visits": 2, "value": float("nan")}]},
            SearchTreeError,
            "finite",
            id="nan-value",
        ),
        pytest.param(
            {"children": [{"action": 1, "visits": 2}, {"action": 1, "visits": 3}]},
            SearchTreeError,
            "twice",
            id="duplicate",
        ),
        pytest.param({"children": [{"visits": 2}]}, SearchTreeError, "no action", id="no-action"),
        pytest.param(
            {"children": [{"action": 1.5, "visits": 2}]},
            ExplanationTypeError,
            "int or str",
            id="float-action",
        ),
        pytest.param(42, ExplanationTypeError, "cannot read a search tree", id="not-a-tree"),
        pytest.param(
            {"children_visits": np.zeros((1, 2, 3))},
            ExplanationTypeError,
            "lacks arrays",
            id="mctx-missing",
        ),
    ],
)
def test_malformed_trees(tree, error, match) -> None:
    with pytest.raises(error, match=match):
        explain.rationale(tree)


def test_chosen_must_be_a_root_action() -> None:
    with pytest.raises(SearchTreeError, match="chosen action 'teleport' is not a root action"):
        explain.rationale(nested(), chosen="teleport")


def test_root_with_fewer_visits_than_its_children_is_refused() -> None:
    tree = {"visits": 5, "children": [{"action": 0, "visits": 60}, {"action": 1, "visits": 40}]}
    with pytest.raises(SearchTreeError, match="root has 5 visits but its children have 100"):
        explain.rationale(tree)
    # AlphaZero and OpenSpiel count the expanding visit at the root: one more than children.
    tree["visits"] = 101
    assert explain.rationale(tree).simulations == 101
    del tree["visits"]
    assert explain.rationale(tree).simulations == 100


# -- properties ----------------------------------------------------------------------------

children_st = st.lists(
    st.tuples(st.integers(0, 50), st.floats(-1, 1), st.floats(0, 1)), min_size=1, max_size=12
).filter(lambda kids: sum(v for v, _, _ in kids) > 0)


def _tree(kids: list[tuple[int, float, float]]) -> dict:
    return {
        "children": [
            {"action": i, "visits": v, "value": q, "prior": p} for i, (v, q, p) in enumerate(kids)
        ]
    }


def _best(kids: list[tuple[int, float, float]], allowed: set[int]) -> int:
    # Most visits, then the higher total value, then the first child: OpenSpiel's order.
    candidates = [i for i in range(len(kids)) if i in allowed]
    return max(
        candidates, key=lambda i: (kids[i][0], (kids[i][1] if kids[i][0] else 0) * kids[i][0])
    )


@settings(max_examples=100, deadline=None)
@given(kids=children_st)
def test_property_choice_shares_and_margins(kids) -> None:
    r = explain.rationale(_tree(kids))
    assert r.chosen == _best(kids, set(range(len(kids))))
    assert sum(s.visit_share for s in r.actions) == pytest.approx(1.0)
    assert r.simulations == sum(v for v, _, _ in kids)
    if r.runner_up is not None:
        assert r.visit_margin >= 0
    assert r.principal_variation[0] == r.chosen


@settings(max_examples=100, deadline=None)
@given(kids=children_st, data=st.data())
def test_property_substitute_picks_best_allowed(kids, data) -> None:
    allowed = data.draw(st.sets(st.integers(0, len(kids) - 1), min_size=1))
    r = explain.rationale(_tree(kids)).substitute(allowed, rule="policy")
    assert r.chosen == _best(kids, allowed)
    assert {s.action for s in r.shielded} == set(range(len(kids))) - allowed
    assert (r.substituted_for is None) == (explain.rationale(_tree(kids)).chosen in allowed)


# The text's comparisons must agree with the numbers, whoever chose and whatever decided.

outcome_st = st.one_of(st.none(), st.sampled_from([-1.0, 0.0, 1.0]))
kids_with_outcomes_st = st.lists(
    st.tuples(st.integers(0, 30), st.floats(-1, 1), st.floats(0, 1), outcome_st),
    min_size=1,
    max_size=6,
).filter(lambda kids: sum(k[0] for k in kids) > 0)

_NUM = r"([+-]?\d+(?:\.\d+)?(?:e[+-]?\d+)?|unproven)"


def _rank(s) -> tuple[float, int, float]:
    return (s.outcome or 0.0, s.visits, (s.q or 0.0) * s.visits)


def _num(text: str) -> float | None:
    return None if text == "unproven" else float(text)


@settings(max_examples=300, deadline=None)
@given(kids=kids_with_outcomes_st, data=st.data())
def test_property_text_agrees_with_numbers(kids, data) -> None:
    import re

    tree = {
        "children": [
            {"action": i, "visits": v, "value": q, "prior": p, "outcome": o}
            for i, (v, q, p, o) in enumerate(kids)
        ]
    }
    n = len(kids)
    chosen = data.draw(st.one_of(st.none(), st.integers(0, n - 1)))
    shielded = data.draw(st.sets(st.integers(0, n - 1), max_size=n - 1))
    r = explain.rationale(tree, chosen=chosen, shielded={a: "rule" for a in shielded})
    c = r.stat(r.chosen)
    assert not c.shielded
    if r.runner_up is None:
        only = "only allowed root action" if r.shielded else "only root action"
        assert f"it was the {only} (" in r.text
        return
    o = r.stat(r.runner_up)
    text = r.text
    if _rank(c) > _rank(o):
        assert f"Chose {c.label} over {o.label} because " in text
        assert "although" not in text
    elif _rank(c) < _rank(o):
        assert r.rule == "sampled"  # only a caller's choice can rank below the runner-up
        assert f"{c.label} was chosen over {o.label} although {o.label} had " in text
        assert "because" not in text
    else:
        assert f"{c.label} and {o.label} rank equal" in text
    for s in (c, o):
        assert f"{s.label}: {s.visits} visit{'' if s.visits == 1 else 's'}," in text

    pairs_v = {(c.visits, o.visits), (o.visits, c.visits)}
    for a, b in re.findall(r"more visits \((\d+) vs (\d+)\)", text):
        assert int(a) > int(b) and (int(a), int(b)) in pairs_v
    qs = [x for x in (c.q, o.q) if x is not None]
    for a, b in re.findall(rf"higher mean value \({_NUM} vs {_NUM}\)", text):
        assert float(a) > float(b)
        assert any(float(a) == pytest.approx(x, abs=1e-3) for x in qs)
        assert any(float(b) == pytest.approx(x, abs=1e-3) for x in qs)
    for a, b in re.findall(rf"better outcome \({_NUM} vs {_NUM}\)", text):
        assert (_num(a) or 0.0) > (_num(b) or 0.0)
        assert (_num(a), _num(b)) == (o.outcome, c.outcome)
    for a, b in re.findall(rf"proved its outcome \({_NUM}\) against {_NUM}", text):
        assert (_num(a), _num(b)) == (c.outcome, o.outcome) and float(a) > float(b)
    if "fewer visits" in text:
        assert f"{o.label} had the higher mean value" in text
        assert o.visits < c.visits and o.q is not None and c.q is not None and o.q > c.q
    if "better than" in text:
        assert c.outcome is not None and c.outcome > 0 and o.outcome is None
    if "worse than" in text:
        assert o.outcome is not None and o.outcome < 0 and c.outcome is None
    if r.rule == "sampled":
        assert f"puts {r.actions[0].label} first" in text
    if r.rule == "best_allowed":
        assert all(_rank(c) >= _rank(s) for s in r.actions if not s.shielded)
