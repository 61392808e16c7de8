"""`guard audit verify` on a SQLite log whose indexes no longer match its rows.

A record left out of an index (a damaged file, or an index rewritten by hand) is missed by
every lookup through that index: `guard audit show` then omits the review linked to a
decision, or finds no record with an id that is stored. Verify re-hashes the rows, which
are intact, so it must also check that the indexes the lookups use still list every row.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from guard._exceptions import AuditError
from guard.audit import open_audit
from tests.audit._cli import guard_cli


def _log_with_a_review(path: Path) -> None:
    with open_audit(f"sqlite:///{path}") as log:
        log.append_many([{"id": f"d{i}", "actor": "u1"} for i in range(5)])
        log.append({"id": "r1", "schema_version": "guard.review/v1", "decision_id": "d3"})


def _leave_out_of_index(path: Path, index: str, condition: str) -> None:
    """Rebuild `index` without the rows that fail `condition`, then restore its declared SQL:
    the schema says it lists every row, its pages do not (what a damaged file looks like)."""
    conn = sqlite3.connect(path, isolation_level=None)
    (sql,) = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (index,)).fetchone()
    partial = f"{sql} AND {condition}" if " WHERE " in sql else f"{sql} WHERE {condition}"
    conn.execute("PRAGMA writable_schema = ON")
    conn.execute("UPDATE sqlite_master SET sql = ? WHERE name = ?", (partial, index))
    conn.close()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute(f"REINDEX {index}")
    conn.execute("PRAGMA writable_schema = ON")
    conn.execute("UPDATE sqlite_master SET sql = ? WHERE name = ?", (sql, index))
    conn.close()
    conn = sqlite3.connect(path)
    try:  # the ground truth: SQLite's own check sees the damage
        assert conn.execute("PRAGMA integrity_check").fetchall() != [("ok",)]
    finally:
        conn.close()


def test_a_review_left_out_of_the_ref_id_index_fails_verify(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    _log_with_a_review(db)
    _leave_out_of_index(db, "leaves_ref_id", "id != 'r1'")
    with open_audit(f"sqlite:///{db}", create=False) as log:
        # What a reviewer is shown: the review is gone from the decision's links.
        assert log.query(ref_id="d3").items == []
        with pytest.raises(AuditError, match="leaves_ref_id"):
            log.verify()
    r = guard_cli("audit", "verify", "--audit", f"sqlite:///{db}")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "Traceback" not in r.stderr
    errors = r.stderr.strip().splitlines()
    assert len(errors) == 1 and errors[0].startswith("error: "), r.stderr
    assert "leaves_ref_id" in errors[0] and "ok " not in r.stdout


def test_an_intact_log_still_verifies(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    _log_with_a_review(db)
    r = guard_cli("audit", "verify", "--audit", f"sqlite:///{db}")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("ok  6 records verified")


def _damage_schema_text(path: Path) -> None:
    """Turn one byte of the stored `CREATE TABLE subtrees` into one that is not UTF-8, as
    a damaged disk sector might: SQLite's error then quotes bytes that are not text."""
    data = bytearray(path.read_bytes())
    at = data.find(b"CREATE TABLE subtrees")
    assert at > 0  # the schema is in the file itself (closing the log checkpointed the WAL)
    data[at + 3] = 0xC9
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("command", ["verify", "head", "show"])
def test_a_schema_damaged_into_bytes_that_are_not_utf8_is_one_line(
    tmp_path: Path, command: str
) -> None:
    db = tmp_path / "a.db"
    _log_with_a_review(db)
    _damage_schema_text(db)
    args = ["d3"] if command == "show" else []
    r = guard_cli("audit", command, *args, "--audit", f"sqlite:///{db}")
    assert "Traceback" not in r.stderr, r.stderr
    assert r.returncode == 2, r.stderr
    errors = r.stderr.strip().splitlines()
    assert len(errors) == 1, r.stderr
    # SQLite's own message, with the byte that is not UTF-8 shown escaped.
    assert errors[0].startswith(f"error: could not open the audit log {str(db)!r}: ")
    assert "malformed database schema (subtrees)" in errors[0] and "\\xc9" in errors[0]


def test_a_writer_opening_a_schema_damaged_into_bytes_that_are_not_utf8_gets_audit_error(
    tmp_path: Path,
) -> None:
    db = tmp_path / "a.db"
    _log_with_a_review(db)
    _damage_schema_text(db)
    with pytest.raises(AuditError, match=r"malformed database schema \(subtrees\)"):
        open_audit(f"sqlite:///{db}")
