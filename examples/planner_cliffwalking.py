"""A UCT planner walking gymnasium's CliffWalking grid, guarded by the `cliffwalking` pack.

The planner searches with a model of the grid that has walls and the goal but no cliff (a
map drawn before the cliff was surveyed: a stand-in for any planner whose model misses a
hazard). Left alone it heads straight along the bottom row and falls again and again. The
pack (examples/policies/cliffwalking.yaml) knows the hazard: it denies every move that
lands on the cliff, given the walker's position as context.

* Post-shielding: `@g.agent` wraps the planner, which returns its search tree; a denied
  choice is replaced by the best allowed root action, and the rationale says so. The
  planner still believes the denied move is fine, so it keeps proposing it: the walker is
  safe, but substitutions alone may not get it to the goal.
* Pre-shielding: the planner asks `g.allowed(...)` while expanding each node, so denied
  moves are never searched and the search finds the detour along row 2. The `@g.agent`
  check stays as a backstop.

Gymnasium's actions: 0 up, 1 right, 2 down, 3 left; an observation is row * 12 + col.
`CliffWalking-v1` is the non-slippery grid of v0 (deprecated in gymnasium 1.x).

Run: .venv/bin/python examples/planner_cliffwalking.py [--seed 0] [--simulations 200]
"""

from __future__ import annotations

import argparse
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import gymnasium as gym

from guard import ActionBlocked, Guard
from guard.enforce import GuardedAction

PACK = Path(__file__).resolve().with_name("policies") / "cliffwalking.yaml"
ENV_ID = "CliffWalking-v1"
ROWS, COLS = 4, 12
START, GOAL = (3, 0), (3, 11)
CLIFF_REWARD = -100  # gymnasium's reward for stepping into the cliff (and back to start)
DIRECTIONS = ("up", "right", "down", "left")
STEP = ((-1, 0), (0, 1), (1, 0), (0, -1))
UCT_C = 2.0
DEPTH = 30

# Given a position and candidate actions, the ones that may be searched.
Shield = Callable[[int, Sequence[int]], list[int]]
Mode = Literal["unguarded", "post-shield", "pre+post-shield"]
MODES: tuple[Mode, ...] = ("unguarded", "post-shield", "pre+post-shield")


def position(obs: int) -> dict[str, int]:
    """The guard context for an observation: the walker's row and column."""
    row, col = divmod(int(obs), COLS)
    return {"row": row, "col": col}


def move(action: int) -> dict[str, Any]:
    """The guard action for a gymnasium action."""
    return {"kind": "move", "params": {"action": int(action), "direction": DIRECTIONS[action]}}


def model_step(obs: int, action: int) -> tuple[int, bool]:
    """The planner's model: move one cell (walls stop it); no cliff. (next obs, at goal)."""
    row, col = divmod(obs, COLS)
    d_row, d_col = STEP[action]
    row = min(max(row + d_row, 0), ROWS - 1)
    col = min(max(col + d_col, 0), COLS - 1)
    return row * COLS + col, (row, col) == GOAL


def steps_to_goal(obs: int) -> int:
    """The planner's leaf estimate: cells to the goal in its (cliff-free) model."""
    row, col = divmod(obs, COLS)
    return abs(GOAL[0] - row) + abs(GOAL[1] - col)


@dataclass
class Node:
    """A search-tree node; explain's nested-tree adapter reads action, visits,
    total_reward (rewards to go, summed over visits), label and children."""

    obs: int
    action: int | None = None
    label: str | None = None
    done: bool = False
    visits: int = 0
    total_reward: float = 0.0
    children: list[Node] = field(default_factory=list)
    expanded: bool = False

    def uct(self, parent_visits: int) -> float:
        if self.visits == 0:
            return math.inf
        mean = self.total_reward / self.visits
        return mean + UCT_C * math.sqrt(math.log(parent_visits) / self.visits)


class UCTPlanner:
    """UCT over the planner's model: -1 per move, leaves valued by -steps_to_goal.

    With a `shield`, a node's children are only the actions the shield lets through.
    """

    def __init__(self, simulations: int, seed: int, shield: Shield | None = None) -> None:
        self.simulations, self.shield = simulations, shield
        self.rng = random.Random(seed)

    def search(self, obs: int) -> Node:
        root = Node(obs)
        for _ in range(self.simulations):
            self._simulate(root)
        return root

    def _expand(self, node: Node) -> None:
        actions = list(range(len(DIRECTIONS)))
        if self.shield is not None:
            actions = self.shield(node.obs, actions)
        self.rng.shuffle(actions)  # ties go to a seeded random action, not the first listed
        for a in actions:
            nxt, done = model_step(node.obs, a)
            node.children.append(Node(nxt, a, DIRECTIONS[a], done))
        node.expanded = True

    def _simulate(self, root: Node) -> None:
        path, node = [root], root
        while not node.done and len(path) <= DEPTH:
            if not node.expanded:
                self._expand(node)
            if not node.children:
                break
            node = max(node.children, key=lambda c: c.uct(max(path[-1].visits, 1)))
            path.append(node)
            if node.visits == 0:
                break
        value = 0.0 if node.done else -float(steps_to_goal(node.obs))
        for n in reversed(path):
            if n.action is not None:
                value -= 1.0  # the move into n costs one step
            n.visits += 1
            n.total_reward += value


def guard_shield(guard: Guard) -> Shield:
    """Pre-shield: the actions `guard` allows from an observation's position."""

    def allowed(obs: int, actions: Sequence[int]) -> list[int]:
        ok = guard.allowed([move(a) for a in actions], position(obs))
        return [int(a["params"]["action"]) for a in ok]

    return allowed


def best_action(root: Node) -> int:
    """The planner's own choice: the most visited root action, then the best value."""
    best = max(root.children, key=lambda c: (c.visits, c.total_reward))
    assert best.action is not None
    return best.action


def guarded_planner(guard: Guard, planner: UCTPlanner) -> Callable[[int], GuardedAction]:
    """Post-shield: the guard checks the search tree's choice and substitutes if denied."""

    @guard.agent(action_of=move, context=position)
    def plan(obs: int) -> Node:
        return planner.search(obs)

    return plan


@dataclass
class Episode:
    """What happened in one episode."""

    steps: int = 0
    falls: int = 0
    total_reward: float = 0.0
    reached_goal: bool = False
    end: tuple[int, int] = START
    substitutions: int = 0
    rationale: str | None = None  # the first substitution's rationale text
    blocked: str | None = None  # why the guard stopped the walker, if it did
    path: list[str] = field(default_factory=list)


def run_episode(mode: Mode, guard: Guard, simulations: int, seed: int, max_steps: int) -> Episode:
    """Walk one episode; `mode` is "unguarded", "post-shield" or "pre+post-shield"."""
    shield = guard_shield(guard) if mode == "pre+post-shield" else None
    planner = UCTPlanner(simulations, seed, shield)
    plan = guarded_planner(guard, planner) if mode != "unguarded" else None
    env = gym.make(ENV_ID)
    obs, _ = env.reset(seed=seed)
    ep = Episode()
    try:
        while ep.steps < max_steps:
            if plan is None:
                action = best_action(planner.search(int(obs)))
            else:
                try:
                    out = plan(int(obs))
                except ActionBlocked as exc:  # every root action denied: stop, do not move
                    ep.blocked = str(exc)
                    break
                action = int(out["params"]["action"])
                if out.decision.substitution is not None:
                    ep.substitutions += 1
                    ep.rationale = ep.rationale or out.decision.explanations[0]["text"]
            obs, reward, terminated, truncated, _ = env.step(action)
            ep.steps += 1
            ep.total_reward += float(reward)
            if reward == CLIFF_REWARD:
                ep.falls += 1
            ep.path.append(DIRECTIONS[action])
            ep.end = divmod(int(obs), COLS)
            if terminated or truncated:
                ep.reached_goal = bool(terminated)
                break
    finally:
        env.close()
    return ep


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
    parser.add_argument("--simulations", type=at_least(1), default=200)
    parser.add_argument("--max-steps", type=at_least(1), default=40)
    args = parser.parse_args(argv)

    g = Guard.from_policy(PACK)
    print(
        f"{ENV_ID}: {ROWS}x{COLS} grid, start {START}, goal {GOAL}, cliff (3, 1..10); "
        f"UCT {args.simulations} simulations, seed {args.seed}, at most {args.max_steps} steps"
    )
    first_rationale = None
    for mode in MODES:
        ep = run_episode(mode, g, args.simulations, args.seed, args.max_steps)
        first_rationale = first_rationale or ep.rationale
        print(
            f"{mode:16} steps {ep.steps:3}, cliff falls {ep.falls:3}, substitutions "
            f"{ep.substitutions:3}, reached goal: {'yes' if ep.reached_goal else 'no'}, "
            f"ended at {ep.end}, return {ep.total_reward:g}"
        )
        if ep.blocked is not None:
            print(f"  blocked: {ep.blocked}")
        if mode == "post-shield" and not ep.reached_goal and ep.blocked is None:
            if ep.steps and ep.substitutions == ep.steps:  # every move it chose was denied
                print("  safe, but its search still prefers the denied move: no detour found")
            else:  # it did move as it chose: too short a search, or too few steps
                print(f"  safe, but the goal was not reached in {ep.steps} steps")
        if mode == "pre+post-shield":
            print(f"  path: {' '.join(ep.path)}")
    if first_rationale is not None:
        print(f"rationale: {first_rationale}")
    g.close()


if __name__ == "__main__":
    main()
