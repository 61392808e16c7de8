"""The SQLite audit store failing under a running Guard: `Guard.check` raises, never returns
an un-audited decision; the log verifies afterwards and holds every acknowledged decision."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from guard import AuditError, Guard
from guard.audit import open_audit

ROOT = Path(__file__).resolve().parents[2]
PACK = """\
name: t
version: 1
defaults: {verdict: allow, on_error: deny}
rules: []
"""


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "audit.db"


@pytest.fixture
def guard(tmp_path: Path, db: Path) -> Iterator[Guard]:
    pack = tmp_path / "t.yaml"
    pack.write_text(PACK, encoding="utf-8")
    g = Guard.from_policy(pack, audit=f"sqlite:///{db}")
    yield g
    g.close()


def pay(n: int) -> dict[str, Any]:
    return {"kind": "pay", "params": {"amount": n, "pad": "x" * 300}}


def refused(guard: Guard, says: str) -> None:
    with pytest.raises(AuditError) as info:
        guard.check(pay(-1))
    assert says in str(info.value)


def intact(db: Path, acknowledged: list[str]) -> None:
    """The log verifies and holds every acknowledged decision, audited, and nothing else."""
    with open_audit(f"sqlite:///{db}", create=False) as log:
        assert log.verify().size == len(acknowledged)
        assert [r.id for r in log.iter_records()] == acknowledged


def checked(guard: Guard, n: int) -> list[str]:
    decisions = [guard.check(pay(i)) for i in range(n)]
    assert all(d.audited for d in decisions)
    return [d.id for d in decisions]


@pytest.mark.parametrize("replace", [False, True], ids=["deleted", "replaced"])
def test_a_log_file_deleted_or_replaced_mid_run_refuses_every_later_check(
    guard: Guard, db: Path, replace: bool
) -> None:
    checked(guard, 2)
    db.unlink()
    if replace:
        sqlite3.connect(db).close()
    for _ in range(2):
        refused(guard, "replaced by another file" if replace else "was deleted after it was opened")


def test_a_failed_commit_is_rolled_back_and_the_next_check_is_recorded(
    guard: Guard, db: Path
) -> None:
    store: Any = guard.audit._store  # type: ignore[union-attr]
    acknowledged = checked(guard, 1)

    class FailingCommit:  # the driver's COMMIT fails once, as an I/O error would make it
        def __init__(self, conn: sqlite3.Connection) -> None:
            self.conn, self.failed = conn, False

        def execute(self, sql: str, *args: Any) -> Any:
            if sql == "COMMIT" and not self.failed:
                self.failed = True
                raise sqlite3.OperationalError("disk I/O error")
            return self.conn.execute(sql, *args)

        def __getattr__(self, name: str) -> Any:
            return getattr(self.conn, name)

    store._writer = FailingCommit(store._writer)
    refused(guard, "disk I/O error")
    acknowledged += checked(guard, 2)  # before: "cannot start a transaction within a transaction"
    intact(db, acknowledged)


def test_a_locked_log_raises_then_recovers(guard: Guard, db: Path) -> None:
    acknowledged = checked(guard, 1)
    guard.audit._store._writer.execute("PRAGMA busy_timeout=50")  # type: ignore[union-attr]
    other = sqlite3.connect(db, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holding a write transaction
    refused(guard, "database is locked")
    other.execute("ROLLBACK")
    other.close()
    acknowledged += checked(guard, 1)
    intact(db, acknowledged)


def test_a_full_disk_raises_and_recovers(guard: Guard, db: Path) -> None:
    writer = guard.audit._store._writer  # type: ignore[union-attr]
    acknowledged = checked(guard, 1)
    (pages,) = writer.execute("PRAGMA page_count").fetchone()
    writer.execute(f"PRAGMA max_page_count={pages + 2}")  # SQLITE_FULL, as a full disk gives
    with pytest.raises(AuditError, match="database or disk is full"):
        while True:
            acknowledged.append(guard.check(pay(len(acknowledged))).id)
    refused(guard, "database or disk is full")
    writer.execute("PRAGMA max_page_count=1073741823")
    acknowledged += checked(guard, 1)
    intact(db, acknowledged)


def test_a_failure_between_the_leaf_and_the_tree_state_writes_neither(
    guard: Guard, db: Path
) -> None:
    acknowledged = checked(guard, 1)
    other = sqlite3.connect(db, isolation_level=None)
    other.execute(
        "CREATE TRIGGER fail_state BEFORE INSERT ON tree_state BEGIN "
        "SELECT RAISE(ABORT, 'simulated failure after the leaf insert'); END"
    )
    refused(guard, "simulated failure after the leaf insert")
    other.execute("DROP TRIGGER fail_state")
    other.close()
    acknowledged += checked(guard, 1)
    intact(db, acknowledged)


# The process dies (kill -9 alike) inside the append, after its leaf row is written and
# before the tree state is: what it acknowledged before stays, the torn append does not.
CRASH = """
import os, sys
from guard import Guard
g = Guard.from_policy(sys.argv[1], audit="sqlite:///" + sys.argv[2])
for i in range(3):
    print(g.check({"kind": "pay", "params": {"amount": i}}).id, flush=True)
writer = g.audit._store._writer
writer.create_function("die", 0, lambda: os._exit(9))
writer.execute("CREATE TRIGGER die BEFORE INSERT ON tree_state BEGIN SELECT die(); END")
g.check({"kind": "pay", "params": {"amount": 99}})
print("survived", flush=True)
"""


def test_a_crash_between_the_leaf_and_the_tree_state_loses_nothing_acknowledged(
    tmp_path: Path, db: Path
) -> None:
    pack = tmp_path / "t.yaml"
    pack.write_text(PACK, encoding="utf-8")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    done = subprocess.run(
        [sys.executable, "-c", CRASH, str(pack), str(db)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 9, done.stderr
    acknowledged = done.stdout.split()
    assert len(acknowledged) == 3
    with sqlite3.connect(db) as conn:
        conn.execute("DROP TRIGGER die")  # it calls a function only the dead process had
    intact(db, acknowledged)
