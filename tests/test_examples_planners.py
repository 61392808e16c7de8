"""The planner examples: OpenSpiel MCTS (tic-tac-toe) and a UCT walker on CliffWalking."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from guard import Guard
from guard.policy import parse

pytest.importorskip("pyspiel")
pytest.importorskip("gymnasium")

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
TIMEOUT_S = 120


def _load(name: str) -> ModuleType:
    """Import an example by file path (examples/ is not a package)."""
    spec = importlib.util.spec_from_file_location(f"examples_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def ttt() -> Iterator[ModuleType]:
    yield _load("planner_openspiel")
    sys.modules.pop("examples_planner_openspiel", None)


@pytest.fixture(scope="module")
def cliff() -> Iterator[ModuleType]:
    yield _load("planner_cliffwalking")
    sys.modules.pop("examples_planner_cliffwalking", None)


def _run(script: str, *args: str, cwd: Path) -> str:
    r = subprocess.run(
        [sys.executable, str(EXAMPLES / script), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )
    assert r.returncode == 0, r.stderr
    return r.stdout


# -- the scripts --------------------------------------------------------------------------


def test_openspiel_example_runs(tmp_path: Path) -> None:
    out = _run("planner_openspiel.py", "--seed", "0", "--simulations", "1000", cwd=tmp_path)
    assert "planner chose x(1,1) -> denied by no-centre-opening" in out
    assert "substitution: first choice denied by no-centre-opening" in out
    assert "rationale: The planner preferred x(1,1)" in out
    assert "root visits: x(1,1) " in out
    assert "centre searched: False" in out
    assert "the shield kept 1 action(s) out of the tree" in out
    assert "substituted: False" in out
    assert "X opened in the centre: False" in out


def test_cliffwalking_example_runs(tmp_path: Path) -> None:
    out = _run("planner_cliffwalking.py", "--seed", "0", "--simulations", "200", cwd=tmp_path)
    rows = {
        m["mode"]: m
        for m in re.finditer(
            r"^(?P<mode>\S+)\s+steps\s+(?P<steps>\d+), cliff falls\s+(?P<falls>\d+), "
            r"substitutions\s+(?P<subs>\d+), reached goal: (?P<goal>yes|no)",
            out,
            re.MULTILINE,
        )
    }
    assert set(rows) == {"unguarded", "post-shield", "pre+post-shield"}, out
    assert int(rows["unguarded"]["falls"]) > 0
    assert int(rows["post-shield"]["falls"]) == 0
    assert int(rows["post-shield"]["subs"]) > 0
    assert int(rows["pre+post-shield"]["falls"]) == 0
    assert int(rows["pre+post-shield"]["subs"]) == 0
    assert rows["pre+post-shield"]["goal"] == "yes"
    assert "rationale: The planner preferred right" in out
    assert "(rule no-step-into-cliff)" in out


# -- OpenSpiel: pre- and post-shielding ---------------------------------------------------


def _ttt_guard(ttt: ModuleType) -> Guard:
    return Guard.from_policy(ttt.PACK)


def test_tictactoe_pack_denies_only_the_centre_opening(ttt: ModuleType) -> None:
    g = _ttt_guard(ttt)
    moves = [ttt.mark(c) for c in range(9)]
    opening = [m["params"]["cell"] for m in g.allowed(moves, {"move_number": 0})]
    assert opening == [0, 1, 2, 3, 5, 6, 7, 8]
    assert len(g.allowed(moves, {"move_number": 2})) == 9


def test_pre_shield_keeps_the_denied_move_out_of_the_root(ttt: ModuleType) -> None:
    import pyspiel

    g = _ttt_guard(ttt)
    game = pyspiel.load_game(ttt.GAME)
    bot = ttt.make_bot(game, 300, 0, g)
    root = bot.mcts_search(game.new_initial_state())
    assert sorted(c.action for c in root.children) == [0, 1, 2, 3, 5, 6, 7, 8]
    # the first simulation only evaluates the root; every later one goes through a child
    assert sum(c.explore_count for c in root.children) == root.explore_count - 1 == 299
    assert bot.evaluator.removed == 1


def _x_nodes(node: Any, depth: int = 0) -> Iterator[tuple[int, Any]]:
    """(move number, node) for every expanded node where X is to move."""
    if node.children and node.children[0].player == 0:
        yield depth, node
    for child in node.children:
        yield from _x_nodes(child, depth + 1)


def test_pre_shield_applies_at_every_guarded_node_of_the_tree(ttt: ModuleType) -> None:
    import pyspiel

    pack = parse(
        "name: no-corner\nversion: 1\nrules:\n  - id: no-corner-early\n"
        "    when: params.cell == 0 and context.move_number < 4\n    effect: deny\n"
    )
    g = Guard([pack])
    game = pyspiel.load_game(ttt.GAME)
    root = ttt.make_bot(game, 400, 1, g).mcts_search(game.new_initial_state())
    early = [(d, n) for d, n in _x_nodes(root) if d < 4]
    assert {d for d, _ in early} == {0, 2}  # the root and X's second move were expanded
    for _, node in early:
        assert 0 not in {c.action for c in node.children}
    # O's moves are not X's to shield: O may still take cell 0
    assert any(c.action == 0 for o in root.children for c in o.children)


def test_post_shield_substitutes_the_best_allowed_root_child(ttt: ModuleType) -> None:
    out = ttt.post_shield(_ttt_guard(ttt), 1000, 0)
    d = out.decision
    r = d.explanations[0]
    visits = {a["action"]: a["visits"] for a in r["actions"]}
    assert max(visits, key=lambda a: visits[a]) == 4  # the search wanted the centre
    best_allowed = max((a for a in visits if a != 4), key=lambda a: visits[a])
    assert out["params"]["cell"] == best_allowed
    assert d.substitution is not None and d.substitution.chosen_index == 1
    assert d.substitution.rejected[0]["rule_ids"] == ["no-centre-opening"]
    assert r["substituted_for"] == 4 and r["rule"] == "best_allowed"
    assert r["shielded"] == [{"action": 4, "label": "x(1,1)", "rule": "no-centre-opening"}]


def test_guarded_game_never_opens_in_the_centre(ttt: ModuleType) -> None:
    moves, returns = ttt.play_game(_ttt_guard(ttt), 200, 0)
    assert moves[0] != "x(1,1)" and moves[0].startswith("x(")
    assert len(returns) == 2 and returns[0] == -returns[1]


# -- CliffWalking --------------------------------------------------------------------------


def _cliff_guard(cliff: ModuleType) -> Guard:
    return Guard.from_policy(cliff.PACK)


def test_cliff_pack_denies_exactly_the_moves_gymnasium_punishes(cliff: ModuleType) -> None:
    import gymnasium as gym

    g = _cliff_guard(cliff)
    env = gym.make(cliff.ENV_ID)
    table = env.unwrapped.P  # type: ignore[attr-defined]
    cliff_cells = {3 * cliff.COLS + c for c in range(1, cliff.COLS - 1)}
    for obs in range(cliff.ROWS * cliff.COLS):
        if obs in cliff_cells:
            continue  # the walker is never there: falling sends it back to the start
        for action in range(4):
            [(_, _, reward, _)] = table[obs][action]
            denied = not g.evaluate(cliff.move(action), cliff.position(obs)).allowed
            assert denied == (reward == cliff.CLIFF_REWARD), (obs, action)
    env.close()


def test_cliff_pre_shield_never_searches_a_denied_move(cliff: ModuleType) -> None:
    g = _cliff_guard(cliff)
    planner = cliff.UCTPlanner(200, 0, cliff.guard_shield(g))
    start = 3 * cliff.COLS
    root = planner.search(start)
    assert 1 not in {c.action for c in root.children}  # right, into the cliff
    nodes, seen = [root], 0
    while nodes:
        node = nodes.pop()
        for child in node.children:
            seen += 1
            assert g.evaluate(cliff.move(child.action), cliff.position(node.obs)).allowed
            assert cliff.position(child.obs)["row"] < 3 or child.obs in (start, start + 11)
            nodes.append(child)
    assert seen > 50


def test_cliff_post_shield_substitutes_when_the_planner_proposes_the_cliff(
    cliff: ModuleType,
) -> None:
    g = _cliff_guard(cliff)
    start = 3 * cliff.COLS
    assert cliff.best_action(cliff.UCTPlanner(200, 0).search(start)) == 1  # right: the cliff
    out = cliff.guarded_planner(g, cliff.UCTPlanner(200, 0))(start)
    d = out.decision
    assert out["params"]["action"] != 1
    assert d.substitution is not None and d.substitution.chosen_index >= 1
    r = d.explanations[0]
    assert r["substituted_for"] == 1
    assert r["shielded"][0]["rule"] == "no-step-into-cliff"
    assert r["text"].startswith("The planner preferred right")


def test_cliff_episodes(cliff: ModuleType) -> None:
    g = _cliff_guard(cliff)
    unguarded = cliff.run_episode("unguarded", g, 100, 0, 15)
    assert unguarded.falls > 0
    post = cliff.run_episode("post-shield", g, 100, 0, 15)
    assert post.falls == 0 and post.substitutions > 0 and post.rationale
    both = cliff.run_episode("pre+post-shield", g, 200, 0, 40)
    assert both.falls == 0 and both.substitutions == 0
    assert both.reached_goal and both.end == cliff.GOAL and both.total_reward == -both.steps
