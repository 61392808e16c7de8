"""Search-tree rationales: why a planner chose its action over the others, and after a shield."""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from explain._adapters import (
    ActionId,
    Labels,
    TreeAdapter,
    TreeNode,
    action_id,
    as_count,
    check_legal,
    check_state,
    label_fn,
    state_labels,
    to_tree,
)
from explain._errors import ExplanationTypeError, NoAllowedAction, SearchTreeError

ChoiceRule = Literal["most_visits", "solved", "sampled", "best_allowed"]

# Continuations are read for the best few root actions only: wide roots (Go has 362 moves)
# would otherwise cost a walk per move.
CONTINUATION_ACTIONS = 8


class ActionStat(BaseModel):
    """Search statistics of one root action."""

    model_config = ConfigDict(frozen=True)

    action: ActionId
    label: str
    visits: int
    visit_share: float
    q: float | None
    prior: float | None
    outcome: float | None
    shielded: bool = False
    shield_rule: str | None = None
    continuation: list[ActionId] = []
    continuation_labels: list[str] = []


class ShieldedAction(BaseModel):
    """A root action removed by the shield, with the rule that removed it."""

    model_config = ConfigDict(frozen=True)

    action: ActionId
    label: str
    rule: str


class Rationale(BaseModel):
    """Why the search chose its action: visits, values, priors, line of play and shielding."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["rationale"] = "rationale"
    chosen: ActionId
    chosen_label: str
    rule: ChoiceRule
    actions: list[ActionStat]
    runner_up: ActionId | None
    visit_margin: int | None
    q_margin: float | None
    principal_variation: list[ActionId]
    principal_variation_labels: list[str] = []
    simulations: int
    shielded: list[ShieldedAction] = []
    substituted_for: ActionId | None = None
    text: str

    def stat(self, action: ActionId) -> ActionStat:
        """Return the statistics of a root action (by action id or label)."""
        for s in self.actions:
            if s.action == action:
                return s
        for s in self.actions:
            if s.label == action:
                return s
        known = ", ".join(s.label for s in self.actions)
        raise SearchTreeError(f"{action!r} is not a root action; root actions are {known}")

    def as_dict(self) -> dict[str, Any]:
        """Return the figures policy rules read as `rationale`."""
        chosen = self.stat(self.chosen)
        return {
            "chosen": self.chosen,
            "chosen_label": self.chosen_label,
            "rule": self.rule,
            "visit_share": chosen.visit_share,
            "visits": chosen.visits,
            "q": chosen.q,
            "q_margin": self.q_margin,
            "visit_margin": self.visit_margin,
            "runner_up": self.runner_up,
            "simulations": self.simulations,
            "substituted": self.substituted_for is not None,
            "shielded": [s.action for s in self.shielded],
        }

    def substitute(self, allowed: Iterable[ActionId], rule: str = "denied") -> Rationale:
        """Keep the choice if allowed, else pick the best allowed root action (post-shielding).

        Root actions outside `allowed` (matched by action id or label) are marked shielded
        by `rule`. Raises NoAllowedAction when nothing is left.
        """
        if isinstance(allowed, str | bytes):
            raise ExplanationTypeError(
                f"allowed must be a collection of root actions, not the single string "
                f"{allowed!r}; pass [{allowed!r}] to allow only that action"
            )
        if not isinstance(allowed, Iterable):
            raise ExplanationTypeError(
                f"allowed must be a collection of root actions, got {allowed!r}"
            )
        if not isinstance(rule, str):
            raise ExplanationTypeError(f"rule must be a rule id string, got {rule!r}")
        keep = set(allowed)
        removed = {
            s.action: rule
            for s in self.actions
            if not s.shielded and s.action not in keep and s.label not in keep
        }
        shield = {s.action: s.rule for s in self.shielded} | removed
        planner_choice = self.chosen if self.substituted_for is None else self.substituted_for
        planner_rule: ChoiceRule = self.rule
        if self.substituted_for is not None:
            planner_rule = "most_visits"
        return _decide(list(self.actions), planner_choice, planner_rule, shield, self.simulations)


# -- building -------------------------------------------------------------------------------


def _key(node: TreeNode | ActionStat) -> tuple[float, int, float]:
    """OpenSpiel's `SearchNode.sort_key`: solved outcome, then visits, then value."""
    q = node.q or 0.0
    return (node.outcome or 0.0, node.visits, q * node.visits)


def _finite(value: float | None, what: str) -> float | None:
    if value is None:
        return None
    number = float(value)
    if not math.isfinite(number):
        raise SearchTreeError(f"{what} must be finite, got {value!r}")
    return number


def _read(node: TreeNode) -> tuple[ActionId, int, float | None, float | None, float | None]:
    if node.action is None:
        raise SearchTreeError("a root child has no action")
    action = action_id(node.action)
    visits = as_count(node.visits, f"visits of action {action!r}")
    q = _finite(node.q, f"q of action {action!r}") if visits else None
    prior = _finite(node.prior, f"prior of action {action!r}")
    outcome = _finite(node.outcome, f"outcome of action {action!r}")
    return action, visits, q, prior, outcome


def _continuation(node: TreeNode, depth: int) -> list[TreeNode]:
    line: list[TreeNode] = []
    for _ in range(depth):
        kids = [c for c in node.children if c.visits > 0 and c.action is not None]
        if not kids:
            break
        node = max(kids, key=_key)
        line.append(node)
    return line


def _line_labels(
    first: ActionId, nodes: Sequence[TreeNode], labels: Labels, state: Any
) -> list[str]:
    """Names of the moves after `first`: a node's own label, else the caller's `labels`,
    else the game's own names read from `state` replayed along the line, else the id."""
    name = label_fn(labels)
    replay = None
    if name is None and state is not None:
        try:
            replay = state.clone()
            replay.apply_action(first)
        except Exception:  # not an OpenSpiel state, or the line cannot be replayed
            replay = None
    out = []
    for node in nodes:
        action = action_id(node.action)
        if node.label is not None:
            text = str(node.label)
        elif name is not None:
            text = name(action)
        elif replay is not None:
            try:
                text = str(replay.action_to_string(replay.current_player(), action))
                replay.apply_action(action)
            except Exception:
                text, replay = str(action), None
        else:
            text = str(action)
        out.append(text)
    return out


def _stats(root: TreeNode, labels: Labels) -> tuple[list[ActionStat], list[TreeNode]]:
    kids = list(root.children)
    if not kids:
        raise SearchTreeError("the search tree's root has no children: nothing was expanded")
    read = [_read(k) for k in kids]
    seen: set[ActionId] = set()
    for action, *_ in read:
        if action in seen:
            raise SearchTreeError(f"action {action!r} appears twice among the root's children")
        seen.add(action)
    total = sum(r[1] for r in read)
    if total == 0:
        raise SearchTreeError(
            f"the search tree has no visits: none of its {len(kids)} root actions was explored"
        )
    name = label_fn(labels)
    names = [
        name(action) if name else (kid.label or str(action))
        for kid, (action, *_) in zip(kids, read, strict=True)
    ]
    stats = [
        ActionStat(
            action=action,
            label=f"{text} [{action!r}]" if names.count(text) > 1 else text,
            visits=visits,
            visit_share=visits / total,
            q=q,
            prior=prior,
            outcome=outcome,
        )
        for text, (action, visits, q, prior, outcome) in zip(names, read, strict=True)
    ]
    return stats, kids


def _planner_rule(stats: Sequence[ActionStat], best: ActionStat) -> ChoiceRule:
    """'solved' when a proven outcome decided the choice (a proven win for `best`, or a
    proven loss that ranks a more visited action below it), else 'most_visits'."""
    most_visited = max(stats, key=lambda s: (s.visits, (s.q or 0.0) * s.visits))
    won = best.outcome is not None and best.outcome > 0
    return "solved" if won or best is not most_visited else "most_visits"


def rationale(
    tree: Any,
    state: Any = None,
    *,
    chosen: ActionId | None = None,
    shielded: Mapping[ActionId, str] | None = None,
    labels: Labels = None,
    adapter: TreeAdapter | None = None,
    depth: int = 10,
) -> Rationale:
    """Explain the root decision of an MCTS search tree.

    `tree` is an OpenSpiel `SearchNode`, an mctx-style tree, or nested dicts/objects
    (`adapter` reads any other format). The planner's choice follows OpenSpiel's rule
    (a solved win, else most visits, then value) unless `chosen` says which action it
    actually played (e.g. sampled); the text then says which actions the search ranked
    higher and why. `shielded={action: rule_id}` marks root actions (ids or labels) a shield
    removed; if that removes the planner's choice, the best allowed action is substituted.

    Root actions that share a label are told apart by their ids: `x [0]`, `x [1]`.

    Raises SearchTreeError for a malformed tree (including a root with fewer visits than
    its children in total), for `chosen` or `shielded` actions that are not root actions,
    for a root or `state` where no single player chooses (a chance node, a simultaneous
    move or the end of the game: OpenSpiel's MCTSBot cannot search those either) and for
    visited root actions that are not legal in `state`.
    """
    if isinstance(depth, bool) or not isinstance(depth, numbers.Integral) or depth < 0:
        raise SearchTreeError(f"depth must be an int >= 0, got {depth!r}")
    _check_shielded(shielded)
    legal = None if state is None else check_state(state)
    root = adapter(tree) if adapter is not None else to_tree(tree, state)
    if legal is not None:
        check_legal(root, legal)
    given = labels
    if state is not None and labels is None and adapter is None and not _has_labels(root):
        labels = state_labels(state)
    stats, kids = _stats(root, labels)
    order = sorted(range(len(stats)), key=lambda i: _key(stats[i]), reverse=True)
    top = set(order[:CONTINUATION_ACTIONS])
    lines = {i: _continuation(kids[i], int(depth)) for i in top}
    stats = [
        s.model_copy(
            update={
                "continuation": [action_id(n.action) for n in lines[i]],
                "continuation_labels": _line_labels(s.action, lines[i], given, state),
            }
        )
        if i in top
        else s
        for i, s in enumerate(stats)
    ]
    best = max(stats, key=_key)
    rule = _planner_rule(stats, best)
    planner_choice = best.action
    if chosen is not None:
        picked = _find(stats, chosen, "chosen action")
        if picked.action != best.action:
            planner_choice, rule = picked.action, "sampled"
    shield = {_find(stats, a, "shielded action").action: r for a, r in (shielded or {}).items()}
    return _decide(stats, planner_choice, rule, shield, _simulations(root, stats))


def _has_labels(root: TreeNode) -> bool:
    return any(k.label is not None for k in root.children)


def _check_shielded(shielded: Any) -> None:
    if shielded is None:
        return
    if not isinstance(shielded, Mapping):
        raise ExplanationTypeError(
            f"shielded must be a mapping of root action -> rule id, got {shielded!r}"
        )
    for action, rule in shielded.items():
        if not isinstance(rule, str):
            raise ExplanationTypeError(
                f"shielded maps {action!r} to {rule!r}; a rule id must be a string"
            )


def _simulations(root: TreeNode, stats: Sequence[ActionStat]) -> int:
    """The root's visit count, or the children's total when the root does not record one.

    A child is only visited through its parent, so children with more visits in total than
    the root mean the tree is inconsistent (or the root's count is of something else).
    """
    total = sum(s.visits for s in stats)
    visits = as_count(root.visits, "root visits") if root.visits else 0
    if not visits:
        return total
    if total > visits:
        raise SearchTreeError(
            f"the root has {visits} visits but its children have {total} in total; "
            "a child cannot be visited more often than its parent"
        )
    return visits


def _find(stats: Sequence[ActionStat], action: Any, what: str) -> ActionStat:
    for s in stats:
        if s.action == action:
            return s
    for s in stats:
        if s.label == action:
            return s
    known = ", ".join(s.label for s in stats)
    raise SearchTreeError(f"{what} {action!r} is not a root action; root actions: {known}")


def _decide(
    stats: list[ActionStat],
    planner_choice: ActionId,
    planner_rule: ChoiceRule,
    shield: Mapping[ActionId, str],
    simulations: int,
) -> Rationale:
    marked = [
        s.model_copy(update={"shielded": True, "shield_rule": shield[s.action]})
        if s.action in shield
        else s
        for s in stats
    ]
    allowed = [s for s in marked if not s.shielded]
    if not allowed:
        rules = ", ".join(f"{s.label} ({s.shield_rule})" for s in marked)
        raise NoAllowedAction(f"the shield removed every root action: {rules}")
    intended = next(s for s in marked if s.action == planner_choice)
    chosen, rule, substituted = intended, planner_rule, None
    if intended.shielded:
        chosen, rule, substituted = max(allowed, key=_key), "best_allowed", intended.action
    others = [s for s in allowed if s.action != chosen.action]
    runner = max(others, key=_key) if others else None
    labels = {s.action: s.label for s in marked}
    removed = [ShieldedAction(action=a, label=labels[a], rule=r) for a, r in shield.items()]
    ordered = sorted(marked, key=_key, reverse=True)
    q_margin = None
    if runner is not None and chosen.q is not None and runner.q is not None:
        q_margin = chosen.q - runner.q
    draft = Rationale(
        chosen=chosen.action,
        chosen_label=chosen.label,
        rule=rule,
        actions=ordered,
        runner_up=None if runner is None else runner.action,
        visit_margin=None if runner is None else chosen.visits - runner.visits,
        q_margin=q_margin,
        principal_variation=[chosen.action, *chosen.continuation],
        principal_variation_labels=[chosen.label, *chosen.continuation_labels],
        simulations=simulations,
        shielded=removed,
        substituted_for=substituted,
        text="",
    )
    return draft.model_copy(update={"text": _text(draft, intended, runner)})


# -- text -----------------------------------------------------------------------------------
#
# Every comparison in the text is worked out from the two actions' numbers, never assumed
# from the rule: a caller may choose an action the search ranks lower (sampling), a solved
# outcome may outrank more visits, and the shield may leave only weaker actions.


def _q(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.3f}"


def _visits(s: ActionStat) -> str:
    return f"{_n(s.visits, 'visit')}, {s.visit_share:.0%}"


def _outcome(value: float | None) -> str:
    return "unproven" if value is None else f"{value:+g}"


def _pair(a: float, b: float, fmt: str) -> tuple[str, str]:
    """Format two numbers so that different numbers never print the same."""
    for digits in (3, 6, 9, 12):
        x, y = f"{a:{fmt}.{digits}f}", f"{b:{fmt}.{digits}f}"
        if float(x) != float(y) or a == b:
            return x, y
    return f"{a:{fmt}.17g}", f"{b:{fmt}.17g}"


def _order(a: ActionStat, b: ActionStat) -> int:
    """1 if the search ranks `a` above `b`, -1 if below, 0 if tied (OpenSpiel's sort key)."""
    ka, kb = _key(a), _key(b)
    return (ka > kb) - (ka < kb)


def _advantages(a: ActionStat, b: ActionStat) -> list[str]:
    """What `a` has more of than `b` among outcome, visits and mean value, with both figures."""
    found: list[str] = []
    if (a.outcome or 0.0) > (b.outcome or 0.0):
        found.append(f"a better outcome ({_outcome(a.outcome)} vs {_outcome(b.outcome)})")
    if a.visits > b.visits:
        found.append(f"more visits ({a.visits} vs {b.visits})")
    if a.q is not None and b.q is not None and a.q > b.q:
        qa, qb = _pair(a.q, b.q, "+")
        found.append(f"a higher mean value ({qa} vs {qb})")
    return found


def _facts(s: ActionStat) -> str:
    parts = [_visits(s), f"mean value {_q(s.q)}"]
    if s.prior is not None:
        parts.append(f"prior {s.prior:.2f}")
    if s.outcome is not None:
        parts.append(f"proven outcome {s.outcome:+g}")
    return f"{s.label}: {', '.join(parts)}"


def _text(r: Rationale, intended: ActionStat, runner: ActionStat | None) -> str:
    chosen = r.stat(r.chosen)
    parts: list[str] = []
    if r.rule == "best_allowed":
        parts.append(
            f"The planner preferred {intended.label} ({_visits(intended)}), but the shield "
            f"removed it (rule {intended.shield_rule}); {chosen.label} is the best allowed action."
        )
    elif r.rule == "sampled":
        top = r.actions[0]
        parts.append(
            f"{chosen.label} was chosen by the caller (for example sampled from the visit "
            f"distribution), not by the search's own ranking, which puts {top.label} first."
        )
    parts.append(_contrast(chosen, runner, r.rule == "sampled", bool(r.shielded)))
    if runner is not None:
        parts.append(f"{_facts(chosen)}; {_facts(runner)}.")
    if r.shielded:
        listed = ", ".join(f"{s.label} (rule {s.rule})" for s in r.shielded)
        parts.append(f"Removed by the shield: {listed}.")
    line = " -> ".join(r.principal_variation_labels or [str(a) for a in r.principal_variation])
    parts.append(f"Search ran {_n(r.simulations, 'simulation')}; expected line of play: {line}.")
    return " ".join(parts)


def _contrast(
    chosen: ActionStat, runner: ActionStat | None, by_caller: bool, shielded: bool
) -> str:
    if runner is None:  # "allowed" only when the shield removed the others
        only = "the only allowed root action" if shielded else "the only root action"
        return f"Chose {chosen.label}: it was {only} ({_visits(chosen)})."
    c, o = chosen.label, runner.label
    order = _order(chosen, runner)
    if order < 0:  # only a caller's choice can rank below the best other allowed action
        better = _advantages(runner, chosen) or ["a higher rank in the search"]
        return f"{c} was chosen over {o} although {o} had {' and '.join(better)}."
    if order == 0:
        tie = f"{c} and {o} rank equal in the search (outcome, visits and total value)"
        if by_caller:
            return f"{tie}; the caller took {c}."
        return f"{tie}; the first in the tree's order is taken."
    return f"Chose {c} over {o} because {_reason(chosen, runner)}."


def _reason(chosen: ActionStat, runner: ActionStat) -> str:
    """Why `chosen` ranks above `runner`: the first of outcome, visits, value that differs."""
    o = runner.label
    co, ro = chosen.outcome, runner.outcome
    if (co or 0.0) != (ro or 0.0):
        if co is not None and ro is not None:
            return f"the search proved its outcome ({co:+g}) against {ro:+g} for {o}"
        if co is not None:
            return f"the search proved its outcome ({co:+g}), better than {o}'s unproven one"
        return f"the search proved {o}'s outcome ({_outcome(ro)}), worse than its unproven one"
    if chosen.visits != runner.visits:
        text = f"it received more visits ({chosen.visits} vs {runner.visits})"
        if chosen.q is not None and runner.q is not None and runner.q > chosen.q:
            rq, cq = _pair(runner.q, chosen.q, "+")
            text += (
                f"; {o} had the higher mean value ({rq} vs {cq}) but on fewer visits, "
                "so the search trusted it less"
            )
        return text
    if chosen.q is not None and runner.q is not None:
        cq, rq = _pair(chosen.q, runner.q, "+")
        both = f"both received {_n(chosen.visits, 'visit')}"
        return f"{both} and it had a higher mean value ({cq} vs {rq})"
    return (
        f"both received {_n(chosen.visits, 'visit')} and the search counts a missing mean "
        "value as 0, "
        f"which ranks its mean value ({_q(chosen.q)}) above {o}'s ({_q(runner.q)})"
    )


def _n(count: int, noun: str) -> str:
    """`1 visit`, `2 visits`."""
    return f"{count} {noun}{'' if count == 1 else 's'}"
