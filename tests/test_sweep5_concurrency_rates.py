"""rate() and total() under contention: a limit lets exactly its number of events through,
also when an action is decided in a dry run and committed later (the decorators' way)."""

from __future__ import annotations

import collections
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from guard import ActionBlocked, Guard, Verdict
from guard.policy import MemoryRateStore

PACK = """
name: limits
version: 1
defaults: {verdict: allow, on_error: deny}
rules:
  - id: three-sends
    match: {kind: send}
    when: rate("k", 3600) > 3
    effect: deny
  - id: three-hundred
    match: {kind: pay}
    when: total("k", params.amount, 3600) > 300
    effect: deny
"""
SEND = {"kind": "send", "actor": "a"}
PAY = {"kind": "pay", "actor": "a", "params": {"amount": 100}}


@pytest.fixture
def guard(write_pack: Callable[[str], Path]) -> Guard:
    return Guard.from_policy(write_pack(PACK), audit="memory://")


@pytest.mark.parametrize("action", [pytest.param(SEND, id="rate"), pytest.param(PAY, id="total")])
def test_dry_runs_committed_after_others_are_judged_by_the_committed_counts(
    guard: Guard, action: dict[str, Any]
) -> None:
    # four dry runs all see the limit not reached yet; committed one after the other,
    # the fourth is the fourth event and is denied, as check() would have denied it
    trials = [guard._trial(action, None, None) for _ in range(4)]
    assert [d.verdict for d, _ in trials] == [Verdict.ALLOW] * 4
    for decision, rates in trials:
        guard.record(decision, action, rates=rates)
    assert [d.verdict for d, _ in trials] == [Verdict.ALLOW] * 3 + [Verdict.DENY]
    fourth = trials[3][0]
    assert [h.rule_id for h in fourth.hits] == [
        "three-sends" if action is SEND else "three-hundred"
    ]
    assert fourth.final_action is None
    assert guard.audit is not None
    assert guard.audit.get(fourth.id).record["verdict"] == "deny"


@pytest.mark.parametrize("action", [pytest.param(SEND, id="rate"), pytest.param(PAY, id="total")])
def test_a_dry_run_committed_with_nothing_in_between_keeps_its_decision(
    guard: Guard, action: dict[str, Any]
) -> None:
    for _ in range(3):
        decision, rates = guard._trial(action, None, None)
        guard.record(decision, action, rates=rates)
        assert decision.verdict is Verdict.ALLOW
    decision, rates = guard._trial(action, None, None)
    assert decision.verdict is Verdict.DENY
    guard.record(decision, action, rates=rates)
    assert decision.verdict is Verdict.DENY


def test_counts_that_fell_since_the_dry_run_do_not_relax_its_decision(
    write_pack: Callable[[str], Path],
) -> None:
    now = [0.0]
    store = MemoryRateStore(clock=lambda: now[0])
    g = Guard.from_policy(write_pack(PACK), rate_store=store)
    for _ in range(3):
        g.check(SEND)
    decision, rates = g._trial(SEND, None, None)
    assert decision.verdict is Verdict.DENY
    now[0] = 7200.0  # the three earlier sends expire before the commit
    g.record(decision, SEND, rates=rates)
    assert decision.verdict is Verdict.DENY


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("action", [pytest.param(SEND, id="rate"), pytest.param(PAY, id="total")])
def test_threads_calling_a_guarded_agent_at_once_get_exactly_the_limit(
    guard: Guard, action: dict[str, Any], seed: int
) -> None:
    @guard.agent
    def act(i: int) -> dict[str, Any]:
        return action

    start = threading.Barrier(24)

    def call(i: int) -> str:
        start.wait()
        try:
            act(i)
        except ActionBlocked:
            return "blocked"
        return "ran"

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6 * (seed + 1))
    try:
        with ThreadPoolExecutor(24) as pool:
            outcomes = collections.Counter(pool.map(call, range(24)))
    finally:
        sys.setswitchinterval(old)
    assert outcomes == {"ran": 3, "blocked": 21}
    assert guard.audit is not None
    verdicts = collections.Counter(r.record["verdict"] for r in guard.audit.iter_records())
    assert verdicts == {"allow": 3, "deny": 21}


@pytest.mark.parametrize("action", [pytest.param(SEND, id="rate"), pytest.param(PAY, id="total")])
def test_threads_checking_at_once_get_exactly_the_limit(
    guard: Guard, action: dict[str, Any]
) -> None:
    with ThreadPoolExecutor(24) as pool:
        verdicts = collections.Counter(pool.map(lambda _: guard.check(action).verdict, range(240)))
    assert verdicts == {Verdict.ALLOW: 3, Verdict.DENY: 237}


@pytest.fixture(scope="module")
def pack_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("rates") / "limits.yaml"
    path.write_text(PACK, encoding="utf-8")
    return path


@settings(max_examples=80, deadline=None)
@given(
    schedule=st.integers(1, 8).flatmap(lambda n: st.permutations([i // 2 for i in range(2 * n)])),
    action=st.sampled_from([SEND, PAY]),
)
def test_any_schedule_of_dry_runs_and_commits_lets_exactly_the_limit_through(
    pack_file: Path, schedule: list[int], action: dict[str, Any]
) -> None:
    # each event appears twice: its dry run, then (any time later) its commit
    g = Guard.from_policy(pack_file)
    trials: dict[int, Any] = {}
    for event in schedule:
        if event not in trials:
            trials[event] = g._trial(action, None, None)
        else:
            decision, rates = trials[event]
            g.record(decision, action, rates=rates)
    allowed = sum(d.verdict is Verdict.ALLOW for d, _ in trials.values())
    assert allowed == min(len(trials), 3)
