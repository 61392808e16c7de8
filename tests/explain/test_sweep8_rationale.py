"""Rationales for states where no single player decides, for trees searched from another
state, and for nested trees or arguments of odd shapes: a specific error or a correct text."""

from __future__ import annotations

import math

import numpy as np
import pytest

import explain
from explain import ExplanationTypeError, SearchTreeError, rationale

pyspiel = pytest.importorskip("pyspiel")
mcts = pytest.importorskip("open_spiel.python.algorithms.mcts")


def _bot(game, sims: int = 100, seed: int = 0):
    return mcts.MCTSBot(
        game,
        uct_c=2.0,
        max_simulations=sims,
        evaluator=mcts.RandomRolloutEvaluator(1, np.random.RandomState(seed)),
        random_state=np.random.RandomState(seed),
        solve=True,
    )


def _after(game_name: str, moves: list[int]):
    game = pyspiel.load_game(game_name)
    state = game.new_initial_state()
    for move in moves:
        state.apply_action(move)
    return game, state


def _root_like_the_bot(state, visits: list[int]):
    """The tree MCTSBot starts from `state` (root.player is the state's current player)."""
    root = mcts.SearchNode(None, state.current_player(), 1)
    actions = [a for a, _ in state.chance_outcomes()] if state.is_chance_node() else None
    actions = actions or state.legal_actions()
    for action, n in zip(actions, visits, strict=False):
        child = mcts.SearchNode(action, state.current_player(), 1 / len(actions))
        child.explore_count, child.total_reward = n, 0.5 * n
        root.children.append(child)
    root.explore_count = sum(visits) + 1
    return root


# -- OpenSpiel: no single player decides at the root ------------------------------------------


def test_openspiel_itself_cannot_search_these_roots() -> None:
    """The ground truth: OpenSpiel's own bot raises on terminal and chance roots and refuses
    simultaneous-move games, so no rationale of a choice exists for them."""
    game, terminal = _after("tic_tac_toe", [0, 3, 1, 4, 2])
    with pytest.raises(IndexError):
        _bot(game).mcts_search(terminal)
    pig, chance = _after("pig", [0])
    assert chance.is_chance_node()
    with pytest.raises(IndexError):
        _bot(pig).mcts_search(chance)
    with pytest.raises(ValueError, match="sequential"):
        _bot(pyspiel.load_game("matrix_rps"))


def test_a_chance_root_is_not_explained_as_a_choice() -> None:
    _, state = _after("pig", [0])
    root = _root_like_the_bot(state, [5, 5, 4, 3, 2, 1])
    for call in (lambda: rationale(root), lambda: rationale(root, state)):
        with pytest.raises(SearchTreeError, match="chance node"):
            call()
    with pytest.raises(SearchTreeError, match="chance node"):
        explain.from_openspiel(root)
    nested = {"children": [{"action": a, "visits": 3} for a in range(6)]}
    with pytest.raises(SearchTreeError, match="chance node"):
        rationale(nested, state)


def test_a_terminal_state_has_no_decision_to_explain() -> None:
    game, state = _after("tic_tac_toe", [0, 3, 1, 4, 2])
    root = _bot(game).mcts_search(game.new_initial_state())
    with pytest.raises(SearchTreeError, match="terminal"):
        rationale(root, state)  # was a raw pyspiel.SpielError: Invalid player id -4
    ended = mcts.SearchNode(None, state.current_player(), 1)
    ended.explore_count, ended.outcome = 3, state.returns()
    with pytest.raises(SearchTreeError, match="terminal"):
        rationale(ended)
    with pytest.raises(SearchTreeError, match="terminal"):
        rationale({"children": [{"action": 5, "visits": 2}]}, state)


def test_a_simultaneous_move_state_is_refused_not_labelled_with_joint_actions() -> None:
    state = pyspiel.load_game("matrix_rps").new_initial_state()
    root = _root_like_the_bot(state, [6, 7, 5])
    # Labelled by state, a player's action 2 read as the joint action "[Scissors, Rock]".
    with pytest.raises(SearchTreeError, match="simultaneous"):
        rationale(root, state)
    with pytest.raises(SearchTreeError, match="simultaneous"):
        rationale(root)
    with pytest.raises(SearchTreeError, match="simultaneous"):
        rationale({"children": [{"action": 0, "visits": 2}]}, state)


def test_chance_nodes_inside_the_tree_still_give_the_bots_choice_and_line() -> None:
    game, state = _after("pig(winscore=10)", [])
    root = _bot(game, 200).mcts_search(state)
    r = rationale(root, state)
    assert r.chosen == root.best_child().action
    node, line = root.best_child(), [root.best_child().action]
    while len(line) < 11 and any(c.explore_count for c in node.children):
        node = max((c for c in node.children if c.explore_count), key=mcts.SearchNode.sort_key)
        line.append(node.action)
    assert r.principal_variation == line


@pytest.mark.parametrize(
    "state",
    [
        pytest.param({"board": "x"}, id="dict"),
        pytest.param("tic_tac_toe", id="str"),
        pytest.param(pyspiel.load_game("tic_tac_toe"), id="game-not-state"),
    ],
)
def test_a_state_that_is_not_a_game_state_is_a_type_error(state) -> None:
    game = pyspiel.load_game("tic_tac_toe")
    root = _bot(game).mcts_search(game.new_initial_state())
    with pytest.raises(ExplanationTypeError, match="state"):
        rationale(root, state)  # was a raw AttributeError: no attribute 'current_player'


def test_a_tree_searched_from_another_state_is_refused() -> None:
    game = pyspiel.load_game("tic_tac_toe")
    root = _bot(game).mcts_search(game.new_initial_state())
    _, other = _after("tic_tac_toe", [4, 0])  # cells 0 and 4 taken: those moves are illegal
    with pytest.raises(SearchTreeError, match="not legal"):
        rationale(root, other)
    connect_four = pyspiel.load_game("connect_four").new_initial_state()
    with pytest.raises(SearchTreeError, match="not legal"):
        rationale(root, connect_four)  # was labelled x0..x6 and 7, 8 as if from connect four
    with pytest.raises(SearchTreeError, match="not legal"):
        rationale({"children": [{"action": 99, "visits": 3}]}, game.new_initial_state())
    with pytest.raises(SearchTreeError, match="not legal"):
        rationale({"children": [{"action": "a", "visits": 3}]}, game.new_initial_state())


def test_unvisited_illegal_columns_of_an_array_tree_are_named_by_id() -> None:
    _, state = _after("tic_tac_toe", [4])  # cell 4 taken: column 4 is padding, never visited
    visits = np.array([[3, 1, 1, 1, 0, 1, 1, 1, 1]])
    tree = {
        "children_visits": visits,
        "children_values": np.full((1, 9), 0.1),
        "children_prior_logits": np.zeros((1, 9)),
    }
    r = rationale(tree, state)
    assert r.chosen == 0 and r.chosen_label == state.action_to_string(1, 0)
    assert r.stat(4).label == "4" and r.stat(4).visits == 0


# -- nested trees and arguments of odd shapes -----------------------------------------------


@pytest.mark.parametrize(
    ("tree", "needle"),
    [
        pytest.param(
            {"children": [{"action": 0, "visits": 3, "children": 5}]},
            "children must be",
            id="deep-children-int",
        ),
        pytest.param({"children": "ab"}, "children must be", id="children-str"),
        pytest.param({"children": {0: 3, 1: 2}}, "not a node", id="children-keyed-counts"),
        pytest.param({"children": [3, 2]}, "not a node", id="children-list-of-counts"),
    ],
)
def test_children_of_odd_shapes_are_a_search_tree_error(tree, needle) -> None:
    with pytest.raises(SearchTreeError, match=needle):
        rationale(tree)


def test_depth_must_be_an_int() -> None:
    tree = {"children": [{"action": 0, "visits": 1}]}
    with pytest.raises(SearchTreeError, match="depth must be an int"):
        rationale(tree, depth=2.5)  # was a raw TypeError from range()
    with pytest.raises(SearchTreeError, match="depth must be an int"):
        rationale(tree, depth=True)


def test_labels_that_raise_or_are_not_strings() -> None:
    tree = {"children": [{"action": 0, "visits": 3}, {"action": 1, "visits": 1}]}
    with pytest.raises(SearchTreeError, match=r"labels raised ZeroDivisionError for action 0"):
        rationale(tree, labels=lambda a: 1 / 0)
    r = rationale(tree, labels=lambda a: a * 10)  # was a pydantic ValidationError
    assert (r.chosen_label, r.stat(1).label) == ("0", "10")


def test_shielded_must_map_actions_to_rule_ids() -> None:
    tree = {"children": [{"action": 0, "visits": 3}, {"action": 1, "visits": 1}]}
    with pytest.raises(ExplanationTypeError, match="shielded must be a mapping"):
        rationale(tree, shielded=[0])  # was a raw AttributeError
    with pytest.raises(ExplanationTypeError, match="rule id"):
        rationale(tree, shielded={0: 5})  # was a pydantic ValidationError


@pytest.mark.parametrize(
    ("children", "labels"),
    [
        pytest.param(
            [{"action": 0, "visits": 3}, {"action": "0", "visits": 2}], None, id="0-and-'0'"
        ),
        pytest.param(
            [{"action": 0, "visits": 3}, {"action": 1, "visits": 2}], {0: "x", 1: "x"}, id="labels"
        ),
    ],
)
def test_root_actions_with_the_same_label_are_told_apart(children, labels) -> None:
    r = rationale({"children": children}, labels=labels)
    chosen, runner = r.stat(r.chosen), r.stat(r.runner_up)
    assert chosen.label != runner.label  # was "Chose 0 over 0" / "Chose x over x"
    assert f"Chose {chosen.label} over {runner.label}" in r.text
    assert r.stat(chosen.label) is chosen and r.stat(runner.label) is runner


def test_nan_ties_and_empty_children_in_nested_trees() -> None:
    with pytest.raises(SearchTreeError, match="q of action 0 must be finite"):
        rationale({"children": [{"action": 0, "visits": 2, "value": math.nan}]})
    # NaN of an unvisited action is never read; an empty child list below the root is a leaf.
    r = rationale(
        {
            "children": [
                {"action": 0, "visits": 3, "value": 0.5, "children": []},
                {"action": 1, "visits": 3, "value": 0.5, "children": [{}]},
                {"action": 2, "visits": 0, "value": math.nan},
            ]
        }
    )
    assert (r.chosen, r.runner_up, r.stat(2).q) == (0, 1, None)
    assert "rank equal" in r.text and r.principal_variation == [0]


def test_substitute_refuses_a_single_string_as_the_allowed_actions() -> None:
    r = rationale({"children": [{"action": a, "visits": n} for a, n in [("ab", 3), ("a", 2)]]})
    # "ab" was read as the actions "a" and "b": the planner's allowed "ab" was shielded.
    with pytest.raises(ExplanationTypeError, match="single string"):
        r.substitute("ab")
    assert r.substitute(["ab"]).chosen == "ab"
    with pytest.raises(ExplanationTypeError, match="allowed must be"):
        r.substitute(5)
    with pytest.raises(ExplanationTypeError, match="rule id"):
        r.substitute(["a"], rule=5)
