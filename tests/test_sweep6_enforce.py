"""Decorated async agents and rankers await the audit commit (other tasks run meanwhile), and
a substitute denied when its rate counts are committed is reported as refused, not as run."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from guard import ActionBlocked, Guard, Verdict
from guard.audit import AuditLog
from guard.audit._store import MemoryStore
from guard.policy import MemoryRateStore

PACK = """
name: sweep6
version: 1
defaults: {verdict: allow, on_error: deny}
rules:
  - id: no-wire
    match: {kind: wire}
    when: "true"
    effect: deny
  - id: one-send
    match: {kind: send}
    when: rate("k", 3600) > 1
    effect: deny
  - id: bad-item
    scope: item
    when: item.status == "bad"
    effect: deny
"""
WIRE = {"kind": "wire", "actor": "a"}
SEND = {"kind": "send", "actor": "a"}
ITEMS = [{"id": 1, "status": "ok"}, {"id": 2, "status": "bad"}]


class _GatedStore(MemoryStore):
    """A store whose commit waits until another asyncio task has run: a commit that blocks
    the event loop waits for ever (here 10 s, then fails, so a regression cannot hang)."""

    def __init__(self, gate: threading.Event) -> None:
        super().__init__()
        self.gate = gate

    def append(self, records: list[bytes]) -> list[int]:
        if not self.gate.wait(10):
            raise RuntimeError("the commit waited for an event loop that was blocked")
        return super().append(records)


async def _beside_another_task(gate: threading.Event, call: Any) -> Any:
    async def other() -> None:
        gate.set()  # runs only if `call` lets the loop go on while its commit waits

    out, _ = await asyncio.gather(call, other())
    return out


def _agent_coroutine(g: Guard) -> Any:
    @g.agent
    async def act() -> dict[str, Any]:
        return SEND

    return act()


def _agent_async_generator(g: Guard) -> Any:
    @g.agent
    async def act() -> AsyncIterator[tuple[dict[str, Any], float]]:
        yield WIRE, 0.9
        yield SEND, 0.1

    return act()


def _ranker_coroutine(g: Guard) -> Any:
    @g.ranker
    async def rank() -> list[dict[str, Any]]:
        return ITEMS

    return rank()


def _ranker_async_generator(g: Guard) -> Any:
    @g.ranker
    async def rank() -> AsyncIterator[dict[str, Any]]:
        for item in ITEMS:
            yield item

    return rank()


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(_agent_coroutine, id="agent-async-def"),
        pytest.param(_agent_async_generator, id="agent-async-generator"),
        pytest.param(_ranker_coroutine, id="ranker-async-def"),
        pytest.param(_ranker_async_generator, id="ranker-async-generator"),
    ],
)
def test_an_async_decorated_call_lets_other_tasks_run_while_its_commit_waits(
    write_pack: Callable[[str], Path], call: Callable[[Guard], Any]
) -> None:
    gate = threading.Event()
    g = Guard.from_policy(write_pack(PACK), audit=AuditLog(_GatedStore(gate)))
    out = asyncio.run(_beside_another_task(gate, call(g)))
    decision = out.decision
    want = "allow" if isinstance(out, dict) else "redact"  # the ranker drops item 2
    assert (decision.verdict.value, decision.audited) == (want, True)
    assert g.audit is not None and g.audit.get(decision.id).record["verdict"] == want
    if isinstance(out, dict):
        assert dict(out) == SEND
    else:
        assert [item["id"] for item in out] == [1]
    g.close()


@pytest.mark.parametrize(
    ("first", "verdict"),
    [
        pytest.param(SEND, Verdict.ALLOW, id="allowed"),
        pytest.param(WIRE, Verdict.DENY, id="denied"),
    ],
)
def test_an_async_agent_decides_and_records_as_the_sync_one(
    write_pack: Callable[[str], Path], first: dict[str, Any], verdict: Verdict
) -> None:
    g = Guard.from_policy(write_pack(PACK), audit="memory://")

    @g.agent
    async def act() -> dict[str, Any]:
        return first

    async def outcome() -> Any:
        try:
            return (await act()).decision
        except ActionBlocked as exc:
            return exc.decision

    decision = asyncio.run(outcome())
    assert (decision.verdict, decision.audited) == (verdict, True)
    assert g.audit is not None and g.audit.get(decision.id).record["verdict"] == verdict.value


class _Busy(MemoryRateStore):
    """A rate store where another caller's event is counted between a dry run and its commit
    (as a thread deciding at the same time would), once `busy` is set."""

    busy = False

    def __bool__(self) -> bool:  # an empty store is falsy (__len__), and Guard would then
        return True  # take a store of its own: `rate_store or MemoryRateStore()`

    def hit(self, key: str, window: float) -> int:
        if self.busy:
            self.busy = False
            super().hit(key, window)
        return super().hit(key, window)


def _proposals(g: Guard, asynchronous: bool) -> Callable[[], Any]:
    pairs = [(WIRE, 0.7), (SEND, 0.3)]
    if asynchronous:

        @g.agent
        async def act_async() -> list[tuple[dict[str, Any], float]]:
            return pairs

        return lambda: asyncio.run(act_async())

    @g.agent
    def act() -> list[tuple[dict[str, Any], float]]:
        return pairs

    return act


@pytest.mark.parametrize(
    "asynchronous", [pytest.param(False, id="sync"), pytest.param(True, id="async")]
)
def test_a_substitute_refused_at_commit_is_reported_as_refused(
    write_pack: Callable[[str], Path], asynchronous: bool
) -> None:
    store = _Busy()
    g = Guard.from_policy(write_pack(PACK), audit="memory://", rate_store=store)
    act = _proposals(g, asynchronous)
    store.busy = True  # the dry run sees no send yet; another is counted before the commit
    with pytest.raises(ActionBlocked) as caught:
        act()
    decision = caught.value.decision
    assert decision.verdict is Verdict.DENY
    assert [h.rule_id for h in decision.hits] == ["one-send"]
    sub = decision.substitution
    assert sub is not None
    assert (sub.original_index, sub.chosen_index) == (0, -1)
    assert "substituted" not in sub.reason
    assert "alternative #1" in sub.reason and "refused at commit by one-send" in sub.reason
    assert [(r["index"], r["rule_ids"], r.get("at_commit")) for r in sub.rejected] == [
        (0, ["no-wire"], None),
        (1, ["one-send"], True),
    ]
    assert g.audit is not None
    stored = g.audit.get(decision.id).record
    assert stored["verdict"] == "deny"
    assert stored["substitution"] == sub.model_dump(mode="json")  # the log says so too


@pytest.mark.parametrize(
    "asynchronous", [pytest.param(False, id="sync"), pytest.param(True, id="async")]
)
def test_a_substitute_still_allowed_at_commit_is_reported_as_substituted(
    write_pack: Callable[[str], Path], asynchronous: bool
) -> None:
    g = Guard.from_policy(write_pack(PACK), audit="memory://", rate_store=_Busy())
    ran = _proposals(g, asynchronous)()
    assert dict(ran) == SEND
    sub = ran.decision.substitution
    assert sub is not None and sub.chosen_index == 1
    assert "substituted alternative #1" in sub.reason
    assert [r["index"] for r in sub.rejected] == [0]
