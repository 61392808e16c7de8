"""One Guard shared by asyncio tasks: decisions stay right, every one is recorded once, and
the awaitable methods let other tasks run while their audit commit is under way."""

from __future__ import annotations

import asyncio
import random
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from guard import Guard, Verdict
from guard.audit import AuditLog
from guard.audit._store import MemoryStore

PACK = """
name: async-race
version: 1
defaults: {verdict: allow, on_error: deny}
rules:
  - id: big
    when: params.n > 90
    effect: deny
  - id: bad-item
    scope: item
    when: item.status == "bad"
    effect: deny
  - id: two-per-agency
    scope: list
    cap: {by: item.agency, max: 2}
    effect: deny
"""


class _GatedStore(MemoryStore):
    """A store whose commit waits until the event loop has run another task: a commit
    that blocks the loop waits for ever (here: 10 s, then fails)."""

    def __init__(self, gate: threading.Event) -> None:
        super().__init__()
        self.gate = gate

    def append(self, records: list[bytes]) -> list[int]:
        if not self.gate.wait(10):
            raise RuntimeError("the commit waited for an event loop that was blocked")
        return super().append(records)


@pytest.fixture
def pack(write_pack: Callable[[str], Path]) -> Path:
    return write_pack(PACK)


def _items(seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [
        {"id": i, "status": rng.choice(["ok", "ok", "bad"]), "agency": rng.choice("xyz")}
        for i in range(8)
    ]


def _expected(items: list[dict[str, Any]]) -> list[int]:
    kept, seen = [], {"x": 0, "y": 0, "z": 0}
    for item in items:
        if item["status"] == "bad":
            continue
        seen[item["agency"]] += 1
        if seen[item["agency"]] <= 2:
            kept.append(item["id"])
    return kept


def _gated(pack: Path) -> tuple[Guard, threading.Event]:
    gate = threading.Event()
    return Guard.from_policy(pack, audit=AuditLog(_GatedStore(gate))), gate


async def _with_other_task(gate: threading.Event, call: Any) -> Any:
    async def other() -> None:
        gate.set()  # runs only if `call` let the loop go on while it waited

    out, _ = await asyncio.gather(call, other())
    return out


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda g: g.arank(_items(1), actor="u"), id="arank"),
        pytest.param(
            lambda g: g.arecord(g.evaluate({"kind": "k", "params": {"n": 1}})), id="arecord"
        ),
        pytest.param(
            lambda g: g.acheck_batch([{"kind": "k", "params": {"n": 1}}]), id="acheck_batch"
        ),
    ],
)
def test_awaiting_a_commit_lets_other_tasks_run(pack: Path, call: Any) -> None:
    g, gate = _gated(pack)
    out = asyncio.run(_with_other_task(gate, call(g)))
    decision = out[0] if isinstance(out, list) else out
    assert decision.audited
    assert g.audit is not None and g.audit.get(decision.id).id == decision.id
    g.close()


def test_500_tasks_ranking_at_once_get_their_own_rankings_each_recorded_once(
    pack: Path, tmp_path: Path
) -> None:
    g = Guard.from_policy(pack, audit=f"sqlite:///{tmp_path / 'a.db'}")

    async def main() -> list[Any]:
        return await asyncio.gather(*(g.arank(_items(s), actor=f"u{s}") for s in range(500)))

    decisions = asyncio.run(main())
    for seed, d in enumerate(decisions):
        assert [i["id"] for i in d.final_items or []] == _expected(_items(seed))
        assert d.actor == f"u{seed}" and d.audited
    assert g.audit is not None
    stored = [r.id for r in g.audit.iter_records()]
    assert sorted(stored) == sorted(d.id for d in decisions)
    assert g.audit.verify().size == 500
    g.close()


def test_500_tasks_checking_batches_at_once_are_decided_and_recorded_once(
    pack: Path, tmp_path: Path
) -> None:
    g = Guard.from_policy(pack, audit=f"sqlite:///{tmp_path / 'a.db'}")
    rng = random.Random(7)
    batches = [
        [{"kind": "k", "actor": f"u{b}", "params": {"n": rng.randrange(100)}} for _ in range(5)]
        for b in range(500)
    ]

    async def main() -> list[Any]:
        return await asyncio.gather(*(g.acheck_batch(b) for b in batches))

    results = asyncio.run(main())
    ids = []
    for batch, out in zip(batches, results, strict=True):
        for action, d in zip(batch, out, strict=True):
            assert not isinstance(d, Exception)
            want = Verdict.DENY if action["params"]["n"] > 90 else Verdict.ALLOW
            assert (d.verdict, d.actor, d.audited) == (want, action["actor"], True)
            ids.append(d.id)
    assert g.audit is not None
    assert sorted(r.id for r in g.audit.iter_records()) == sorted(ids)
    assert len(set(ids)) == 2500 == g.audit.verify().size
    g.close()


def test_arecord_counts_the_rates_of_a_dry_run_once(write_pack: Callable[[str], Path]) -> None:
    pack = write_pack(
        "name: r\nversion: 1\ndefaults: {verdict: allow, on_error: deny}\nrules:\n"
        "  - id: twice\n    when: rate('k', 3600) > 2\n    effect: deny\n"
    )
    g = Guard.from_policy(pack, audit="memory://")

    async def main() -> list[Verdict]:
        verdicts = []
        for _ in range(4):
            decision, rates = g._trial({"kind": "k"}, None, None)
            await g.arecord(decision, {"kind": "k"}, rates=rates)
            verdicts.append(decision.verdict)
        return verdicts

    assert asyncio.run(main()) == [Verdict.ALLOW, Verdict.ALLOW, Verdict.DENY, Verdict.DENY]
    assert g.audit is not None and g.audit.size == 4
