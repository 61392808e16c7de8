"""Guard.close() racing with checks, use after close, and a Guard used in a forked child."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from guard import AuditError, Guard, GuardError
from guard.audit import open_audit

PACK = """
name: close-race
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
"""
ACTION = {"kind": "send", "actor": "a", "params": {"n": 1}}


class _Explained:
    def model_dump(self, mode: str) -> dict[str, Any]:
        return {"method": "fake"}


@pytest.fixture
def pack(write_pack: Callable[[str], Path]) -> Path:
    return write_pack(PACK)


def _uses(g: Guard, decision: Any) -> dict[str, Callable[[], object]]:
    return {
        "check": lambda: g.check(ACTION),
        "check_batch": lambda: g.check_batch([ACTION, ACTION]),
        "acheck_batch": lambda: asyncio.run(g.acheck_batch([ACTION])),
        "rank": lambda: g.rank([{"id": 1, "status": "ok"}]),
        "evaluate": lambda: g.evaluate(ACTION),
        "allowed": lambda: g.allowed([ACTION]),
        "record": lambda: g.record(decision, ACTION),
        "defer_explanation": lambda: g.defer_explanation(decision, _Explained),
    }


USES = [
    "check",
    "check_batch",
    "acheck_batch",
    "rank",
    "evaluate",
    "allowed",
    "record",
    "defer_explanation",
]


@pytest.mark.parametrize("use", USES)
@pytest.mark.parametrize(
    "audited", [pytest.param(True, id="sqlite"), pytest.param(False, id="no-log")]
)
def test_a_closed_guard_refuses_every_use_with_a_clear_error(
    pack: Path, tmp_path: Path, use: str, audited: bool
) -> None:
    audit = f"sqlite:///{tmp_path / 'a.db'}" if audited else None
    g = Guard.from_policy(pack, audit=audit)
    decision = g.evaluate(ACTION)  # made, not recorded yet
    g.close()
    with pytest.raises(GuardError, match=r"this Guard is closed: .*make a new one"):
        _uses(g, decision)[use]()
    g.close()  # a second close is harmless


@pytest.mark.parametrize("use", USES)
def test_an_open_guard_serves_every_use(pack: Path, tmp_path: Path, use: str) -> None:
    with Guard.from_policy(pack, audit=f"sqlite:///{tmp_path / 'a.db'}") as g:
        _uses(g, g.evaluate(ACTION))[use]()
        g.flush()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_close_during_checks_loses_no_record_and_fails_only_with_guard_errors(
    pack: Path, tmp_path: Path, seed: int
) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    g = Guard.from_policy(pack, audit=url)
    returned: list[str] = []
    explained: list[str] = []
    errors: list[BaseException] = []
    started = threading.Barrier(9)

    def work(rng: random.Random) -> None:
        started.wait()
        while True:
            try:
                decision = g.check(ACTION)
                returned.append(decision.id)
                if rng.random() < 0.5:
                    g.defer_explanation(decision, _Explained)
                    explained.append(decision.id)
            except BaseException as exc:  # noqa: BLE001 - judged below
                errors.append(exc)
                return

    rng = random.Random(seed)
    threads = [threading.Thread(target=work, args=(random.Random(rng.random()),)) for _ in range(8)]
    for t in threads:
        t.start()
    started.wait()
    while len(returned) < rng.randrange(20, 400):
        pass
    g.close()
    for t in threads:
        t.join()
    assert len(errors) == 8
    assert all(isinstance(e, GuardError) for e in errors), errors
    assert all(isinstance(e, AuditError) or "this Guard is closed" in str(e) for e in errors), (
        errors
    )
    log = open_audit(url)
    records = [r.record for r in log.iter_records()]
    decisions = {r["id"] for r in records if r["schema_version"] == "guard.decision/v1"}
    links = [r["decision_id"] for r in records if r["schema_version"] == "guard.explanation/v1"]
    assert decisions == set(returned)
    assert sorted(links) == sorted(explained)
    assert log.verify().size == len(records)
    log.close()


def _in_child(body: Callable[[], str]) -> str:
    """Run `body` in a forked child (killed after 10 s: a hang is a failure) and return
    what it reports."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        signal.alarm(10)
        try:
            try:
                out = body()
            except BaseException as exc:  # noqa: BLE001 - reported to the parent
                out = f"{type(exc).__name__}: {exc}"
            os.write(write, out.encode())
        finally:
            os._exit(0)
    os.close(write)
    chunks = []
    while chunk := os.read(read, 4096):
        chunks.append(chunk)
    os.close(read)
    _, status = os.waitpid(pid, 0)
    assert not os.WIFSIGNALED(status), "the child hung and was killed"
    return b"".join(chunks).decode()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
@pytest.mark.parametrize(
    "used_before", [pytest.param(True, id="used"), pytest.param(False, id="fresh")]
)
def test_a_guard_with_a_log_refuses_a_forked_child_and_the_parent_goes_on(
    pack: Path, tmp_path: Path, used_before: bool
) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    g = Guard.from_policy(pack, audit=url)
    if used_before:  # the writer thread exists: a child's append would wait for it forever
        g.check(ACTION)

    def child() -> str:
        outcomes = []
        for name in ("check", "check_batch", "rank", "record"):
            try:
                _uses(g, None)[name]()
                outcomes.append(f"{name}: ran")
            except GuardError as exc:
                outcomes.append(f"{name}: {exc}")
        g.close()  # releases nothing of the parent's, and does not hang
        return "\n".join(outcomes)

    report = _in_child(child).splitlines()
    assert len(report) == 4
    for line in report:
        assert f"made in process {os.getpid()} and is used in process" in line
        assert "Make the Guard in each worker process" in line
    g.check(ACTION)
    size = g.audit.verify().size if g.audit is not None else -1
    assert size == (2 if used_before else 1)
    g.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_guard_without_a_log_still_decides_in_a_forked_child(pack: Path) -> None:
    g = Guard.from_policy(pack)
    g.check(ACTION)
    assert _in_child(lambda: g.check({**ACTION, "params": {"n": 99}}).verdict.value) == "deny"
