"""`guard audit show` never prints a record whose bytes do not match its leaf hash."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from guard.audit import open_audit
from tests.audit._cli import guard_cli


@pytest.mark.parametrize("shown", ["dec1", "res1"])
def test_show_refuses_a_record_edited_in_place(tmp_path: Path, shown: str) -> None:
    db = tmp_path / "a.db"
    url = f"sqlite:///{db}"
    with open_audit(url) as log:
        log.append({"id": "dec1", "verdict": "escalate"})
        log.append({"id": "res1", "decision_id": "dec1", "outcome": "approve"})
    conn = sqlite3.connect(db)
    with conn:
        conn.execute(
            "UPDATE leaves SET record = CAST(replace(CAST(record AS TEXT), 'approve', 'reject')"
            " AS BLOB) WHERE idx = 1"
        )
    conn.close()
    r = guard_cli("audit", "show", shown, "--audit", url)
    assert r.returncode == 1 and r.stdout == "" and "Traceback" not in r.stderr
    assert "tampered at index 1 (record id 'res1'): its bytes do not match" in r.stderr


@pytest.mark.parametrize("record_id", ["dec", "dec10", "nope", ""])
def test_show_of_an_id_that_is_not_stored(tmp_path: Path, record_id: str) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    with open_audit(url) as log:
        log.append({"id": "dec1", "verdict": "escalate"})
    r = guard_cli("audit", "show", record_id, "--audit", url)
    assert r.returncode == 1 and r.stdout == "" and "Traceback" not in r.stderr
    assert f"no audit record with id {record_id!r}" in r.stderr
