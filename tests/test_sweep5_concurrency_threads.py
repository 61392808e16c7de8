"""One Guard shared by a thread pool, and several Guards (threads, processes) writing one
SQLite log: every decision is recorded once, ids are unique and the log verifies."""

from __future__ import annotations

import random
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from guard import Guard, Verdict
from guard.audit import open_audit

PACK = """
name: pool
version: {version}
defaults: {{verdict: allow, on_error: deny}}
rules:
  - id: big
    when: params.n > {limit}
    effect: deny
  - id: busy
    match: {{kind: send}}
    when: rate(str(actor), 3600) > 1000000
    effect: deny
  - id: bad-item
    scope: item
    when: item.status == "bad"
    effect: deny
"""


@pytest.fixture
def packs(write_pack: Callable[..., Path]) -> tuple[Path, Path]:
    live = write_pack(PACK.format(version=1, limit=90), "live.yaml")
    shadow = write_pack(PACK.format(version=2, limit=80), "shadow.yaml")
    return live, shadow


def _work(g: Guard, seed: int) -> list[tuple[str, Any]]:
    """A seeded mix of every way in; returns (id, expected verdict) of recorded decisions."""
    rng = random.Random(seed)
    made: list[tuple[str, Any]] = []
    for _ in range(30):
        n = rng.randrange(100)
        action = {"kind": "send", "actor": f"a{rng.randrange(5)}", "params": {"n": n}}
        want = Verdict.DENY if n > 90 else Verdict.ALLOW
        op = rng.choice(["check", "batch", "rank", "evaluate", "allowed"])
        if op == "check":
            d = g.check(action)
            assert d.verdict is want and d.audited
            if d.shadow is not None:  # the candidate denies from 81
                assert d.shadow.agrees is ((n > 80) == (n > 90))
            made.append((d.id, want))
        elif op == "batch":
            for d in g.check_batch([action, action]):
                assert d.verdict is want and d.audited
                made.append((d.id, want))
        elif op == "rank":
            items = [{"id": i, "status": rng.choice(["ok", "bad"])} for i in range(4)]
            d = g.rank(items)
            assert [i["id"] for i in d.final_items or []] == [
                i["id"] for i in items if i["status"] == "ok"
            ]
            made.append((d.id, d.verdict))
        elif op == "evaluate":
            assert g.evaluate(action).verdict is want
        else:
            assert len(g.allowed([action, action])) == (0 if n > 90 else 2)
    return made


def test_a_thread_pool_sharing_one_guard_records_each_decision_once(
    packs: tuple[Path, Path], tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    g = Guard.from_policy(packs[0], audit=url, shadow=packs[1])
    assert g.check({"kind": "k", "params": {"n": 85}}).shadow is not None
    with ThreadPoolExecutor(16) as pool:
        made = [m for out in pool.map(lambda s: _work(g, s), range(48)) for m in out]
    g.close()
    log = open_audit(url)
    stored = {r.id: r.record["verdict"] for r in log.iter_records()}
    made.append((next(iter(stored)), Verdict.ALLOW))  # the first check, above
    assert len(stored) == len(made) == len({i for i, _ in made})
    assert stored == {i: v.value for i, v in made}
    assert log.verify().size == len(made)
    log.close()


def test_guards_sharing_a_log_and_guards_on_one_file_write_one_tree(
    packs: tuple[Path, Path], tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    first = Guard.from_policy(packs[0], audit=url)
    second = Guard.from_policy(packs[0], audit=url)  # its own connections to the file
    reloaded = Guard(list(first.packs.values()), audit=first.audit)  # as a reload makes
    guards = [first, second, reloaded]
    with ThreadPoolExecutor(12) as pool:
        made = [m for out in pool.map(lambda s: _work(guards[s % 3], s), range(24)) for m in out]
    second.close()
    first.close()
    log = open_audit(url)
    assert sorted(r.id for r in log.iter_records()) == sorted(i for i, _ in made)
    assert log.verify().size == len(made)
    log.close()


_CHILD = """
import sys
from concurrent.futures import ThreadPoolExecutor
from guard import Guard
g = Guard.from_policy(sys.argv[1], audit=sys.argv[2])
action = {"kind": "other", "actor": sys.argv[3], "params": {"n": 1}}
def work(_):
    return sum(len(g.check_batch([action] * 3)) + (g.check(action) is not None) for _ in range(40))
with ThreadPoolExecutor(4) as pool:
    print(sum(pool.map(work, range(4))))
g.close()
"""


def test_processes_writing_one_sqlite_log_at_once_write_one_tree(
    packs: tuple[Path, Path], tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(packs[0]), url, f"p{i}"],
            stdout=subprocess.PIPE,
            text=True,
        )
        for i in range(3)
    ]
    counts = [int(p.communicate(timeout=120)[0]) for p in procs]
    assert all(p.returncode == 0 for p in procs)
    log = open_audit(url)
    actors = [r.record["actor"] for r in log.iter_records()]
    assert sorted(set(actors)) == ["p0", "p1", "p2"]
    assert [actors.count(f"p{i}") for i in range(3)] == counts == [640] * 3
    assert log.verify().size == 1920
    log.close()
