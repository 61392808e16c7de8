"""A tree head is never signed for a log whose stored tree state disagrees with its leaves,
and readers never make a signing key of their own."""

from __future__ import annotations

import json
import sqlite3
import warnings
from pathlib import Path
from typing import Any

import pytest

from guard._exceptions import AuditError, AuditTampered
from guard.audit import open_audit, verify_head
from tests.audit._cli import guard_cli


def record(n: int) -> dict[str, Any]:
    return {"schema_version": "guard.decision/v1", "id": f"d{n}", "verdict": "deny", "n": n}


def build(path: Path, size: int = 10) -> str:
    url = f"sqlite:///{path}"
    with open_audit(url) as log:
        log.append_many([record(n) for n in range(size)])
    return url


def sql(path: Path, script: str) -> None:
    conn = sqlite3.connect(path)
    with conn:
        conn.executescript(script)
    conn.close()


# A table rebuilt without its constraints, so rows can share an index (as an attacker may).
UNCONSTRAINED = (
    "CREATE TABLE copy AS SELECT * FROM leaves; DROP TABLE leaves; "
    "CREATE TABLE leaves AS SELECT * FROM copy; DROP TABLE copy;"
)

TAMPERING = [
    pytest.param(
        "UPDATE tree_state SET frontier = x'00'",
        AuditError,
        "is inconsistent: its tree state says size 10 but holds a frontier of size 0",
        id="frontier-garbage",
    ),
    pytest.param(
        "DELETE FROM leaves WHERE idx = 9",
        AuditTampered,
        "records from index 9 on were removed (the store's tree state records 10)",
        id="last-row-deleted",
    ),
    pytest.param(
        "DELETE FROM leaves WHERE idx = 4",
        AuditTampered,
        "records 0 to 9 are held in 9 leaf rows, so a record was deleted",
        id="middle-row-deleted",
    ),
    pytest.param(
        "UPDATE leaves SET idx = 100 WHERE idx = 4; UPDATE leaves SET idx = 4 WHERE idx = 5;"
        " UPDATE leaves SET idx = 5 WHERE idx = 100;",
        AuditTampered,
        "the leaf hashes of records 0 to 7 do not hash to what the store's tree state records",
        id="rows-swapped",
    ),
    pytest.param(
        "UPDATE tree_state SET size = 0, frontier = x'0000000000000000'",
        AuditTampered,
        "the store's tree state counts 0 records but the log holds 10",
        id="state-set-back",
    ),
    pytest.param(
        UNCONSTRAINED + "INSERT INTO leaves SELECT * FROM leaves WHERE idx = 9",
        AuditTampered,
        "records 0 to 9 are held in 11 leaf rows, so a record was deleted or an index stored twice",
        id="index-duplicated",
    ),
]


@pytest.mark.parametrize(("script", "error", "message"), TAMPERING)
def test_head_refuses_a_log_whose_tree_state_disagrees_with_its_leaves(
    tmp_path: Path, script: str, error: type[AuditError], message: str
) -> None:
    url = build(tmp_path / "audit.db")
    sql(tmp_path / "audit.db", script)
    with open_audit(url, create=False) as log:
        with pytest.raises(error) as caught:
            log.head()
        assert message in str(caught.value)
        with pytest.raises(AuditError):
            log.head(sign=False)
        with pytest.raises(AuditError):  # and verify agrees that the log is bad
            log.verify()
    r = guard_cli("audit", "head", "--audit", url)
    assert r.returncode == 1 and r.stdout == "" and "Traceback" not in r.stderr
    assert message in r.stderr


def test_head_of_an_untouched_log_still_signs(tmp_path: Path) -> None:
    url = build(tmp_path / "audit.db")
    with open_audit(url) as log:
        head = log.head()
        assert head.size == 10 and verify_head(head, log.public_key_hex)
        log.append(record(10))  # a head after more appends, from the cached tree
        assert log.head().size == 11


def test_verify_finds_a_leaf_below_index_0_and_an_index_stored_twice(tmp_path: Path) -> None:
    db = tmp_path / "audit.db"
    url = build(db)
    sql(
        db,
        "INSERT INTO leaves (idx, id, record, leaf_hash, root_after, verdict)"
        " VALUES (-1, 'forged', x'7b7d', x'00', x'00', 'allow')",
    )
    with open_audit(url, create=False) as log, pytest.raises(AuditTampered) as caught:
        log.verify()
    assert "index -1 (record id 'forged'): a leaf index must be 0 or more" in str(caught.value)
    sql(
        db,
        "DELETE FROM leaves WHERE idx = -1;"
        + UNCONSTRAINED
        + "INSERT INTO leaves SELECT * FROM leaves WHERE idx = 3",
    )
    with open_audit(url, create=False) as log, pytest.raises(AuditTampered) as caught:
        log.verify()
    assert "index 3 (record id 'd3'): a second leaf has this index" in str(caught.value)


def test_the_sidecar_head_refuses_a_log_whose_tree_state_disagrees(tmp_path: Path) -> None:
    from service import ServiceState, Settings, create_app

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient

    db = tmp_path / "audit.db"
    build(db)
    sql(
        db,
        "UPDATE leaves SET idx = 100 WHERE idx = 4; UPDATE leaves SET idx = 4 WHERE idx = 5;"
        " UPDATE leaves SET idx = 5 WHERE idx = 100;",
    )
    settings = Settings(policy="marketplace-agent", audit=f"sqlite:///{db}")
    state = ServiceState.build(settings)
    try:
        with TestClient(create_app(state=state)) as client:
            r = client.get("/v1/audit/head")
    finally:
        state.close()
    assert r.status_code == 503
    error = r.json()["error"]
    assert error["code"] == "audit_tampered" and "tree state" in error["message"]


def test_head_of_a_copied_log_without_its_key_makes_no_key(tmp_path: Path) -> None:
    original = tmp_path / "a" / "audit.db"
    original.parent.mkdir()
    build(original)
    assert (tmp_path / "a" / "audit.db.key").exists()  # the writer made it when it opened
    copy = tmp_path / "b" / "audit.db"
    copy.parent.mkdir()
    copy.write_bytes(original.read_bytes())
    url = f"sqlite:///{copy}"

    r = guard_cli("audit", "head", "--audit", url)
    assert r.returncode == 1 and r.stdout == "" and "Traceback" not in r.stderr
    assert f"no signing key at {str(copy) + '.key'!r}" in r.stderr
    assert "--signing-key" in r.stderr and "--create-key" in r.stderr
    assert not list(copy.parent.glob("*.key"))  # SQLite's -wal/-shm of a reader may appear
    with open_audit(url, create=False) as log, pytest.raises(AuditError, match="no signing key"):
        log.head()
    assert not list(copy.parent.glob("*.key"))  # SQLite's -wal/-shm of a reader may appear

    given = guard_cli("audit", "head", "--audit", url, "--signing-key", f"{original}.key")
    assert given.returncode == 0, given.stderr
    with open_audit(f"sqlite:///{original}", create=False) as log:
        assert json.loads(given.stdout)["public_key"] == log.public_key_hex
    missing = guard_cli("audit", "head", "--audit", url, "--signing-key", str(tmp_path / "no.key"))
    assert missing.returncode == 1 and "--signing-key" in missing.stderr
    assert not (tmp_path / "no.key").exists()

    made = guard_cli("audit", "head", "--audit", url, "--create-key")
    assert made.returncode == 0, made.stderr
    assert (copy.parent / "audit.db.key").exists()
    again = guard_cli("audit", "head", "--audit", url)
    assert json.loads(again.stdout)["public_key"] == json.loads(made.stdout)["public_key"]


def test_head_of_a_postgres_log_needs_the_sidecars_key(postgres_url: str, tmp_path: Path) -> None:
    with open_audit(postgres_url) as log:
        log.append(record(0))
    r = guard_cli("audit", "head", "--audit", postgres_url)
    assert r.returncode == 1 and r.stdout == "" and "Traceback" not in r.stderr
    assert "keeps no signing key of its own: pass --signing-key FILE" in r.stderr
    with open_audit(postgres_url, create=False) as log, pytest.raises(AuditError):
        log.head()
    key = tmp_path / "shared.key"
    with open_audit(postgres_url, signing_key_path=str(key)) as writer:
        expected = writer.public_key_hex
    ok = guard_cli("audit", "head", "--audit", postgres_url, "--signing-key", str(key))
    assert ok.returncode == 0 and json.loads(ok.stdout)["public_key"] == expected
