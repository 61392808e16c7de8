"""An OpenSpiel MCTS tic-tac-toe player guarded two ways, by the `tictactoe` pack.

The pack (examples/policies/tictactoe.yaml) forbids X to open in the centre. Left alone,
OpenSpiel's `MCTSBot` does exactly that: the centre is the most visited opening move.

* Post-shielding: `@g.agent(action_of=...)` wraps a function returning
  `bot.mcts_search(state)`. The guard checks the planner's choice; when it is denied, the
  best allowed root child (most visits) is played instead, and the decision's rationale
  says which action was removed, by which rule, and why the substitute came next.
* Pre-shielding: OpenSpiel's MCTS creates a node's children from `evaluator.prior(state)`.
  `ShieldedEvaluator` wraps the evaluator so that at the guarded player's nodes only the
  actions `g.allowed(...)` lets through become children: denied branches are never
  searched, and the search spends its whole budget on moves that may be played.

Run: .venv/bin/python examples/planner_openspiel.py [--seed 0] [--simulations 1000]
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyspiel
from open_spiel.python.algorithms import mcts

from explain import NoAllowedAction
from guard import Guard
from guard.enforce import GuardedAction

PACK = Path(__file__).resolve().with_name("policies") / "tictactoe.yaml"
GAME = "tic_tac_toe"
GUARDED_PLAYER = 0  # X moves first
PLAYER_NAMES = ("x", "o")
UCT_C = 2.0


def mark(cell: int, player: int = GUARDED_PLAYER) -> dict[str, Any]:
    """The guard action for placing `player`'s mark on `cell` (0..8, row by row)."""
    return {"kind": "place_mark", "actor": PLAYER_NAMES[player], "params": {"cell": int(cell)}}


def context_of(state: pyspiel.State) -> dict[str, Any]:
    """What the pack's rules may read about the position (`context.move_number`)."""
    return {"move_number": state.move_number()}


class ShieldedEvaluator(mcts.Evaluator):  # type: ignore[misc]
    """Pre-shield: MCTS expansion at `player`'s nodes only sees the actions the guard allows.

    Values (`evaluate`) come from the wrapped evaluator; only `prior`, which OpenSpiel's
    `_apply_tree_policy` turns into a new node's children, is filtered and renormalised.
    The random rollouts below the tree are value estimates, not moves, and stay unshielded
    (with this pack they never reach the opening move anyway).
    """

    def __init__(self, inner: mcts.Evaluator, guard: Guard, player: int = GUARDED_PLAYER) -> None:
        self.inner, self.guard, self.player = inner, guard, player
        self.removed = 0  # (node, action) pairs the shield kept out of the tree

    def evaluate(self, state: pyspiel.State) -> Any:
        return self.inner.evaluate(state)

    def prior(self, state: pyspiel.State) -> list[tuple[int, float]]:
        priors: list[tuple[int, float]] = self.inner.prior(state)
        if state.is_chance_node() or state.current_player() != self.player:
            return priors
        moves = [mark(a, self.player) for a, _ in priors]
        allowed = {m["params"]["cell"] for m in self.guard.allowed(moves, context_of(state))}
        kept = [(a, p) for a, p in priors if a in allowed]
        if not kept:
            raise NoAllowedAction(f"the guard allows none of {len(priors)} moves in\n{state}")
        self.removed += len(priors) - len(kept)
        total = sum(p for _, p in kept)
        return [(a, p / total) for a, p in kept]


def make_bot(
    game: pyspiel.Game, simulations: int, seed: int, guard: Guard | None = None
) -> mcts.MCTSBot:
    """A seeded MCTS bot with random rollouts; pre-shielded for X when `guard` is given."""
    evaluator: mcts.Evaluator = mcts.RandomRolloutEvaluator(1, np.random.RandomState(seed))
    if guard is not None:
        evaluator = ShieldedEvaluator(evaluator, guard)
    return mcts.MCTSBot(
        game,
        UCT_C,
        simulations,
        evaluator,
        solve=True,
        random_state=np.random.RandomState(seed),
    )


def guarded_planner(guard: Guard, bot: mcts.MCTSBot) -> Callable[[pyspiel.State], GuardedAction]:
    """Post-shield: the guard checks the searched tree's choice and substitutes if denied."""

    @guard.agent(action_of=mark, context=context_of)
    def plan(state: pyspiel.State) -> mcts.SearchNode:
        return bot.mcts_search(state)

    return plan


def play_game(guard: Guard, simulations: int, seed: int) -> tuple[list[str], list[float]]:
    """X (pre- and post-shielded MCTS) against O (plain MCTS); the moves and the returns."""
    game = pyspiel.load_game(GAME)
    x = guarded_planner(guard, make_bot(game, simulations, seed, guard))
    o = make_bot(game, simulations, seed + 1)
    state = game.new_initial_state()
    moves: list[str] = []
    while not state.is_terminal():
        player = state.current_player()
        if player == GUARDED_PLAYER:
            action = int(x(state)["params"]["cell"])
        else:
            action = int(o.step(state))
        moves.append(state.action_to_string(player, action))
        state.apply_action(action)
    return moves, list(state.returns())


def post_shield(guard: Guard, simulations: int, seed: int) -> GuardedAction:
    """Search the opening unshielded; the guard replaces a denied choice."""
    game = pyspiel.load_game(GAME)
    return guarded_planner(guard, make_bot(game, simulations, seed))(game.new_initial_state())


def pre_shield(
    guard: Guard, simulations: int, seed: int
) -> tuple[GuardedAction, ShieldedEvaluator]:
    """Search the opening with the shield inside expansion, then through the guard too."""
    game = pyspiel.load_game(GAME)
    bot = make_bot(game, simulations, seed, guard)
    return guarded_planner(guard, bot)(game.new_initial_state()), bot.evaluator


def _visits(r: dict[str, Any]) -> str:
    return ", ".join(f"{a['label']} {a['visits']}" for a in r["actions"])


def at_least(least: int) -> Callable[[str], int]:
    """An argparse type: a whole number no smaller than `least`."""

    def integer(text: str) -> int:
        value = int(text)
        if value < least:
            raise argparse.ArgumentTypeError(f"must be at least {least}, got {value}")
        return value

    return integer


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    # one simulation only visits the root: it expands nothing, so there is no move to play
    parser.add_argument("--simulations", type=at_least(2), default=1000)
    parser.add_argument("--audit", default=None, help="audit log URL, e.g. sqlite:///audit.db")
    args = parser.parse_args(argv)

    g = Guard.from_policy(PACK, audit=args.audit)
    print(f"{GAME}, X to open; MCTS {args.simulations} simulations, seed {args.seed}")

    out = post_shield(g, args.simulations, args.seed)
    d, r = out.decision, out.decision.explanations[0]
    print("\npost-shield (@g.agent around bot.mcts_search)")
    print(f"  root visits: {_visits(r)}")
    if d.substitution is not None:
        labels = {a["action"]: a["label"] for a in r["actions"]}
        rules = ", ".join(d.substitution.rejected[0]["rule_ids"])
        print(f"  planner chose {labels[r['substituted_for']]} -> denied by {rules}")
        print(f"  substitution: {d.substitution.reason}")
    print(f"  played {r['chosen_label']} (verdict {d.verdict.value})")
    print(f"  rationale: {r['text']}")

    out, shield = pre_shield(g, args.simulations, args.seed)
    d, r = out.decision, out.decision.explanations[0]
    searched = sorted(a["action"] for a in r["actions"])
    print("\npre-shield (ShieldedEvaluator inside MCTS expansion)")
    print(f"  root visits: {_visits(r)}")
    print(f"  root actions searched: {searched}; centre searched: {4 in searched}")
    print(f"  the shield kept {shield.removed} action(s) out of the tree")
    print(
        f"  played {r['chosen_label']} (verdict {d.verdict.value}, "
        f"substituted: {d.substitution is not None})"
    )
    print(f"  rationale: {r['text']}")

    moves, returns = play_game(g, args.simulations, args.seed)
    result = {1.0: "X wins", -1.0: "O wins"}.get(returns[0], "draw")
    print(f"\ngame, guarded X vs plain O: {' '.join(moves)} -> {result}")
    print(f"X opened in the centre: {moves[0] == 'x(1,1)'}")
    if g.audit is not None:
        head = g.audit.head()
        print(f"audit log: {head.size} records, root {head.root}")
    g.close()


if __name__ == "__main__":
    main()
