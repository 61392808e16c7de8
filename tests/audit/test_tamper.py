from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import orjson
import pytest

from guard._exceptions import AuditError, AuditTampered
from guard.audit import AuditLog, CompactRange, MemoryStore, canonical_json, leaf_hash, open_audit
from guard.audit._store import index_columns


def record(n: int, verdict: str = "deny") -> dict[str, Any]:
    return {"schema_version": "guard.decision/v1", "id": f"d{n}", "verdict": verdict, "n": n}


def forged(n: int) -> bytes:
    return canonical_json(record(n, verdict="allow"))


FORGED = forged(4)


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


def rewrite_from(tmp_path: Path, start: int, *, tree_state: bool = True) -> None:
    """Rewrite record `start`, its index columns and every later hash, and (unless told not
    to) the tree state: what a careful attacker with write access does."""
    conn = sqlite3.connect(tmp_path / "audit.db")
    with conn:
        rows = conn.execute("SELECT idx, record FROM leaves ORDER BY idx").fetchall()
        for sql, params in rewrites(rows, start, tree_state=tree_state):
            conn.execute(sql, params)
    conn.close()


def rewrites(
    rows: list[tuple[int, bytes]], start: int, *, tree_state: bool
) -> list[tuple[str, tuple[Any, ...]]]:
    """Statements (`?` placeholders) that replace record `start` with a forgery, consistently."""
    frontier = CompactRange()
    statements: list[tuple[str, tuple[Any, ...]]] = []
    for index, data in sorted(rows):
        data = forged(start) if index == start else bytes(data)
        frontier.append(leaf_hash(data))
        statements.append(
            (
                "UPDATE leaves SET record = ?, leaf_hash = ?, root_after = ? WHERE idx = ?",
                (data, leaf_hash(data), frontier.root(), index),
            )
        )
    verdict = index_columns(orjson.loads(forged(start))).verdict
    statements.append(("UPDATE leaves SET verdict = ? WHERE idx = ?", (verdict, start)))
    if tree_state:
        statements.append(state_update(frontier))
    return statements


def truncation(rows: list[tuple[int, bytes]], size: int) -> list[tuple[str, tuple[Any, ...]]]:
    """Delete the leaves from `size` on and write the tree state of what is left."""
    frontier = CompactRange()
    for _, data in sorted(rows)[:size]:
        frontier.append(leaf_hash(bytes(data)))
    return [("DELETE FROM leaves WHERE idx >= ?", (size,)), state_update(frontier)]


def state_update(frontier: CompactRange) -> tuple[str, tuple[Any, ...]]:
    return (
        "UPDATE tree_state SET size = ?, frontier = ? WHERE id = 0",
        (frontier.size, frontier.to_bytes()),
    )


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
        [("UPDATE leaves SET verdict = 'allow', actor = 'evil' WHERE idx = 7", ())],
        7,
        "its actor column holds 'evil' but the record gives None",
        id="verdict-and-actor-columns",
    ),
    pytest.param(
        [("UPDATE leaves SET verdict = 'allow' WHERE idx = 3", ())],
        3,
        "its verdict column holds 'allow' but the record gives 'deny'",
        id="verdict-column",
    ),
    pytest.param(
        [("UPDATE leaves SET rule_ids = ' r1 ' WHERE idx = 5", ())],
        5,
        "its rule_ids column holds ' r1 ' but the record gives None",
        id="rule-ids-column",
    ),
    pytest.param(
        [("UPDATE leaves SET shadow_disagrees = 1 WHERE idx = 2", ())],
        2,
        "its shadow_disagrees column holds 1 but the record gives None",
        id="shadow-column",
    ),
    pytest.param(
        [("UPDATE leaves SET record_type = NULL WHERE idx = 0", ())],
        0,
        "its record_type column holds None but the record gives 'guard.decision/v1'",
        id="record-type-column",
    ),
    pytest.param(
        [("UPDATE leaves SET time = '2030-01-01' WHERE idx = 9", ())],
        9,
        "its time column holds '2030-01-01' but the record gives None",
        id="time-column",
    ),
    pytest.param(
        [("DELETE FROM leaves WHERE idx >= 8", ())],
        8,
        "records from index 8 on were removed (the store's tree state records 10)",
        id="deleted-tail",
    ),
    pytest.param(
        [("DELETE FROM leaves WHERE idx = 9", ())],
        9,
        "records from index 9 on were removed (the store's tree state records 10)",
        id="deleted-last-row",
    ),
    pytest.param(
        [("DELETE FROM leaves", ())],
        0,
        "records from index 0 on were removed (the store's tree state records 10)",
        id="deleted-everything",
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
        # The log keeps its last head's frontier (O(log n) hashes), not every leaf hash:
        # it names the first subtree that differs, here records 0 to 7 of a tree of 10.
        with pytest.raises(AuditTampered, match="records 0 to 7 do not hash to what a head") as e:
            watcher.verify()
        assert e.value.index == 0
    with open_audit(url) as fresh:
        fresh.verify()  # self-consistent again: only a remembered head can tell
        assert fresh.head().root != old_head.root
        assert fresh.consistency(old_head.size, 10).first_root != old_head.root
        with pytest.raises(AuditTampered, match="do not hash to what the tree head given") as e:
            fresh.verify(against=old_head)
        assert e.value.index == 0


@pytest.mark.parametrize(
    ("start", "index", "span"),
    [
        pytest.param(4, 0, "records 0 to 7", id="in-the-first-subtree"),
        pytest.param(9, 8, "records 8 to 9", id="in-the-last-subtree"),
    ],
)
def test_a_rewrite_that_leaves_the_tree_state_is_caught(
    tmp_path: Path, start: int, index: int, span: str
) -> None:
    url = build(tmp_path)
    rewrite_from(tmp_path, start, tree_state=False)
    with open_audit(url) as fresh, pytest.raises(AuditTampered) as e:
        fresh.verify()
    assert e.value.index == index
    assert f"{span} do not hash to what the store's tree state records for size 10" in str(e.value)


def test_a_truncated_tail_is_caught_by_a_log_that_saw_it(tmp_path: Path) -> None:
    url = build(tmp_path)
    with open_audit(url) as watcher:
        watcher.head()
        edit(tmp_path, ("DELETE FROM leaves WHERE idx >= 8", ()))
        with pytest.raises(AuditTampered, match="records from index 8 on were removed") as e:
            watcher.verify()
        assert e.value.index == 8


def test_a_truncated_tail_is_caught_by_the_tree_state_in_a_new_process(tmp_path: Path) -> None:
    url = build(tmp_path, size=78)  # the tester's case: 78 records, 40 left
    edit(tmp_path, ("DELETE FROM leaves WHERE idx >= 40", ()))
    with open_audit(url) as fresh, pytest.raises(AuditTampered) as e:
        fresh.verify()
    assert e.value.index == 40
    assert "records from index 40 on were removed (the store's tree state records 78)" in str(
        e.value
    )


def test_a_tree_state_whose_size_disagrees_with_its_frontier_is_an_error(tmp_path: Path) -> None:
    url = build(tmp_path)
    edit(
        tmp_path,
        ("DELETE FROM leaves WHERE idx >= 8", ()),
        ("UPDATE tree_state SET size = 8 WHERE id = 0", ()),
    )
    with open_audit(url) as fresh, pytest.raises(AuditError, match="inconsistent: its tree state"):
        fresh.verify()


def test_a_tail_deleted_with_its_tree_state_is_caught_only_by_a_published_head(
    tmp_path: Path,
) -> None:
    url = build(tmp_path)
    with open_audit(url) as log:
        published = log.head()
    conn = sqlite3.connect(tmp_path / "audit.db")
    with conn:
        for sql, params in truncation(conn.execute("SELECT idx, record FROM leaves").fetchall(), 8):
            conn.execute(sql, params)
    conn.close()
    with open_audit(url) as fresh:
        assert fresh.verify().size == 8  # nothing in the store itself tells
        with pytest.raises(AuditTampered, match="the tree head given records 10") as e:
            fresh.verify(against=published)
        assert e.value.index == 8


def test_verify_against_earlier_heads_of_the_same_log(tmp_path: Path) -> None:
    url = build(tmp_path, size=0)
    with open_audit(url) as log:
        heads = [log.head()]
        for n in range(7):
            log.append(record(n))
            heads.append(log.head(sign=False))
        for head in heads:
            assert log.verify(against=head).size == 7
        other = heads[3].model_copy(update={"root": heads[4].root})
        with pytest.raises(AuditTampered, match="records 0 to 2 do not hash") as e:
            log.verify(against=other)
        assert e.value.index == 0
        with pytest.raises(AuditError, match="root 'zz' is not hex"):
            log.verify(against=heads[0].model_copy(update={"root": "zz"}))


def test_the_memory_store_checks_its_columns_and_frontier() -> None:
    store = MemoryStore()
    with AuditLog(store) as log:
        log.append_many([record(n) for n in range(10)])
        assert log.verify().size == 10
        store._columns[6] = store._columns[6]._replace(verdict="allow")
        with pytest.raises(AuditTampered, match="its verdict column holds 'allow'") as e:
            log.verify()
        assert e.value.index == 6
    store = MemoryStore()
    store.append([canonical_json(record(n)) for n in range(10)])
    del store._leaves[8:], store._columns[8:]
    with AuditLog(store) as fresh, pytest.raises(AuditTampered) as e:
        fresh.verify()
    assert e.value.index == 8


def test_a_missing_file_is_an_error_for_readers_and_a_new_log_for_writers(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "typo.db"
    with pytest.raises(AuditError, match=r"no audit log at '.*typo\.db': the file does not exist"):
        open_audit(f"sqlite:///{path}", create=False)
    assert not path.exists() and not path.parent.exists()
    with open_audit(f"sqlite:///{path}") as log:  # writers still create it
        log.append(record(0))
    with open_audit(f"sqlite:///{path}", create=False) as log:
        assert log.verify().size == 1


def test_a_file_that_is_not_an_audit_log_is_refused_by_readers(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE t (x)")
    conn.close()
    with pytest.raises(AuditError, match="is not an audit log: it has no leaves or tree_state"):
        open_audit(f"sqlite:///{other}", create=False)
    names = sqlite3.connect(other).execute("SELECT name FROM sqlite_master").fetchall()
    assert names == [("t",)]  # left as it was


def test_a_record_that_is_not_a_json_object_with_consistent_hashes(tmp_path: Path) -> None:
    url = build(tmp_path, size=3)
    conn = sqlite3.connect(tmp_path / "audit.db")
    rows = conn.execute("SELECT idx, record FROM leaves ORDER BY idx").fetchall()
    conn.close()
    frontier, statements = CompactRange(), []
    for index, data in rows:
        data = b"[1]" if index == 1 else bytes(data)
        frontier.append(leaf_hash(data))
        statements.append(
            (
                "UPDATE leaves SET record = ?, leaf_hash = ?, root_after = ? WHERE idx = ?",
                (data, leaf_hash(data), frontier.root(), index),
            )
        )
    edit(tmp_path, *statements, state_update(frontier))
    with open_audit(url) as fresh, pytest.raises(AuditTampered, match="not a JSON object") as e:
        fresh.verify()
    assert e.value.index == 1


# -- columns edited to the wrong type (SQLite keeps any type in any column) ----------------------

# sqlite's replace() and hex() return TEXT: the tester's edit was the first of these.
WRONG_TYPES = [
    pytest.param(
        "UPDATE leaves SET record = replace(record, 'deny', 'allow') WHERE idx = 4",
        "its record column holds text, not bytes",
        id="record-text",
    ),
    pytest.param(
        "UPDATE leaves SET record = CAST(x'ff7b' AS TEXT) WHERE idx = 4",
        "its record column holds text, not bytes",
        id="record-text-not-utf8",
    ),
    pytest.param(
        "UPDATE leaves SET record = 5 WHERE idx = 4",
        "its record column holds an integer, not bytes",
        id="record-integer",
    ),
    pytest.param(
        "UPDATE leaves SET leaf_hash = hex(leaf_hash) WHERE idx = 4",
        "its leaf_hash column holds text, not bytes",
        id="leaf-hash-text",
    ),
    pytest.param(
        "UPDATE leaves SET root_after = 1.5 WHERE idx = 4",
        "its root_after column holds a real number, not bytes",
        id="root-after-real",
    ),
    pytest.param(
        "UPDATE leaves SET id = x'6434' WHERE idx = 4",
        "its id column holds bytes, not text",
        id="id-blob",
    ),
]


@pytest.mark.parametrize(("statement", "reason"), WRONG_TYPES)
def test_a_column_of_the_wrong_type_is_tampering(
    tmp_path: Path, statement: str, reason: str
) -> None:
    url = build(tmp_path)
    edit(tmp_path, (statement, ()))
    with open_audit(url, create=False) as log:
        with pytest.raises(AuditTampered) as caught:
            log.verify()
        assert caught.value.index == 4 and reason in str(caught.value)
        if "id column" not in reason:  # a blob id no longer finds the record by its id
            with pytest.raises(AuditTampered, match=f"tampered at index 4.*{reason}"):
                log.get("d4")
        with pytest.raises(AuditTampered, match=f"tampered at index 4.*{reason}"):
            log.get_index(4)
        with pytest.raises(AuditTampered, match="tampered at index 4"):
            list(log.iter_records())
        with pytest.raises(AuditTampered, match="tampered at index 4"):
            log.query(limit=10)
        assert log.get("d3").record == record(3)  # the others still read


def test_a_wrong_type_is_reported_in_log_order(tmp_path: Path) -> None:
    url = build(tmp_path)
    edit(
        tmp_path,
        ("UPDATE leaves SET record = replace(record, 'deny', 'allow') WHERE idx = 7", ()),
        ("UPDATE leaves SET record = ? WHERE idx = 5", (FORGED,)),
    )
    with open_audit(url, create=False) as log, pytest.raises(AuditTampered) as caught:
        log.verify()
    assert caught.value.index == 5 and "do not match its stored leaf hash" in str(caught.value)


def test_a_leaf_hash_of_the_wrong_type_fails_heads_and_proofs(tmp_path: Path) -> None:
    url = build(tmp_path)
    edit(tmp_path, ("UPDATE leaves SET leaf_hash = hex(leaf_hash) WHERE idx = 2", ()))
    with open_audit(url, create=False) as log:
        for read in (log.head, lambda: log.inclusion("d7"), lambda: log.consistency(1, 5)):
            with pytest.raises(AuditTampered, match="index 2: its leaf_hash column holds text"):
                read()


@pytest.mark.parametrize(
    ("statement", "reason"),
    [
        pytest.param(
            "UPDATE tree_state SET frontier = hex(frontier)",
            "inconsistent: its tree state frontier holds text, not bytes",
            id="frontier-text",
        ),
        pytest.param(
            "UPDATE tree_state SET size = 'ten'",
            "inconsistent: its tree state says size 'ten' but holds a frontier of size 10",
            id="size-text",
        ),
    ],
)
def test_a_tree_state_of_the_wrong_type_is_an_error(
    tmp_path: Path, statement: str, reason: str
) -> None:
    url = build(tmp_path)
    edit(tmp_path, (statement, ()))
    with open_audit(url) as log:
        with pytest.raises(AuditError, match=reason):
            log.verify()
        if "frontier holds" in reason:  # appends read the frontier too
            with pytest.raises(AuditError, match=reason):
                log.append(record(10))


def test_records_that_are_not_json_objects_are_tampered_when_read(tmp_path: Path) -> None:
    url = build(tmp_path, size=3)
    edit(
        tmp_path,
        ("UPDATE leaves SET record = x'00' WHERE idx = 1", ()),
        ("UPDATE leaves SET record = ? WHERE idx = 2", (b"[1]",)),
    )
    with open_audit(url, create=False) as log:
        for record_id, index in (("d1", 1), ("d2", 2)):
            with pytest.raises(AuditTampered, match=f"index {index} .*not a JSON object"):
                log.get(record_id)
        with pytest.raises(AuditTampered, match="index 1 .*not a JSON object"):
            log.inclusion("d1")


def test_an_append_after_the_tree_state_was_set_back_is_refused(tmp_path: Path) -> None:
    url = build(tmp_path)
    edit(tmp_path, ("UPDATE tree_state SET size = 0, frontier = ?", (bytes(8),)))
    with open_audit(url) as log, pytest.raises(AuditError) as caught:
        log.append(record(10))
    assert "is inconsistent: UNIQUE constraint failed: leaves.idx" in str(caught.value)
    assert "duplicate" not in str(caught.value)
