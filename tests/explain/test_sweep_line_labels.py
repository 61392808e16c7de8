"""The expected line of play is written with the moves' names at every depth, not only the first."""

from __future__ import annotations

import pytest

from explain import rationale

TREE = {
    "visits": 10,
    "children": [
        {
            "action": 0,
            "visits": 7,
            "value": 3.0,
            "children": [
                {"action": 1, "visits": 5, "value": 1.0, "children": [{"action": 2, "visits": 3}]}
            ],
        },
        {"action": 1, "visits": 3, "value": 1.0},
    ],
}
NAMES = {0: "open the ticket", 1: "ask the user", 2: "close the ticket"}


def test_a_labels_mapping_names_every_move_of_the_line() -> None:
    r = rationale(TREE, labels=NAMES)
    assert r.principal_variation == [0, 1, 2]
    assert r.principal_variation_labels == ["open the ticket", "ask the user", "close the ticket"]
    assert "expected line of play: open the ticket -> ask the user -> close the ticket" in r.text


def test_without_labels_the_line_shows_ids() -> None:
    r = rationale(TREE)
    assert "expected line of play: 0 -> 1 -> 2" in r.text


def test_openspiel_moves_are_named_by_the_game_at_their_own_depth() -> None:
    pyspiel = pytest.importorskip("pyspiel")
    import numpy as np
    from open_spiel.python.algorithms import mcts

    game = pyspiel.load_game("tic_tac_toe")
    state = game.new_initial_state()
    bot = mcts.MCTSBot(
        game, 2.0, 200, mcts.RandomRolloutEvaluator(1, np.random.RandomState(0)),
        random_state=np.random.RandomState(0), solve=True,
    )  # fmt: skip
    root = bot.mcts_search(state)
    r = rationale(root, state)
    assert len(r.principal_variation) >= 2
    replay = state.clone()
    expected = []
    for action in r.principal_variation:
        expected.append(replay.action_to_string(replay.current_player(), action))
        replay.apply_action(action)
    assert r.principal_variation_labels == expected
    assert expected[1].startswith("o(")  # the second move is o's, named as o's
