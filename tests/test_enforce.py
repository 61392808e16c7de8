from __future__ import annotations

import asyncio
import inspect

import numpy as np
import pytest

from guard import ActionBlocked, ActionEscalated, Guard, InvalidAction, Verdict
from guard.policy import parse

PACK = """\
name: p
version: 1
rules:
  - id: no-delete
    match: {kind: delete}
    when: "true"
    effect: deny
  - id: big-pay
    match: {kind: pay}
    when: params.amount > 500
    effect: escalate
  - id: drop-suspended
    scope: item
    when: get(item.status, "ok") == "suspended"
    effect: deny
    message: "{item.id} is suspended"
  - id: hide-email
    scope: item
    when: has(item.email)
    effect: redact
    redact: [item.email]
  - id: cap-agency
    scope: list
    cap: {by: item.agency, max: 2}
"""

READ = {"kind": "read", "params": {}}
DELETE = {"kind": "delete", "params": {}}


@pytest.fixture
def g() -> Guard:
    return Guard([parse(PACK)])


def test_allowed_action_is_returned_with_its_decision(g: Guard) -> None:
    @g.agent
    def act(obs: str) -> dict:
        return READ

    out = act("x")
    assert out == READ and out is not READ
    assert out.decision.verdict is Verdict.ALLOW


def test_denied_action_raises_blocked_with_decision(g: Guard) -> None:
    @g.agent
    def act() -> dict:
        return DELETE

    with pytest.raises(ActionBlocked) as info:
        act()
    assert info.value.decision.verdict is Verdict.DENY
    assert "no-delete" in str(info.value)


def test_escalated_action_raises_with_decision_id(g: Guard) -> None:
    @g.agent
    def act() -> dict:
        return {"kind": "pay", "params": {"amount": 900}}

    with pytest.raises(ActionEscalated) as info:
        act()
    assert info.value.decision_id == info.value.decision.id


def test_denied_best_alternative_is_substituted(g: Guard) -> None:
    @g.agent
    def act() -> list:
        return [(READ, 0.2), (DELETE, 0.7), ({"kind": "write", "params": {}}, 0.1)]

    out = act()
    assert out["kind"] == "read"
    sub = out.decision.substitution
    # indices are positions as the policy returned them, not in preference order
    assert sub is not None and (sub.original_index, sub.chosen_index) == (1, 0)
    assert "no-delete" in sub.reason and sub.rejected[0]["rule_ids"] == ["no-delete"]
    assert sub.rejected[0]["index"] == 1


def test_numpy_scalar_probabilities_are_numbers(g: Guard) -> None:
    np = pytest.importorskip("numpy")

    @g.agent
    def act() -> list:
        return [(DELETE, np.float32(0.7)), (READ, np.int64(0))]

    out = act()
    assert out["kind"] == "read" and out.decision.substitution is not None
    assert out.decision.substitution.rejected[0]["score"] == pytest.approx(0.7)


def test_blocked_names_only_the_denying_rules(g: Guard) -> None:
    @g.agent
    def act() -> dict:
        return DELETE

    with pytest.raises(ActionBlocked) as info:
        act()
    denying = [h.rule_id for h in info.value.decision.hits if h.effect == "deny"]
    assert str(info.value).startswith(f"action blocked by {', '.join(denying)} (decision")


def test_no_allowed_alternative_raises_blocked(g: Guard) -> None:
    @g.agent
    def act() -> list:
        return [(DELETE, 0.6), (DELETE, 0.4)]

    with pytest.raises(ActionBlocked) as info:
        act()
    assert info.value.decision.substitution is not None
    assert info.value.decision.substitution.chosen_index == -1


@pytest.mark.parametrize(
    "scores",
    [
        pytest.param(np.array([0.9, 0.1]), id="numpy-probs"),
        pytest.param(np.array([3.0, -1.0], dtype=np.float32), id="numpy-logits"),
        pytest.param([0.9, 0.1], id="list"),
    ],
)
def test_score_vector_over_declared_actions(g: Guard, scores) -> None:
    @g.agent(actions=[DELETE, READ])
    def act() -> object:
        return scores

    assert act()["kind"] == "read"


def test_torch_vector_over_declared_actions(g: Guard) -> None:
    torch = pytest.importorskip("torch")

    @g.agent(actions=[DELETE, READ])
    def act() -> object:
        return torch.tensor([0.8, 0.2], requires_grad=True)

    assert act()["kind"] == "read"


@pytest.mark.parametrize(
    ("out", "needle"),
    [
        pytest.param(np.array([0.5]), "1 scores for 2", id="wrong-length"),
        pytest.param(np.array([float("nan"), 0.1]), "finite", id="nan"),
        pytest.param(np.zeros((2, 2)), "1-D", id="2d"),
    ],
)
def test_bad_score_vectors(g: Guard, out, needle) -> None:
    @g.agent(actions=[DELETE, READ])
    def act() -> object:
        return out

    with pytest.raises(InvalidAction, match=needle):
        act()


@pytest.mark.parametrize(
    "out",
    [
        pytest.param("read", id="str"),
        pytest.param([], id="empty"),
        pytest.param([("x", 1)], id="bad-pair"),
        pytest.param(None, id="none"),
    ],
)
def test_bad_proposals_raise_invalid_action(g: Guard, out) -> None:
    @g.agent
    def act() -> object:
        return out

    with pytest.raises(InvalidAction):
        act()


def test_async_agent_and_signature_preserved(g: Guard) -> None:
    async def act(obs: int, *, flag: bool = False) -> dict:
        """Doc."""
        return DELETE if flag else READ

    wrapped = g.agent(act)
    assert inspect.iscoroutinefunction(wrapped)
    assert inspect.signature(wrapped) == inspect.signature(act)
    assert wrapped.__doc__ == "Doc." and wrapped.__name__ == "act"
    assert asyncio.run(wrapped(1))["kind"] == "read"
    with pytest.raises(ActionBlocked):
        asyncio.run(wrapped(1, flag=True))


def test_context_callable_receives_the_call_arguments(g: Guard) -> None:
    seen = []

    @g.agent(context=lambda amount: seen.append(amount) or {"amount": amount})
    def act(amount: int) -> dict:
        return {"kind": "pay", "params": {"amount": amount}}

    assert act(10).decision.verdict is Verdict.ALLOW
    assert seen == [10]


def test_ranker_drops_redacts_and_caps_preserving_order(g: Guard) -> None:
    items = [
        {"id": "a", "agency": "x"},
        {"id": "b", "agency": "x", "status": "suspended"},
        {"id": "c", "agency": "x", "email": "c@example.com"},
        {"id": "d", "agency": "x"},
        {"id": "e", "agency": "y"},
    ]

    @g.ranker
    def rank(q: str) -> list:
        return items

    out = rank("q")
    assert [it["id"] for it in out] == ["a", "c", "e"]
    assert out[1]["email"] == "[REDACTED]" and items[2]["email"] == "c@example.com"
    outcomes = {o.id: o for o in out.decision.items}
    assert outcomes["b"].verdict is Verdict.DENY and outcomes["b"].reason == "b is suspended"
    assert outcomes["d"].rule_ids == ["cap-agency"]
    assert out.decision.verdict is Verdict.REDACT


def test_ranker_rejects_non_lists(g: Guard) -> None:
    @g.ranker
    def rank() -> object:
        return {"id": 1}

    with pytest.raises(InvalidAction, match="list of items"):
        rank()


def test_shadow_mode_records_but_never_blocks() -> None:
    g = Guard([parse(PACK)], mode="shadow")

    @g.agent
    def act() -> dict:
        return DELETE

    out = act()
    assert out["kind"] == "delete" and out.decision.verdict is Verdict.DENY
    assert out.decision.mode == "shadow"


def test_allowed_is_a_pre_shield(g: Guard) -> None:
    assert g.allowed([READ, DELETE, {"kind": "pay", "params": {"amount": 1}}]) == [
        READ,
        {"kind": "pay", "params": {"amount": 1}},
    ]


@pytest.mark.parametrize("context", [lambda *a: [1, 2], "text"])
def test_a_context_that_is_not_a_mapping_is_invalid(g: Guard, context: object) -> None:
    @g.agent(context=context)
    def act() -> dict:
        return READ

    with pytest.raises(InvalidAction, match="context= must give a mapping"):
        act()
