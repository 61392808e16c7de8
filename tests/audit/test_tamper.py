from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from guard._exceptions import AuditTampered
from guard.audit import CompactRange, canonical_json, leaf_hash, open_audit


def record(n: int, verdict: str = "deny") -> dict[str, Any]:
    return {"schema_version": "guard.decision/v1", "id": f"d{n}", "verdict": verdict, "n": n}


FORGED = canonical_json(record(4, verdict="allow"))


def build(tmp_path: Path, size: int = 10) -> str:
    url = f"sqlite:///{tmp_path}/audit.db"
    with open_audit(url) as log:
        log.append_many([record(n) for n in range(size)])
    return url


def edit(tmp_path: Path, *statements: tuple[str, tuple[Any, ...]]) -> None:
    conn = sqlite3.connect(tmp_path / "audit.db")
    with conn:
        for sql, params in statements:
            conn.execute(sql, params)
    conn.close()


def rewrite_from(tmp_path: Path, start: int) -> None:
    """Rewrite record `start` and recompute every later hash: what a careful attacker does."""
    conn = sqlite3.connect(tmp_path / "audit.db")
    frontier = CompactRange()
    with conn:
        rows = conn.execute("SELECT idx, record FROM leaves ORDER BY idx").fetchall()
        for index, data in rows:
            data = FORGED if index == start else bytes(data)
            frontier.append(leaf_hash(data))
            conn.execute(
                "UPDATE leaves SET record = ?, leaf_hash = ?, root_after = ? WHERE idx = ?",
                (data, leaf_hash(data), frontier.root(), index),
            )
    conn.close()


# Direct edits of the leaves table (SQLite placeholders): the first index that verify() must
# name, and why. tests/audit/test_postgres.py replays them against PostgreSQL.
EDITS = [
    pytest.param(
        [("UPDATE leaves SET record = ? WHERE idx = 4", (FORGED,))],
        4,
        "its bytes do not match its stored leaf hash",
        id="record-bytes",
    ),
    pytest.param(
        [("UPDATE leaves SET leaf_hash = ? WHERE idx = 4", (b"\x01" * 32,))],
        4,
        "its bytes do not match its stored leaf hash",
        id="leaf-hash",
    ),
    pytest.param(
        [
            (
                "UPDATE leaves SET record = ?, leaf_hash = ? WHERE idx = 4",
                (FORGED, leaf_hash(FORGED)),
            )
        ],
        4,
        "the stored root after it differs from the re-derived tree",
        id="record-and-leaf-hash",
    ),
    pytest.param(
        [("UPDATE leaves SET root_after = ? WHERE idx = 6", (b"\x02" * 32,))],
        6,
        "the stored root after it differs",
        id="root-after",
    ),
    pytest.param(
        [("DELETE FROM leaves WHERE idx = 3", ())],
        3,
        "it is missing (the next stored index is 4)",
        id="deleted-row",
    ),
    pytest.param(
        [("UPDATE leaves SET id = 'other' WHERE idx = 2", ())],
        2,
        "its id column does not match the id inside the record",
        id="id-column",
    ),
    pytest.param(
        [
            ("UPDATE leaves SET record = ? WHERE idx = 7", (b"{}",)),
            ("UPDATE leaves SET leaf_hash = ? WHERE idx = 5", (b"\x03" * 32,)),
        ],
        5,
        "its bytes do not match",
        id="first-of-two-edits",
    ),
]


@pytest.mark.parametrize(("statements", "index", "reason"), EDITS)
def test_tampering_names_the_first_bad_index(
    tmp_path: Path, statements: list[tuple[str, tuple[Any, ...]]], index: int, reason: str
) -> None:
    url = build(tmp_path)
    edit(tmp_path, *statements)
    with open_audit(url) as log, pytest.raises(AuditTampered) as caught:
        log.verify()
    assert caught.value.index == index
    assert f"tampered at index {index}" in str(caught.value)
    assert reason in str(caught.value)


def test_untouched_log_verifies(tmp_path: Path) -> None:
    url = build(tmp_path)
    with open_audit(url) as log:
        report = log.verify()
        assert (report.size, report.root) == (10, log.head().root)


def test_a_consistent_rewrite_is_caught_by_an_earlier_head(tmp_path: Path) -> None:
    url = build(tmp_path)
    with open_audit(url) as watcher:
        old_head = watcher.head()  # someone kept this signed head
        rewrite_from(tmp_path, 4)
        with pytest.raises(AuditTampered, match="differs from the one this log saw before") as e:
            watcher.verify()
        assert e.value.index == 4
    with open_audit(url) as fresh:
        fresh.verify()  # self-consistent again: only a remembered head can tell
        assert fresh.head().root != old_head.root
        assert fresh.consistency(old_head.size, 10).first_root != old_head.root


def test_a_truncated_tail_is_caught_by_a_log_that_saw_it(tmp_path: Path) -> None:
    url = build(tmp_path)
    with open_audit(url) as watcher:
        watcher.head()
        edit(tmp_path, ("DELETE FROM leaves WHERE idx >= 8", ()))
        with pytest.raises(AuditTampered, match="records from index 8 on were removed") as e:
            watcher.verify()
        assert e.value.index == 8
