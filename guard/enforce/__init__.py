"""Enforcement: decorators that check what a policy proposes and apply the verdict."""

from __future__ import annotations

import copy
import functools
import inspect
import itertools
import math
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel

from guard._exceptions import ActionBlocked, ActionEscalated, InvalidAction
from guard._models import Decision, Substitution, Verdict
from guard._validate import check_action

if TYPE_CHECKING:
    from guard._engine import Guard
    from guard._evaluate import DecisionRates

__all__ = [
    "MAX_YIELDED",
    "GuardedAction",
    "GuardedRanking",
    "aenforce_proposal",
    "agent",
    "enforce_proposal",
    "ranker",
]

Candidate = tuple[Any, float, int]  # an alternative, its score, its position as given

#: Most alternatives or items a guarded function may yield: a sampler that never stops
#: is refused once past it, not read until memory runs out.
MAX_YIELDED = 100_000
ContextArg = Mapping[str, Any] | Callable[..., Mapping[str, Any] | None] | None
TextArg = str | Callable[..., str | None] | None  # a ranker's actor=, tenant= or query=


class GuardedAction(dict[str, Any]):
    """The action that may run (possibly redacted or substituted), with its decision."""

    decision: Decision


class GuardedRanking(list[dict[str, Any]]):
    """The items that survived the policy, in their original order, with the decision."""

    decision: Decision


def agent(
    guard: Guard,
    fn: Callable[..., Any] | None = None,
    *,
    actions: Sequence[Mapping[str, Any]] | None = None,
    policy: str | None = None,
    context: ContextArg = None,
    explain: Any = None,
    action_of: Callable[[Any], Mapping[str, Any]] | None = None,
    explain_mode: Literal["auto", "sync", "deferred"] = "auto",
) -> Any:
    """Wrap `fn` so its proposal is checked, and denied or escalated actions never run.

    `fn` may return an action, `[(action, probability), ...]` (or yield the pairs, also
    from an async generator, whose wrapper is then awaited), scores over `actions` (-inf
    masks an action: it is never proposed nor substituted), or an MCTS search tree (its
    root children become the alternatives; `action_of(a)` turns a planner action into a
    guard action). `explain` (an explainer with `.explain(x, target)` applied to the
    first argument, after `self` in a method, or a callable given the call's arguments)
    attaches an attribution: synchronously when the pack's rules read `attribution` or
    there is no audit log, else deferred to a background worker that appends a linked
    audit record.
    """
    if explain_mode not in ("auto", "sync", "deferred"):
        raise InvalidAction(f"explain_mode must be auto, sync or deferred, got {explain_mode!r}")
    _check_declared(actions)  # refused here, not at the first call
    guard.pack(policy)  # a pack not loaded, or no name where several are: refused here too
    if explain is not None and not (hasattr(explain, "explain") or callable(explain)):
        raise InvalidAction(
            f"explain= must be an explainer (explain.captum(...), explain.shap(...)) or a "
            f"callable given the call's arguments, got {type(explain).__name__}"
        )
    if action_of is not None and not callable(action_of):
        raise InvalidAction(f"action_of= must be a callable, got {type(action_of).__name__}")

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        inputs = _input_of(func)

        def proposal(
            out: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
        ) -> tuple[Any, dict[str, Any], dict[str, Any]]:
            """The proposal, its context and the options `enforce_proposal` takes."""
            if isinstance(out, Iterator):  # alternatives yielded: read them once, here
                out = _drained(out, "alternatives")
            ctx = dict(_context(context, args, kwargs) or {})
            observed = inputs(args, kwargs)
            first = observed if hasattr(explain, "explain") else args
            tree = _tree(out, actions, action_of, observed)
            if tree is not None:
                out = tree.candidates
                ctx["rationale"] = tree.rationale.as_dict()
            explanations = [tree.rationale.model_dump(mode="json")] if tree else []
            deferred = None
            if explain is not None:
                # The target (the policy's own first choice) is found inside `run`, so a
                # deferred explanation costs the decision nothing but the hand-off.
                if _sync(guard, policy, explain_mode):
                    attribution = _attribute(explain, first, kwargs, out, actions)
                    explanations.append(attribution.model_dump(mode="json"))
                    ctx["attribution"] = attribution.as_dict()
                else:  # inputs are taken now: a caller may reuse its buffers meanwhile
                    deferred = _later(explain, first, kwargs, out, actions)
            options = {
                "actions": None if tree else actions,
                "ranked": tree is not None,  # the planner's choice first, as its rationale says
                "policy": policy,
                "explanations": explanations,
                "tree": tree,
                "deferred": deferred,
            }
            return out, ctx, options

        def enforce(out: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> GuardedAction:
            out, ctx, options = proposal(out, args, kwargs)
            return enforce_proposal(guard, out, ctx, **options)

        async def aenforce(
            out: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
        ) -> GuardedAction:
            out, ctx, options = proposal(out, args, kwargs)
            return await aenforce_proposal(guard, out, ctx, **options)

        return _wrap(func, enforce, aenforce)

    return decorate(fn) if fn is not None else decorate


def _input_of(
    func: Callable[..., Any],
) -> Callable[[tuple[Any, ...], dict[str, Any]], tuple[Any, ...]]:
    """The call's arguments after `self` or `cls` (a method's observation or search state
    comes first), with the first one found among the keywords when given by name."""
    if isinstance(func, classmethod | staticmethod):  # decorated above @classmethod
        func = func.__func__
    try:
        params = list(inspect.signature(func).parameters.values())
    except (TypeError, ValueError):
        params = []
    skip = 1 if params and params[0].name in ("self", "cls") else 0
    named = params[skip].name if len(params) > skip else None
    if named is not None and params[skip].kind not in (
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
        inspect.Parameter.KEYWORD_ONLY,
    ):
        named = None

    def inputs(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
        if len(args) <= skip and named in kwargs:
            return (kwargs[named],)  # act(obs=x)
        return args[skip:]

    return inputs


@dataclass
class _Tree:
    """A planner's search tree turned into guard alternatives, with its rationale."""

    source: Any
    state: Any
    rationale: Any
    order: list[Any]
    candidates: list[tuple[Mapping[str, Any], float]]


def _tree(
    out: Any,
    actions: Sequence[Mapping[str, Any]] | None,
    action_of: Callable[[Any], Mapping[str, Any]] | None,
    args: tuple[Any, ...],
) -> _Tree | None:
    if actions is not None or not _is_tree(out):
        return None
    from explain import rationale

    state = args[0] if args and hasattr(args[0], "legal_actions") else None
    r = rationale(out, state)
    stats = {s.action: s for s in r.actions}
    # r.actions is in the search's own ranking (solved outcome, visits, value), the order
    # its rationale substitutes in: most visits alone would play a proven loss first.
    order = [r.chosen, *(s.action for s in r.actions if s.action != r.chosen)]
    make = action_of or _planner_action
    candidates = [(_made(make, a), float(stats[a].visit_share)) for a in order]
    return _Tree(out, state, r, order, candidates)


def _is_tree(out: Any) -> bool:
    if isinstance(out, Mapping):
        return "children" in out and "kind" not in out
    if isinstance(out, BaseModel) and hasattr(out, "kind"):  # an action with a children field
        return False
    return hasattr(out, "children_visits") or (
        hasattr(out, "children") and not isinstance(out, Sequence | str)
    )


def _made(make: Callable[[Any], Any], action: Any) -> Any:
    """`action_of(action)`, refused unless it is an action (a dict or an action model)."""
    made = make(action)
    if not isinstance(made, Mapping | BaseModel):
        raise InvalidAction(
            f"action_of= returned {type(made).__name__} for the root action "
            f"{repr(action)[:80]}; it must return an action (a dict with a 'kind')"
        )
    return made


def _planner_action(action: Any) -> dict[str, Any]:
    return {"kind": "planner_action", "params": {"action": action}}


def _best_index(out: Any, actions: Sequence[Mapping[str, Any]] | None) -> int | None:
    """The index of the policy's own first choice, the target an attribution explains."""
    if isinstance(out, Mapping | BaseModel):
        return None
    return _candidates(out, actions)[0][2]


def _snapshot(value: Any) -> Any:
    """A copy of an array, tensor or JSON-like value; other objects as they are."""
    if hasattr(value, "detach") and hasattr(value, "clone"):  # a torch tensor
        return value.detach().clone()
    if (hasattr(value, "dtype") or hasattr(value, "dtypes")) and hasattr(value, "copy"):
        return value.copy()  # a numpy array or scalar, a pandas Series or DataFrame
    if isinstance(value, (list, dict, tuple)):
        try:
            return copy.deepcopy(value)
        except Exception:  # noqa: BLE001 - an uncopyable value is passed as it is
            return value
    return value


def _later(
    explainer: Any,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    out: Any,
    actions: Sequence[Mapping[str, Any]] | None,
) -> Callable[[], Any]:
    """The attribution to compute later, with what it reads copied or decided now."""
    if hasattr(explainer, "explain") and args:  # reads args[0] and the chosen index only
        target = _best_index(out, actions)
        first = _snapshot(args[0])

        def run() -> Any:
            from explain import safe_explain

            return safe_explain(explainer, first, target)

        return _unfailing(run)
    return _unfailing(
        functools.partial(
            _attribute,
            explainer,
            tuple(_snapshot(a) for a in args),
            {k: _snapshot(v) for k, v in kwargs.items()},
            _snapshot(out),
            actions,
        )
    )


def _unfailing(compute: Callable[[], Any]) -> Callable[[], Any]:
    """`compute`, with whatever it raises (SystemExit too, in the worker thread where it ends
    nothing) returned as an `ExplanationUnavailable` that the audit log records."""

    def run() -> Any:
        try:
            return compute()
        except BaseException as exc:  # noqa: B036 - the worker must record it, not die of it
            from explain import ExplanationUnavailable

            cause = type(exc).__name__
            return ExplanationUnavailable(
                reason=f"{cause}: {exc}" if str(exc) else cause,
                error_code="explanation_error",
                error_type=cause,
            )

    return run


def _attribute(
    explainer: Any,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    out: Any,
    actions: Sequence[Mapping[str, Any]] | None,
) -> Any:
    from explain import Attribution, ExplanationUnavailable, safe_explain

    if hasattr(explainer, "explain"):
        target = _best_index(out, actions)
        if not args:
            return ExplanationUnavailable(
                reason="the guarded function got no input to explain",
                error_code="no_input",
                error_type="ExplanationInputError",
            )
        return safe_explain(explainer, args[0], target)
    try:
        result = explainer(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - an explanation must never cost the decision
        return ExplanationUnavailable(
            reason=f"{type(exc).__name__}: {exc}",
            error_code="explanation_error",
            error_type=type(exc).__name__,
        )
    if not isinstance(result, Attribution | ExplanationUnavailable):
        return ExplanationUnavailable(
            reason=f"explain= returned {type(result).__name__}; expected an explain.Attribution",
            error_code="explanation_error",
            error_type="ExplanationTypeError",
        )
    return result


def _sync(guard: Guard, policy: str | None, mode: str) -> bool:
    if mode != "auto":
        return mode == "sync"
    return guard.audit is None or guard.pack(policy).uses_explanations


def ranker(
    guard: Guard,
    fn: Callable[..., Any] | None = None,
    *,
    policy: str | None = None,
    context: ContextArg = None,
    actor: TextArg = None,
    tenant: TextArg = None,
    query: TextArg = None,
) -> Any:
    """Wrap a ranking function so item rules and list caps filter what it returns (or yields).

    `actor`, `tenant` and `query` (a string, or a function of the ranker's arguments giving
    one) are the ranking's, as `Guard.rank` takes them: rules read `actor` and `tenant`."""
    guard.pack(policy)  # a pack not loaded, or no name where several are: refused here
    named = {"actor": actor, "tenant": tenant, "query": query}

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        def items(
            out: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
        ) -> tuple[list[Any], Any, dict[str, str | None]]:
            return _ranked_items(out), _context(context, args, kwargs), texts(named, args, kwargs)

        def enforce(out: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> GuardedRanking:
            out, ctx, who = items(out, args, kwargs)
            return _ranking(guard, guard.rank(out, ctx, policy=policy, **who), out)

        async def aenforce(
            out: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
        ) -> GuardedRanking:
            out, ctx, who = items(out, args, kwargs)
            return _ranking(guard, await guard.arank(out, ctx, policy=policy, **who), out)

        return _wrap(func, enforce, aenforce)

    return decorate(fn) if fn is not None else decorate


def _ranked_items(out: Any) -> list[Any]:
    """What a ranker returned (or yielded) as a list of items, numpy and torch numbers made
    Python numbers; anything but a list of items is refused with how to convert it."""
    if isinstance(out, Iterator):  # items yielded: read them once, here
        out = _drained(out, "items")
    if isinstance(out, Mapping):
        lists = [k for k, v in out.items() if isinstance(v, list) and isinstance(k, str)]
        inside = f" (its {lists[0][:40]!r} looks like it)" if len(lists) == 1 else ""
        raise InvalidAction(
            f"a ranker must return a list of items (dicts), got {type(out).__name__}; "
            f"return the list itself{inside}, as in return response['items'], or [item] "
            "for one item"
        )
    if isinstance(out, str | bytes) or not isinstance(out, Sequence):
        raise InvalidAction(
            f"a ranker must return a list of items (dicts), got {type(out).__name__}; "
            "convert a DataFrame with df.to_dict('records'), a numpy structured array "
            "with [dict(zip(a.dtype.names, row)) for row in a.tolist()]"
        )
    for i, item in enumerate(out):
        if hasattr(item, "to_dict") and hasattr(item, "index") and hasattr(item, "dtype"):
            raise InvalidAction(  # read as a list, it would lose its column names
                f"item {i} is a {type(item).__name__} (a DataFrame row?), not a dict; "
                "return df.to_dict('records'), or row.to_dict() for each row"
            )
    return [_native(item) for item in out]


def _drained(out: Iterator[Any], what: str) -> list[Any]:
    """What a generator yielded, refused past MAX_YIELDED (one that never stops)."""
    read = list(itertools.islice(out, MAX_YIELDED + 1))
    if len(read) > MAX_YIELDED:
        raise _too_many(what)
    return read


def _too_many(what: str) -> InvalidAction:
    return InvalidAction(
        f"the policy yielded more than {MAX_YIELDED:,} {what}; yield a bounded number "
        "(the best k, say)"
    )


def _ranking(guard: Guard, decision: Decision, out: list[Any]) -> GuardedRanking:
    kept = list(out) if guard.mode == "shadow" else decision.final_items or []
    result = GuardedRanking(kept)
    result.decision = decision
    return result


def enforce_proposal(
    guard: Guard,
    out: Any,
    context: Mapping[str, Any] | None,
    *,
    actions: Sequence[Mapping[str, Any]] | None = None,
    policy: str | None = None,
    explanations: Sequence[dict[str, Any]] = (),
    tree: _Tree | None = None,
    deferred: Callable[[], Any] | None = None,
    ranked: bool = False,
) -> GuardedAction:
    """Check a proposal (action, alternatives or scores) and return what may run.

    Alternatives are tried best score first, or in the order given when `ranked`.
    """
    choice = _choose(guard, out, context, actions, policy, explanations, tree, deferred, ranked)
    guard.record(choice.decision, choice.action, rates=choice.rates)
    return choice.finish()


async def aenforce_proposal(
    guard: Guard,
    out: Any,
    context: Mapping[str, Any] | None,
    *,
    actions: Sequence[Mapping[str, Any]] | None = None,
    policy: str | None = None,
    explanations: Sequence[dict[str, Any]] = (),
    tree: _Tree | None = None,
    deferred: Callable[[], Any] | None = None,
    ranked: bool = False,
) -> GuardedAction:
    """`enforce_proposal` for an event loop: awaits the audit commit instead of blocking it."""
    choice = _choose(guard, out, context, actions, policy, explanations, tree, deferred, ranked)
    await guard.arecord(choice.decision, choice.action, rates=choice.rates)
    return choice.finish()


@dataclass
class _Choice:
    """The decision to record for a proposal, and what to do once it is recorded."""

    guard: Guard
    decision: Decision
    action: Mapping[str, Any]
    rates: DecisionRates
    first: Mapping[str, Any]
    deferred: Callable[[], Any] | None

    def finish(self) -> GuardedAction:
        if self.deferred is not None:
            self.guard.defer_explanation(self.decision, self.deferred)
        return _apply(self.guard, self.decision, self.first)


def _choose(
    guard: Guard,
    out: Any,
    context: Mapping[str, Any] | None,
    actions: Sequence[Mapping[str, Any]] | None,
    policy: str | None,
    explanations: Sequence[dict[str, Any]],
    tree: _Tree | None,
    deferred: Callable[[], Any] | None,
    ranked: bool,
) -> _Choice:
    candidates = _candidates(out, actions, ranked=ranked)
    # Each alternative is decided with its own probability (or raw score) as the context's
    # `score`, which action rules read by that name; a single action keeps the context's.
    scored = not isinstance(out, Mapping | BaseModel)
    decisions: list[Decision] = []
    counts = []  # each alternative's rate() counts: only the chosen one's are recorded
    for action, score, _ in candidates:
        own = {**(context or {}), "score": score} if scored else context
        decision, rates = guard._trial(action, own, policy)
        decisions.append(decision)
        counts.append(rates)
        if decision.verdict is not Verdict.DENY:
            break
    last = len(decisions) - 1
    chosen = last if decisions[last].verdict is not Verdict.DENY else 0
    # In shadow mode the first choice runs unenforced: its decision (and its rate counts)
    # is what happened; the substitution says what enforcing would have done instead.
    ran = 0 if guard.mode == "shadow" else chosen
    decision = decisions[ran]
    if chosen > 0:
        decision.substitution = _substitution(decisions, candidates, chosen)
        if ran == chosen:
            _refuse_at_commit(counts[ran], decisions, candidates, chosen)
    elif decision.verdict is Verdict.DENY and len(candidates) > 1:
        decision.substitution = _substitution(decisions, candidates, -1)
    decision.explanations = list(explanations)
    if tree is not None and chosen > 0:
        decision.explanations[0] = _shielded(tree, decisions[:chosen], candidates)
    elif tree is not None and decisions[-1].verdict is Verdict.DENY:  # every root action
        decision.explanations[0] = _all_shielded(tree, decisions, candidates)
    return _Choice(guard, decision, candidates[ran][0], counts[ran], candidates[0][0], deferred)


def _refuse_at_commit(
    rates: DecisionRates, decisions: list[Decision], candidates: list[Candidate], chosen: int
) -> None:
    """When the substitute is denied as its rate counts are committed (others reached a
    limit since its dry run), its substitution says so before the decision is recorded:
    nothing runs, and the alternatives after it were not tried."""
    redo = rates.redo
    if redo is None:
        return

    def decided_again(committed: DecisionRates) -> Decision:
        again = redo(committed)
        if again.verdict is Verdict.DENY:
            decisions[chosen].substitution = _substitution(
                [*decisions[:chosen], again], candidates, chosen, at_commit=True
            )
        return again

    rates.redo = decided_again


def _shield(tree: _Tree, denied: list[Decision], candidates: list[Candidate]) -> dict[Any, str]:
    """The denied root actions, each with the rules that denied it."""
    return {
        tree.order[candidates[i][2]]: ", ".join(
            h.rule_id for h in d.hits if h.effect is Verdict.DENY
        )
        or "deny"
        for i, d in enumerate(denied)
    }


def _shielded(tree: _Tree, denied: list[Decision], candidates: list[Candidate]) -> dict[str, Any]:
    """Re-explain the tree with the denied root actions shielded by the rules that denied them."""
    from explain import rationale

    shield = _shield(tree, denied, candidates)
    return dict(rationale(tree.source, tree.state, shielded=shield).model_dump(mode="json"))


def _all_shielded(
    tree: _Tree, denied: list[Decision], candidates: list[Candidate]
) -> dict[str, Any]:
    """The planner's rationale with every root action marked removed by the rules that denied
    it: nothing ran (a rationale cannot choose among no allowed actions, so the search's own
    choice and figures stay, said to be what it would have played)."""
    shield = _shield(tree, denied, candidates)
    r = tree.rationale
    data = dict(r.model_dump(mode="json"))
    data["actions"] = [
        {**row, "shielded": True, "shield_rule": shield[stat.action]}
        for stat, row in zip(r.actions, data["actions"], strict=True)
    ]
    data["shielded"] = [
        {"action": row["action"], "label": row["label"], "rule": row["shield_rule"]}
        for row in data["actions"]
    ]
    removed = ", ".join(f"{row['label']} (rule {row['rule']})" for row in data["shielded"])
    data["text"] = (
        f"The shield removed every root action: {removed}; no action ran. "
        f"Unshielded, the search would have played {r.chosen_label}: {r.text}"
    )
    return data


def _apply(guard: Guard, decision: Decision, first: Mapping[str, Any]) -> GuardedAction:
    if guard.mode == "shadow":
        result = GuardedAction(_plain(first))
    elif decision.verdict is Verdict.DENY:
        raise ActionBlocked(decision)
    elif decision.verdict is Verdict.ESCALATE:
        raise ActionEscalated(decision)
    else:
        result = GuardedAction(decision.final_action or {})
    result.decision = decision
    return result


def _substitution(
    decisions: list[Decision], candidates: list[Candidate], chosen: int, *, at_commit: bool = False
) -> Substitution:
    """Indices are the alternatives' positions as the policy gave them (or as declared).
    `at_commit`: the last of `decisions` is the substitute's, denied when its rate counts
    were committed; nothing ran."""
    rejected = [
        {
            "index": candidates[i][2],
            "verdict": d.verdict.value,
            "rule_ids": [h.rule_id for h in d.hits if h.effect is Verdict.DENY],
            "score": candidates[i][1],  # a probability, or a raw score (a logit, say)
        }
        for i, d in enumerate(decisions)
        if d.verdict is Verdict.DENY
    ]
    rules = ", ".join(sorted({r for row in rejected for r in row["rule_ids"]})) or "default"
    first = candidates[0][2]
    if chosen < 0:
        reason = f"all {len(candidates)} alternatives were denied ({rules})"
        return Substitution(original_index=first, chosen_index=-1, reason=reason, rejected=rejected)
    index = candidates[chosen][2]
    if at_commit:
        rejected[-1]["at_commit"] = True
        late = ", ".join(rejected[-1]["rule_ids"]) or "default"
        early = ", ".join(sorted({r for row in rejected[:-1] for r in row["rule_ids"]}))
        reason = (
            f"first choice denied by {early or 'default'}; alternative #{index} "
            f"(score {candidates[chosen][1]:.4g}), the best one not denied in the dry "
            f"run, was refused at commit by {late} (rate counts reached meanwhile); "
            "no alternative ran"
        )
        return Substitution(original_index=first, chosen_index=-1, reason=reason, rejected=rejected)
    reason = (
        f"first choice denied by {rules}; substituted alternative #{index} "
        f"(score {candidates[chosen][1]:.4g}), the best one not denied"
    )
    return Substitution(original_index=first, chosen_index=index, reason=reason, rejected=rejected)


def _candidates(
    out: Any, actions: Sequence[Mapping[str, Any]] | None, *, ranked: bool = False
) -> list[Candidate]:
    """Normalise a proposal to [(action, score, position)] sorted best first (stable for
    ties), or kept in the order given when `ranked`; position is the alternative's index
    as the policy gave it."""
    if isinstance(out, Mapping | BaseModel):
        return [(_native(out), 1.0, 0)]
    if actions is not None:
        _declared(actions)
        scores = _vector(out)
        if len(scores) != len(actions):
            raise InvalidAction(
                f"policy returned {len(scores)} scores for {len(actions)} declared actions"
            )
        pairs = list(zip(actions, scores, strict=True))
    elif isinstance(out, Sequence) and not isinstance(out, str | bytes) and out:
        if len(out) == 2 and isinstance(out[0], Mapping | BaseModel) and _number_like(out[1]):
            raise InvalidAction(
                "the policy returned one (action, probability) pair, not a list of them: "
                "return [(action, probability)], or the action alone"
            )
        pairs = [_pair(p, i) for i, p in enumerate(out)]
    else:
        raise InvalidAction(
            "a guarded agent must return an action (dict), a non-empty list of "
            "(action, probability) pairs, or scores over declared actions; "
            f"got {type(out).__name__}"
        )
    given = [(action, score, i) for i, (action, score) in enumerate(pairs)]
    if actions is not None:  # a -inf score masks its action: it is never proposed
        given = [c for c in given if c[1] != -math.inf]
        if not given:
            raise InvalidAction(
                f"every one of the {len(pairs)} declared actions scored -inf (masked): "
                "the policy proposed no action"
            )
    return given if ranked else sorted(given, key=lambda p: -p[1])


def _declared(actions: Any) -> Sequence[Any]:
    """`actions=`, refused unless it is a non-empty list (or tuple): the scores are read
    by position, and a generator would be used up by the first call."""
    if actions is None:
        return ()
    if isinstance(actions, str | bytes | Mapping) or not isinstance(actions, Sequence):
        raise InvalidAction(
            f"actions= must be a list of the actions the scores are over, got "
            f"{type(actions).__name__}"
        )
    if not actions:
        raise InvalidAction("actions= is empty: declare the actions the scores are over")
    return actions


def _check_declared(actions: Any) -> None:
    """`_declared`, with each action checked as a decision would check it."""
    for i, declared in enumerate(_declared(actions)):
        try:
            check_action(declared)
        except InvalidAction as exc:
            raise InvalidAction(f"actions[{i}]: {exc}") from None


def _pair(pair: Any, i: int) -> tuple[Any, float]:
    if not (
        isinstance(pair, tuple | list)
        and len(pair) == 2
        and isinstance(pair[0], Mapping | BaseModel)
    ):
        hint = " (an action without its probability?)" if isinstance(pair, Mapping) else ""
        raise InvalidAction(
            f"alternative #{i} must be an (action, probability) pair, got {_kind(pair)}{hint}"
        )
    return _native(pair[0]), _score(pair[1], f"alternative #{i}")


def _number_like(value: Any) -> bool:
    """A probability as a policy gives it: a number, or a numpy or torch scalar."""
    if hasattr(value, "dtype") and hasattr(value, "item"):
        return True
    return isinstance(value, int | float) and not isinstance(value, bool)


def _kind(value: Any) -> str:
    """A wrong value by its type (and length): not its text, which may hold an action's PII."""
    if isinstance(value, tuple | list):
        inside = ", ".join(type(v).__name__ for v in value[:3]) + (
            ", ..." if len(value) > 3 else ""
        )
        return f"a {type(value).__name__} of {len(value)} ({inside})"
    return type(value).__name__


def _vector(out: Any) -> list[float]:
    if hasattr(out, "detach"):  # a torch tensor of any dtype (bfloat16 has no numpy twin)
        out = out.detach().cpu()
    shape, given = getattr(out, "shape", None), type(out).__name__
    if not hasattr(out, "tolist") and hasattr(out, "numpy"):  # a TensorFlow tensor
        out = out.numpy()
    if hasattr(out, "tolist"):
        out = out.tolist()
    if isinstance(out, Sequence) and not isinstance(out, str | bytes):  # `return a, b, c`
        out = list(out)
    if isinstance(out, list) and len(out) == 1 and isinstance(out[0], list | tuple):
        out = list(out[0])  # a batch of one row, as a policy net called on x[None] returns
    if not isinstance(out, list) or any(isinstance(v, list | tuple) for v in out):
        got = _kind(out) if shape is None else f"{given} of shape {tuple(shape)}"
        raise InvalidAction(f"expected a 1-D vector of scores (or a batch of one row), got {got}")
    return [_score(v, f"score #{i}", masked=True) for i, v in enumerate(out)]


def _score(value: Any, what: str, *, masked: bool = False) -> float:
    if hasattr(value, "dtype") and hasattr(value, "item"):  # a numpy or torch scalar
        count = value.numel() if hasattr(value, "numel") else getattr(value, "size", 1)
        if count != 1:  # an array holding several numbers, or none
            shape = tuple(getattr(value, "shape", ()))
            raise InvalidAction(f"{what} must be a number, got an array of shape {shape}")
        number = value.item()
        # numpy's longdouble stays itself through item(): a float is close enough to rank by
        value = float(number) if getattr(value.dtype, "kind", "") == "f" else number
    if isinstance(value, bool) or not isinstance(value, int | float):
        shown = _kind(value) if isinstance(value, Iterable) else repr(value)[:80]
        raise InvalidAction(f"{what} must be a number, got {shown}")
    if masked and value == -math.inf:
        return -math.inf
    try:
        score = float(value)
    except OverflowError:  # an int past 1.8e308
        raise InvalidAction(
            f"{what} is an integer of {int(value).bit_length()} bits, too large for a float"
        ) from None
    if not math.isfinite(score):
        allowed = "finite, or -inf to mask an action" if masked else "finite"
        raise InvalidAction(f"{what} is {score!r}; scores must be {allowed}")
    return score


def _native(value: Any) -> Any:
    """A copy of `value`'s dicts and lists, with numpy and torch numbers (a model's scores,
    an amount it computed) as Python numbers: in shadow mode the caller gets it back, and
    editing it must not edit the policy's own data (as in enforce mode). Anything else is
    left for the guard's own checks to judge."""
    try:
        return _converted(value)
    except RecursionError:  # nested past any limit: the guard refuses it as too deep
        return value


def _converted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _converted(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_converted(v) for v in value]
    if hasattr(value, "dtype") and hasattr(value, "tolist"):  # a numpy or torch value
        if hasattr(value, "detach"):
            value = value.detach().cpu()
        return value.tolist()
    return value


def _plain(action: Any) -> dict[str, Any]:
    """A copy of the action that runs in shadow mode: editing it must not edit the policy's
    own data (its declared actions, say), as in enforce mode."""
    if isinstance(action, BaseModel):
        return action.model_dump(mode="json")
    return copy.deepcopy(dict(action))


def texts(
    options: Mapping[str, TextArg], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> dict[str, str | None]:
    """Each of a ranker's `actor=`, `tenant=` or `query=`: a string, or what a function of
    the ranker's arguments gives (a string or None); anything else is refused by name."""
    out = {}
    for name, option in options.items():
        value = option(*args, **kwargs) if callable(option) else option
        if value is not None and not isinstance(value, str):
            raise InvalidAction(f"{name}= must give a string, got {type(value).__name__}")
        out[name] = value
    return out


def _context(context: ContextArg, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    value = context(*args, **kwargs) if callable(context) else context
    if value is not None and not isinstance(value, Mapping):
        raise InvalidAction(f"context= must give a mapping (dict), got {type(value).__name__}")
    return value


def _wrap(
    func: Callable[..., Any],
    enforce: Callable[..., Any],
    aenforce: Callable[..., Awaitable[Any]] | None = None,
) -> Callable[..., Any]:
    """`func` with its result enforced; an async `func` awaits `aenforce` when given (the
    audit commit then waits without blocking the event loop), else calls `enforce`.
    Above `@classmethod` or `@staticmethod`, the function inside is wrapped and rewrapped."""
    if isinstance(func, classmethod):
        return classmethod(_wrap(func.__func__, enforce, aenforce))
    if isinstance(func, staticmethod):
        return staticmethod(_wrap(func.__func__, enforce, aenforce))
    if not callable(func):  # @g.agent(ACTIONS): the options were given without their names
        raise InvalidAction(
            f"a guard decorator wraps the policy function, got {type(func).__name__}; give "
            "its options by name, as in @g.agent(actions=[...]) or @g.ranker(policy=...)"
        )

    async def finish(out: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if aenforce is None:
            return enforce(out, args, kwargs)
        return await aenforce(out, args, kwargs)

    # An object whose __call__ is async (a class-based policy) is an async function too,
    # also inside functools.partial (which inspect sees through for functions only).
    inner = func
    while isinstance(inner, functools.partial):
        inner = inner.func
    call = type(inner).__call__
    # Alternatives or items yielded asynchronously:
    if inspect.isasyncgenfunction(func) or inspect.isasyncgenfunction(call):

        @functools.wraps(func)
        async def collect_wrapper(*args: Any, **kwargs: Any) -> Any:
            collected: list[Any] = []
            async for out in func(*args, **kwargs):
                if len(collected) == MAX_YIELDED:
                    raise _too_many("alternatives or items")
                collected.append(out)
            return await finish(collected, args, kwargs)

        return collect_wrapper

    if inspect.iscoroutinefunction(func) or inspect.iscoroutinefunction(call):

        @functools.wraps(func)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            return await finish(await func(*args, **kwargs), args, kwargs)

        return async_wrapper

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        out = func(*args, **kwargs)
        if inspect.iscoroutine(out) or inspect.isasyncgen(out):
            if inspect.iscoroutine(out):
                out.close()  # never to be awaited: refused here, without a RuntimeWarning
            raise InvalidAction(
                f"{getattr(func, '__qualname__', type(func).__name__)} returned "
                f"{type(out).__name__} {getattr(out, '__qualname__', '')!r} but is not "
                "declared async: decorate the async function itself (async def) so the "
                "guarded call awaits it"
            )
        return enforce(out, args, kwargs)

    return wrapper
