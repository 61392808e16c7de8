"""The guard's errors cross process boundaries intact: a blocked action raised in a
process-pool worker reaches the parent as ActionBlocked, not as a broken pool."""

from __future__ import annotations

import pickle

import pytest

from guard import ActionBlocked, ActionEscalated, AuditTampered, Guard, Verdict


@pytest.fixture(scope="module")
def guard() -> Guard:
    return Guard.from_policy("marketplace-agent")


@pytest.mark.parametrize(
    ("error", "amount", "verdict"),
    [(ActionBlocked, 99_999, Verdict.DENY), (ActionEscalated, 700, Verdict.ESCALATE)],
)
def test_a_held_or_blocked_action_error_survives_pickling(
    guard: Guard, error: type[ActionBlocked | ActionEscalated], amount: int, verdict: Verdict
) -> None:
    decision = guard.check({"kind": "release_payment", "params": {"amount": amount}})
    assert decision.verdict is verdict
    for exc in (error(decision), error(decision, "a message of its own")):
        again = pickle.loads(pickle.dumps(exc))
        assert type(again) is error
        assert str(again) == str(exc)
        assert again.decision == decision and again.decision_id == decision.id


def test_audit_tampered_survives_pickling() -> None:
    again = pickle.loads(pickle.dumps(AuditTampered("record 3 does not match", index=3)))
    assert type(again) is AuditTampered
    assert str(again) == "record 3 does not match" and again.index == 3
