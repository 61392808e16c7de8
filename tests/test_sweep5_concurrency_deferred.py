"""Deferred explanations while checks stream in: each waits for a pause in decisions, at
most DEFER_MAX_WAIT after it was deferred, so a backlog does not pile up behind the load.
The clock is a fake one: these tests measure no real time."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from guard import Guard, _engine

PACK = "name: d\nversion: 1\ndefaults: {verdict: allow, on_error: deny}\nrules: []\n"
STEP = int(_engine.DEFER_IDLE_GAP * 1e9)
MAX_WAIT = int(_engine.DEFER_MAX_WAIT * 1e9)


class _Explained:
    def model_dump(self, mode: str) -> dict[str, Any]:
        return {"method": "fake"}


class _Clock:
    """A clock that stands still until `go`, then moves by each sleep; under `busy` a
    decision arrives during every sleep, as under sustained load."""

    def __init__(self, guard: Guard, busy: bool) -> None:
        self.now, self.guard, self.busy = 0, guard, busy
        self.go = threading.Event()

    def perf_counter_ns(self) -> int:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.go.wait()
        self.now += int(seconds * 1e9)
        if self.busy:
            self.guard._last_decision = self.now


@pytest.mark.parametrize(
    ("busy", "waited"),
    [
        pytest.param(True, MAX_WAIT, id="sustained-load-backlog-waits-once"),
        pytest.param(False, STEP, id="idle-runs-after-one-gap"),
    ],
)
def test_a_backlog_of_deferred_explanations_waits_at_most_once(
    write_pack: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch, busy: bool, waited: int
) -> None:
    g = Guard.from_policy(write_pack(PACK), audit="memory://")
    clock = _Clock(g, busy)
    fake = SimpleNamespace(
        perf_counter_ns=clock.perf_counter_ns, sleep=clock.sleep, time_ns=time.time_ns
    )
    monkeypatch.setattr(_engine, "time", fake)
    decisions = [g.check({"kind": "k"}) for _ in range(10)]  # the latest decision: now
    for d in decisions:
        g.defer_explanation(d, _Explained)
    clock.go.set()
    g.flush()
    assert clock.now <= waited  # 10 explanations deferred together wait out one due time
    assert g.audit is not None
    linked = [
        r.record["decision_id"]
        for r in g.audit.iter_records()
        if r.record["schema_version"] == "guard.explanation/v1"
    ]
    assert linked == [d.id for d in decisions]
    g.close()
