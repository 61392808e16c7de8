"""Proofs and heads read a few subtree hashes, not every leaf hash, and equal the reference.

The stores keep the hash of every complete subtree of 2**8 leaves or more; a proof reads
O(log n) of them and at most a few 2**8-leaf ranges of leaf hashes.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guard._exceptions import AuditTampered
from guard.audit import (
    AuditLog,
    MemoryStore,
    MerkleTree,
    RecordQuery,
    SqliteStore,
    open_audit,
    verify_consistency,
    verify_inclusion,
)
from guard.audit._sqlite import _where
from guard.audit._store import stored_subtree_count

SIZE = 1300  # five 2**8 blocks and a partial one; subtrees of heights 8, 9 and 10


def record(n: int) -> dict[str, Any]:
    return {
        "schema_version": "guard.decision/v1",
        "id": f"d{n}",
        "verdict": "deny",
        "actor": f"a{n % 13}",
        "n": n,
    }


def build(path: Path, size: int = SIZE) -> str:
    url = f"sqlite:///{path}"
    with open_audit(url) as log:
        for start in range(0, size, 500):
            log.append_many([record(n) for n in range(start, min(size, start + 500))])
    return url


def sql(path: Path, statement: str, params: tuple[Any, ...] = ()) -> None:
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(statement, params)
    conn.close()


class CountingStore:
    """A store that counts the leaf hashes read through it."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.leaf_hashes_read = 0

    def leaf_hashes(self, start: int, end: int) -> list[bytes]:
        hashes: list[bytes] = self.store.leaf_hashes(start, end)
        self.leaf_hashes_read += len(hashes)
        return hashes

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


@pytest.fixture(scope="module")
def sqlite_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("proofs") / "audit.db"
    build(path)
    return path


@pytest.fixture(scope="module")
def reference(sqlite_log: Path) -> MerkleTree:
    """The in-memory tree of every leaf hash: the path proofs took before."""
    with open_audit(f"sqlite:///{sqlite_log}", create=False) as log:
        return MerkleTree(bytes.fromhex(s.leaf_hash) for s in log.iter_records())


@pytest.fixture(scope="module", params=["sqlite", "sqlite-without-subtrees", "memory"])
def log(request: pytest.FixtureRequest, sqlite_log: Path) -> Iterator[AuditLog]:
    if request.param == "memory":
        memory = AuditLog(MemoryStore())
        memory.append_many([record(n) for n in range(SIZE)])
        yield memory
        memory.close()
        return
    path = sqlite_log
    if request.param == "sqlite-without-subtrees":  # a log written before they were kept
        path = sqlite_log.with_name("old.db")
        shutil.copy(sqlite_log, path)
        sql(path, "DROP TABLE subtrees")
    with open_audit(f"sqlite:///{path}", create=False) as opened:
        yield opened


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_inclusion_proofs_equal_the_reference_and_verify(
    log: AuditLog, reference: MerkleTree, data: st.DataObject
) -> None:
    size = data.draw(st.integers(1, SIZE), label="tree_size")
    index = data.draw(st.integers(0, size - 1), label="index")
    proof = log.inclusion(index=index, tree_size=size)
    path = [bytes.fromhex(h) for h in proof.audit_path]
    assert path == reference.inclusion_proof(index, size)
    assert bytes.fromhex(proof.root) == reference.root(size)
    leaf = reference.leaves(index, index + 1)[0]
    assert verify_inclusion(leaf, index, size, path, reference.root(size)) and proof.verify()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_consistency_proofs_equal_the_reference_and_verify(
    log: AuditLog, reference: MerkleTree, data: st.DataObject
) -> None:
    second = data.draw(st.integers(0, SIZE), label="second")
    first = data.draw(st.integers(0, second), label="first")
    proof = log.consistency(first, second)
    hashes = [bytes.fromhex(h) for h in proof.proof]
    assert hashes == reference.consistency_proof(first, second)
    roots = reference.root(first), reference.root(second)
    assert (bytes.fromhex(proof.first_root), bytes.fromhex(proof.second_root)) == roots
    assert verify_consistency(first, second, *roots, hashes) and proof.verify()


@pytest.mark.parametrize(
    ("first", "second"),
    [
        pytest.param(0, SIZE, id="from-empty"),
        pytest.param(256, 512, id="block-aligned"),
        pytest.param(SIZE, SIZE, id="same-size"),
        pytest.param(1, SIZE, id="one-to-all"),
    ],
)
def test_consistency_edges_equal_the_reference(
    log: AuditLog, reference: MerkleTree, first: int, second: int
) -> None:
    proof = log.consistency(first, second)
    assert [bytes.fromhex(h) for h in proof.proof] == reference.consistency_proof(first, second)
    assert proof.verify()


def test_heads_equal_the_reference_and_verify(log: AuditLog, reference: MerkleTree) -> None:
    head = log.head(sign=False)
    assert (head.size, head.root) == (SIZE, reference.root().hex())
    assert log.verify().root == head.root


def test_proofs_and_heads_read_a_few_blocks_of_leaf_hashes(tmp_path: Path) -> None:
    size = 10_000
    store = CountingStore(SqliteStore(tmp_path / "audit.db"))
    with AuditLog(store) as log:
        for start in range(0, size, 2_000):
            log.append_many([record(n) for n in range(start, start + 2_000)])
        reads = []
        for call in (
            lambda: log.head(),
            lambda: log.inclusion("d4321"),
            lambda: log.inclusion(index=9_999, tree_size=size),
            lambda: log.consistency(3_333, size),
            lambda: log.consistency(257, 7_777),
        ):
            store.leaf_hashes_read = 0
            call()
            reads.append(store.leaf_hashes_read)
        # Each reads at most one 2**8 block per range it touches, never the 10,000 leaves.
        assert max(reads) <= 3 * 256, reads


def test_a_log_written_before_subtrees_were_kept_is_upgraded_by_its_first_writer(
    tmp_path: Path,
) -> None:
    path = tmp_path / "audit.db"
    url = build(path)
    with open_audit(url, create=False) as log:
        expected = log.inclusion("d700"), log.consistency(300, SIZE), log.head(sign=False).root
    sql(path, "DROP TABLE subtrees")
    with open_audit(url, create=False) as reader:  # a reader may not write: leaves are hashed
        assert reader.inclusion("d700") == expected[0]
        assert reader.consistency(300, SIZE) == expected[1]
    with open_audit(url) as writer:  # the writer adds the table and fills it, once
        assert writer.inclusion("d700") == expected[0]
        writer.append(record(SIZE))
    conn = sqlite3.connect(path)
    (count,) = conn.execute("SELECT COUNT(*) FROM subtrees").fetchone()
    conn.close()
    assert count == stored_subtree_count(SIZE + 1) == 5 + 2 + 1
    with open_audit(url, create=False) as log:
        assert log.verify().size == SIZE + 1
        assert log.consistency(SIZE, SIZE + 1).first_root == expected[2]


@pytest.mark.parametrize(
    ("height", "index", "start", "end"),
    [
        pytest.param(8, 1, 256, 511, id="a-2**8-subtree"),
        pytest.param(10, 0, 0, 1023, id="a-2**10-subtree"),
    ],
)
def test_a_rewritten_subtree_hash_is_tampering(
    tmp_path: Path, height: int, index: int, start: int, end: int
) -> None:
    path = tmp_path / "audit.db"
    url = build(path)
    sql(
        path,
        "UPDATE subtrees SET hash = ? WHERE height = ? AND idx = ?",
        (b"\x07" * 32, height, index),
    )
    with open_audit(url, create=False) as log:
        with pytest.raises(AuditTampered) as caught:
            log.verify()
        assert caught.value.index == start
        assert f"the stored hash of the subtree of records {start} to {end}" in str(caught.value)
        # A proof built from it is refused, not served: by its own path or by the stored root.
        with pytest.raises(AuditTampered):
            log.inclusion(index=0, tree_size=SIZE)
        assert log.inclusion(index=100, tree_size=256).verify()  # a proof that does not use it


def test_an_unreadable_subtree_hash_is_tampering(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    url = build(path)
    sql(path, "UPDATE subtrees SET hash = 'text' WHERE height = 8 AND idx = 2")
    with open_audit(url, create=False) as log, pytest.raises(AuditTampered) as caught:
        log.verify()
    assert caught.value.index == 512


def test_a_rewritten_record_is_refused_a_proof(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    url = build(path)
    sql(
        path,
        "UPDATE leaves SET record = CAST(replace(record, 'deny', 'allow') AS BLOB) WHERE idx = 5",
    )
    with open_audit(url, create=False) as log:
        with pytest.raises(AuditTampered, match="index 5 .*do not hash into the tree") as caught:
            log.inclusion("d5")
        assert caught.value.index == 5
        assert log.inclusion("d600").verify()


@pytest.mark.parametrize(
    ("filters", "index"),
    [
        pytest.param({"actor": "a1"}, "leaves_actor", id="actor"),
        pytest.param({"tenant": "t"}, "leaves_tenant", id="tenant"),
        pytest.param({"ref_id": "r"}, "leaves_ref_id", id="ref_id"),
        pytest.param({}, "leaves_record_type", id="record-type-alone"),
    ],
)
def test_queries_walk_the_selective_index_not_the_record_type(
    sqlite_log: Path, filters: dict[str, str], index: str
) -> None:
    conditions, params = _where(RecordQuery(record_type="guard.decision/v1", **filters))
    conn = sqlite3.connect(sqlite_log)
    plan = conn.execute(
        f"EXPLAIN QUERY PLAN SELECT idx FROM leaves WHERE {' AND '.join(conditions)}"
        " ORDER BY idx DESC LIMIT 51",
        params,
    ).fetchall()
    conn.close()
    assert f"INDEX {index} (" in str(plan), plan


# -- PostgreSQL: the Alembic upgrade of a log written before, and several writers -------------


def _pg(server: str, schema: str, statement: str) -> list[tuple[Any, ...]]:
    import psycopg

    from tests.audit.conftest import libpq_url

    with psycopg.connect(libpq_url(server), autocommit=True) as conn:
        conn.execute(f'SET search_path TO "{schema}"')
        cursor = conn.execute(statement)
        return cursor.fetchall() if cursor.description else []


def test_postgres_upgrade_fills_the_subtrees_of_an_existing_log(
    postgres_server: str, postgres_schema: str, postgres_url: str
) -> None:
    with open_audit(postgres_url) as log:
        log.append_many([record(n) for n in range(SIZE)])
        expected = log.inclusion("d700"), log.consistency(300, SIZE)
    # As a database at revision 0001 holds it: no subtree table.
    _pg(postgres_server, postgres_schema, "DROP TABLE guard_audit_subtrees")
    _pg(postgres_server, postgres_schema, "UPDATE guard_alembic_version SET version_num = '0001'")
    with open_audit(postgres_url) as log:  # migrates to 0002, hashing the existing leaves
        assert (log.inclusion("d700"), log.consistency(300, SIZE)) == expected
        assert log.verify().size == SIZE
    (count,) = _pg(postgres_server, postgres_schema, "SELECT COUNT(*) FROM guard_audit_subtrees")
    assert count[0] == stored_subtree_count(SIZE)
    version = _pg(postgres_server, postgres_schema, "SELECT version_num FROM guard_alembic_version")
    assert version == [("0002",)]


def test_postgres_writers_in_turn_keep_one_tree_of_subtrees(
    postgres_server: str, postgres_schema: str, postgres_url: str
) -> None:
    logs = [open_audit(postgres_url) for _ in range(3)]
    try:
        for n in range(0, 1100, 7):  # batches that straddle the 2**8 boundaries, by turns
            logs[n % 3].append_many([record(k) for k in range(n, min(1100, n + 7))])
        reference = MerkleTree(bytes.fromhex(s.leaf_hash) for s in logs[0].iter_records())
        assert logs[1].verify().root == reference.root().hex()
        for log in logs:
            assert log.consistency(333, 1100).proof == [
                h.hex() for h in reference.consistency_proof(333, 1100)
            ]
    finally:
        for log in logs:
            log.close()
    (count,) = _pg(postgres_server, postgres_schema, "SELECT COUNT(*) FROM guard_audit_subtrees")
    assert count[0] == stored_subtree_count(1100)


@pytest.mark.parametrize(
    ("statement", "kept"),
    [
        pytest.param("UPDATE tree_state SET size = 'six hundred'", 3, id="state-size-text"),
        pytest.param("DELETE FROM subtrees WHERE height = 9", 3, id="one-missing-refilled"),
        pytest.param(
            "DELETE FROM subtrees WHERE height = 9; DELETE FROM leaves WHERE idx = 3",
            2,
            id="leaf-gap-left-as-it-is",
        ),
    ],
)
def test_a_writer_refills_subtrees_only_from_leaves_that_add_up(
    tmp_path: Path, statement: str, kept: int
) -> None:
    path = tmp_path / "audit.db"
    url = build(path, size=600)  # subtrees (8, 0), (8, 1) and (9, 0)
    for one in statement.split("; "):
        sql(path, one)
    open_audit(url).close()
    conn = sqlite3.connect(path)
    (count,) = conn.execute("SELECT COUNT(*) FROM subtrees").fetchone()
    conn.close()
    assert count == kept
