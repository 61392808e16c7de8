"""Planner adapters: present OpenSpiel, mctx-style and nested search trees as one node protocol."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeAlias, runtime_checkable

import numpy as np
import numpy.typing as npt

from explain._errors import ExplanationTypeError, SearchTreeError, kind_of

ActionId: TypeAlias = int | str
LabelFn: TypeAlias = Callable[[ActionId], str]
Labels: TypeAlias = "Mapping[Any, str] | LabelFn | None"


@runtime_checkable
class TreeNode(Protocol):
    """One search-tree node as the rationale reads it; `q` is the mean value of `action`."""

    @property
    def action(self) -> ActionId | None: ...

    @property
    def visits(self) -> int: ...

    @property
    def q(self) -> float | None: ...

    @property
    def prior(self) -> float | None: ...

    @property
    def outcome(self) -> float | None: ...

    @property
    def label(self) -> str | None: ...

    @property
    def children(self) -> Sequence[TreeNode]: ...


class TreeAdapter(Protocol):
    """Turns one planner's search tree into a root `TreeNode`."""

    def __call__(self, tree: Any, /) -> TreeNode: ...


@dataclass(frozen=True)
class Node:
    """A plain, eager `TreeNode`; handy for tests and for planners that build their own."""

    action: ActionId | None = None
    visits: int = 0
    q: float | None = None
    prior: float | None = None
    outcome: float | None = None
    label: str | None = None
    children: tuple[Node, ...] = field(default_factory=tuple)


def _scalar(value: Any) -> Any:
    """A 0-d numpy, torch or jax array (`counts[a]` of an array of counts) as its Python
    number; anything else as it is."""
    if getattr(value, "ndim", None) == 0 and hasattr(value, "item"):
        return value.item()
    return value


def action_id(value: Any) -> ActionId:
    """Return a root action as a plain int or str (numpy integers and 0-d integer arrays
    become int)."""
    value = _scalar(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral | str):
        raise ExplanationTypeError(f"an action must be an int or str, got {kind_of(value)}")
    return value if isinstance(value, str) else int(value)


def label_fn(labels: Labels) -> LabelFn | None:
    """Normalise `labels` (a mapping or a function) into a function returning str, or None."""
    if labels is None:
        return None
    if isinstance(labels, Mapping):
        table = labels
        fn: Callable[[ActionId], Any] = lambda a: table.get(a, a)  # noqa: E731
    elif callable(labels):
        fn = labels
    else:
        raise ExplanationTypeError(f"labels must be a mapping or a function, got {kind_of(labels)}")

    def name(action: ActionId) -> str:
        try:
            return str(fn(action))
        except Exception as exc:
            raise SearchTreeError(
                f"labels raised {type(exc).__name__} for action {action!r}: {exc}"
            ) from exc

    return name


# -- OpenSpiel --------------------------------------------------------------------------------

# OpenSpiel's ids (pyspiel.PlayerId) of the nodes where no single player chooses an action.
_NO_CHOICE = {
    -1: "is a chance node: its actions are the game's random outcomes, not a player's choice",
    -2: "is a simultaneous-move node: the players choose together, so no search tree of one "
    "player's choice is read from it (OpenSpiel's MCTSBot searches sequential games only)",
    -4: "is terminal: the game is over and there is no decision to explain",
}


def check_chooser(player: Any, what: str) -> None:
    """Refuse a node where no single player chooses: chance, simultaneous-move or terminal."""
    p = int(player)
    if p < 0:
        reason = _NO_CHOICE.get(p, f"has no player to move (OpenSpiel player id {p})")
        raise SearchTreeError(f"{what} {reason}")


def check_state(state: Any) -> set[int]:
    """Check `state` is an OpenSpiel state where one player chooses; return its legal actions."""
    if not all(
        callable(getattr(state, m, None))
        for m in ("current_player", "legal_actions", "action_to_string")
    ):
        raise ExplanationTypeError(
            "state must be the OpenSpiel state the tree was searched from (with current_player, "
            f"legal_actions and action_to_string), got {type(state).__name__!r}"
        )
    check_chooser(state.current_player(), "the state")
    return {int(a) for a in state.legal_actions()}


def state_labels(state: Any) -> LabelFn:
    """Name actions as the game does (`state.action_to_string`); an illegal one by its id."""
    legal = check_state(state)
    player = state.current_player()
    return lambda a: str(state.action_to_string(player, a)) if a in legal else str(a)


def check_legal(root: TreeNode, legal: set[int]) -> None:
    """Refuse a tree whose visited root actions are not legal in the state given with it."""
    wrong = [
        k.action
        for k in root.children
        if k.action is not None and k.action not in legal and k.visits > 0
    ]
    if wrong:
        raise SearchTreeError(
            f"root actions {wrong!r} are not legal in the given state (legal: "
            f"{sorted(legal)!r}): pass the state the tree was searched from"
        )


def is_openspiel_node(tree: Any) -> bool:
    """True for `open_spiel.python.algorithms.mcts.SearchNode`."""
    kind = type(tree)
    return kind.__name__ == "SearchNode" and kind.__module__.startswith("open_spiel")


class _OpenSpielNode:
    """View of an OpenSpiel `SearchNode`; values are from the mover's (child.player) side.

    `labels` names the children's actions; only the root has it, since action names
    belong to the root's state.
    """

    __slots__ = ("_node", "_label", "_labels")

    def __init__(self, node: Any, label: str | None, labels: LabelFn | None) -> None:
        self._node, self._label, self._labels = node, label, labels

    @property
    def action(self) -> ActionId | None:
        return None if self._node.action is None else action_id(self._node.action)

    @property
    def visits(self) -> int:
        return int(self._node.explore_count)

    @property
    def q(self) -> float | None:
        n = self._node.explore_count
        return float(self._node.total_reward) / n if n else None

    @property
    def prior(self) -> float | None:
        return float(self._node.prior)

    @property
    def outcome(self) -> float | None:
        outcome = self._node.outcome
        return None if outcome is None else float(outcome[self._node.player])

    @property
    def label(self) -> str | None:
        return self._label

    @property
    def children(self) -> Sequence[TreeNode]:
        fn = self._labels
        return [
            _OpenSpielNode(c, None if fn is None else fn(action_id(c.action)), None)
            for c in self._node.children
        ]


def from_openspiel(root: Any, state: Any = None, labels: Labels = None) -> TreeNode:
    """Adapt the root returned by OpenSpiel's `MCTSBot.mcts_search(state)`.

    With the search `state`, root actions are labelled by `state.action_to_string`. A root
    where no single player chooses (chance, simultaneous-move or terminal) is a
    SearchTreeError, as it is for OpenSpiel's own MCTSBot.
    """
    if not is_openspiel_node(root):
        raise ExplanationTypeError(
            f"from_openspiel() needs an open_spiel SearchNode, got {type(root).__name__!r}"
        )
    check_chooser(root.player, "the search tree's root")
    fn = label_fn(labels)
    if state is not None:
        named = state_labels(state)
        fn = fn or named
    return _OpenSpielNode(root, None, fn)


# -- mctx-style batched arrays ----------------------------------------------------------------

_MCTX_REQUIRED = ("children_visits", "children_values", "children_prior_logits")


def _field(tree: Any, name: str) -> Any:
    if isinstance(tree, Mapping):
        return tree.get(name)
    return getattr(tree, name, None)


def is_mctx_tree(tree: Any) -> bool:
    """True for objects or mappings carrying mctx's `children_*` arrays."""
    return _field(tree, "children_visits") is not None


def _softmax(logits: npt.NDArray[np.float64], valid: npt.NDArray[np.bool_]) -> Any:
    z = np.where(valid, logits, -np.inf)
    z = np.exp(z - z[valid].max()) if valid.any() else np.zeros_like(z)
    total = z.sum()
    return z / total if total > 0 else z


@dataclass(frozen=True)
class _MctxArrays:
    visits: npt.NDArray[np.int64]
    q: npt.NDArray[np.float64]
    logits: npt.NDArray[np.float64]
    index: npt.NDArray[np.int64] | None
    root_invalid: npt.NDArray[np.bool_] | None


class _MctxNode:
    """View of node `index` of one batch element; actions are the array columns."""

    def __init__(
        self,
        arr: _MctxArrays,
        index: int,
        action: ActionId | None,
        stats: tuple[int, float | None, float | None],
        labels: LabelFn | None,
    ) -> None:
        self._arr, self._node, self._labels = arr, index, labels
        self.action = action
        self.visits, self.q, self.prior = stats
        self.outcome: float | None = None
        self.label: str | None = None

    @property
    def children(self) -> Sequence[TreeNode]:
        if self._node < 0:
            return []
        arr, i = self._arr, self._node
        n_actions = arr.visits.shape[1]
        valid = np.ones(n_actions, dtype=bool)
        if self.action is None and arr.root_invalid is not None:
            valid = ~arr.root_invalid
        priors = _softmax(arr.logits[i], valid)
        kids: list[TreeNode] = []
        for a in np.flatnonzero(valid):
            visits = int(arr.visits[i, a])
            child = -1 if arr.index is None else int(arr.index[i, a])
            q = float(arr.q[i, a]) if visits > 0 else None
            kid = _MctxNode(arr, child, int(a), (visits, q, float(priors[a])), None)
            if self._labels is not None:
                kid.label = self._labels(int(a))
            kids.append(kid)
        return kids


def from_mctx(
    tree: Any, batch_index: int = 0, *, root_index: int | None = None, labels: Labels = None
) -> TreeNode:
    """Adapt an mctx `Tree` (or a mapping of its arrays), one batch element at a time.

    Q is `children_rewards + children_discounts * children_values` when rewards and
    discounts are present (as in mctx's `Tree.qvalues`), else `children_values`.
    """
    missing = [name for name in _MCTX_REQUIRED if _field(tree, name) is None]
    if missing:
        raise ExplanationTypeError(f"mctx-style tree lacks arrays {missing!r}")
    if root_index is None:
        found = _field(tree, "root_index")
        root_index = 0 if found is None else int(np.asarray(found).ravel()[0])
    arrays = _mctx_arrays(tree, batch_index)
    n_nodes = arrays.visits.shape[0]
    if not 0 <= root_index < n_nodes:
        raise SearchTreeError(f"root_index {root_index!r} is outside the tree's {n_nodes} nodes")
    root_visits = int(arrays.visits[root_index].sum())
    return _MctxNode(arrays, root_index, None, (root_visits, None, None), label_fn(labels))


def _pick_batch(value: Any, batch_index: int, ndim: int, name: str) -> Any:
    arr = np.asarray(value)
    if arr.ndim == ndim + 1:
        if not 0 <= batch_index < arr.shape[0]:
            raise SearchTreeError(
                f"batch_index {batch_index!r} is outside the batch of {arr.shape[0]}"
            )
        arr = arr[batch_index]
    if arr.ndim != ndim:
        raise SearchTreeError(f"{name} has shape {arr.shape}; expected {ndim} or {ndim + 1} dims")
    return arr


def _mctx_arrays(tree: Any, batch_index: int) -> _MctxArrays:
    get = {
        name: _pick_batch(_field(tree, name), batch_index, 2, name)
        for name in (*_MCTX_REQUIRED, "children_index", "children_rewards", "children_discounts")
        if _field(tree, name) is not None
    }
    visits = get["children_visits"].astype(np.int64)
    q = get["children_values"].astype(np.float64)
    if "children_rewards" in get and "children_discounts" in get:
        q = get["children_rewards"] + get["children_discounts"] * q
    shapes = {name: arr.shape for name, arr in get.items()}
    if len(set(shapes.values())) != 1:
        raise SearchTreeError(f"mctx arrays disagree in shape: {shapes!r}")
    invalid = _field(tree, "root_invalid_actions")
    root_invalid = None
    if invalid is not None:
        root_invalid = _pick_batch(invalid, batch_index, 1, "root_invalid_actions").astype(bool)
    index = get.get("children_index")
    return _MctxArrays(
        visits=visits,
        q=q.astype(np.float64),
        logits=get["children_prior_logits"].astype(np.float64),
        index=None if index is None else index.astype(np.int64),
        root_invalid=root_invalid,
    )


# -- nested dicts / dataclasses ---------------------------------------------------------------

_VISIT_KEYS = ("visits", "visit_count", "explore_count", "n")
_MEAN_KEYS = ("q", "value", "mean_value")
_SUM_KEYS = ("total_reward", "value_sum", "total_value")


def _first(obj: Any, keys: Sequence[str]) -> Any:
    for key in keys:
        value = _field(obj, key)
        if value is not None:
            return value
    return None


class _NestedNode:
    """View of a node given as a mapping or an object with action/visits/value/children."""

    __slots__ = ("_obj", "_labels")

    def __init__(self, obj: Any, labels: LabelFn | None = None) -> None:
        self._obj, self._labels = obj, labels

    @property
    def action(self) -> ActionId | None:
        value = _field(self._obj, "action")
        return None if value is None else action_id(value)

    @property
    def visits(self) -> int:
        value = _first(self._obj, _VISIT_KEYS)
        return 0 if value is None else as_count(value, "visits")

    @property
    def q(self) -> float | None:
        mean = _first(self._obj, _MEAN_KEYS)
        if mean is not None:
            return _number(mean, "value")
        total, n = _first(self._obj, _SUM_KEYS), self.visits
        return _number(total, "total value") / n if total is not None and n else None

    @property
    def prior(self) -> float | None:
        value = _field(self._obj, "prior")
        return None if value is None else _number(value, "prior")

    @property
    def outcome(self) -> float | None:
        value = _field(self._obj, "outcome")
        return None if value is None else _number(value, "outcome")

    @property
    def label(self) -> str | None:
        value = _field(self._obj, "label")
        return None if value is None else str(value)

    @property
    def children(self) -> Sequence[TreeNode]:
        kids = _field(self._obj, "children")
        if kids is None:
            kids = ()
        if isinstance(kids, Mapping):  # {action: child} with the action as key
            kids = [
                _with_action(_node(c, f"the child of action {a!r}"), a) for a, c in kids.items()
            ]
        elif isinstance(kids, str | bytes) or not isinstance(kids, Iterable):
            raise SearchTreeError(
                "a node's children must be a list or an {action: child} mapping, "
                f"got {kind_of(kids)}"
            )
        views = [_NestedNode(_node(c, f"child {i}")) for i, c in enumerate(kids)]
        if self._labels is None:
            return views
        return [_Named(v, self._labels) for v in views]


class _Named:
    """A child view whose label comes from the caller's label function."""

    def __init__(self, node: TreeNode, labels: LabelFn) -> None:
        self._node = node
        self.action, self.visits, self.q = node.action, node.visits, node.q
        self.prior, self.outcome = node.prior, node.outcome
        self.label = node.label if node.action is None else labels(node.action)

    @property
    def children(self) -> Sequence[TreeNode]:
        return self._node.children


def _node(child: Any, where: str) -> Any:
    if child is None or isinstance(child, str | bytes | numbers.Number):
        raise SearchTreeError(
            f"{where} is {kind_of(child)}, not a node (a mapping or an object with visits "
            "and value)"
        )
    return child


def _with_action(child: Any, action: Any) -> Any:
    if _field(child, "action") is not None:
        return child
    if isinstance(child, Mapping):
        return {**child, "action": action}
    return _KeyedChild(child, action)


class _KeyedChild:
    __slots__ = ("_obj", "action")

    def __init__(self, obj: Any, action: Any) -> None:
        self._obj, self.action = obj, action

    def __getattr__(self, name: str) -> Any:
        return getattr(self._obj, name)


def _number(value: Any, what: str) -> float:
    """Return a node statistic as a float, refusing strings, booleans and arrays."""
    value = _scalar(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise SearchTreeError(f"a node's {what} must be a number, got {kind_of(value)}")
    return float(value)


def as_count(value: Any, what: str) -> int:
    """Return a visit count as an int, refusing negatives, fractions and non-numbers."""
    value = _scalar(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise SearchTreeError(f"{what} must be a whole number, got {kind_of(value)}")
    number = float(value)
    if not (math.isfinite(number) and number >= 0 and number.is_integer()):
        raise SearchTreeError(f"{what} must be a whole number >= 0, got {value!r}")
    return int(number)


def from_nested(tree: Any, labels: Labels = None) -> TreeNode:
    """Adapt nested mappings or objects: {"action", "visits", "value" | "total_reward",
    "prior", "outcome", "label", "children": [...] or {action: child}}."""
    if not (isinstance(tree, Mapping) or hasattr(tree, "children")):
        raise ExplanationTypeError(
            f"from_nested() needs a mapping or an object with children, got {type(tree).__name__!r}"
        )
    return _NestedNode(tree, label_fn(labels))


def to_tree(tree: Any, state: Any = None, labels: Labels = None) -> TreeNode:
    """Recognise the tree's format (OpenSpiel, mctx-style, TreeNode, nested) and adapt it."""
    if is_openspiel_node(tree):
        return from_openspiel(tree, state, labels)
    if is_mctx_tree(tree):
        return from_mctx(tree, labels=labels)
    if isinstance(tree, Mapping) or hasattr(tree, "children"):
        return from_nested(tree, labels)
    raise ExplanationTypeError(
        f"cannot read a search tree from {type(tree).__name__!r}: expected an OpenSpiel "
        "SearchNode, an mctx-style tree (children_visits, children_values, "
        "children_prior_logits arrays), a TreeNode, or nested dicts/objects with children"
    )
