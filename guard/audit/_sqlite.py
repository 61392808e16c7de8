"""The embedded SQLite store: WAL mode, one row per leaf, safe to share between processes."""

from __future__ import annotations

import os
import re
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from guard._exceptions import AuditError
from guard.audit._merkle import CompactRange
from guard.audit._store import (
    Columns,
    LeafRow,
    RecordQuery,
    StoredLeaf,
    Subtree,
    build_rows,
    duplicate_id,
    iter_rows,
    sendable,
    stored_frontier,
    stored_leaf,
    stored_leaf_hash,
    stored_subtree_count,
    subtrees_of,
)

__all__ = ["SqliteStore"]

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS leaves (
        idx INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        record BLOB NOT NULL,
        leaf_hash BLOB NOT NULL,
        root_after BLOB NOT NULL,
        time TEXT,
        tenant TEXT,
        actor TEXT,
        policy TEXT,
        policy_version TEXT,
        kind TEXT,
        verdict TEXT,
        mode TEXT,
        rule_ids TEXT,
        shadow_disagrees INTEGER,
        record_type TEXT,
        ref_id TEXT
    )""",
    # The frontier of the whole log, rewritten in the same transaction as the leaves it covers.
    """CREATE TABLE IF NOT EXISTS tree_state (
        id INTEGER PRIMARY KEY CHECK (id = 0),
        size INTEGER NOT NULL,
        frontier BLOB NOT NULL
    )""",
    # Complete subtrees of 2**8 leaves or more, written with the leaf that closes them, so a
    # proof reads O(log n) hashes instead of every leaf hash.
    """CREATE TABLE IF NOT EXISTS subtrees (
        height INTEGER NOT NULL,
        idx INTEGER NOT NULL,
        hash BLOB NOT NULL,
        PRIMARY KEY (height, idx)
    ) WITHOUT ROWID""",
    # idx is the rowid, so each single-column index is already ordered newest-last within a key.
    # Only selective columns are indexed: each index adds about 1 us of CPU to every append,
    # and a query on a common value (a verdict, a kind, a policy) finds its page as fast
    # by reading the newest rows backwards.
    "CREATE INDEX IF NOT EXISTS leaves_tenant ON leaves(tenant)",
    "CREATE INDEX IF NOT EXISTS leaves_time ON leaves(time)",
    "CREATE INDEX IF NOT EXISTS leaves_actor ON leaves(actor)",
    "CREATE INDEX IF NOT EXISTS leaves_record_type ON leaves(record_type)",
    "CREATE INDEX IF NOT EXISTS leaves_ref_id ON leaves(ref_id) WHERE ref_id IS NOT NULL",
    "CREATE INDEX IF NOT EXISTS leaves_shadow ON leaves(shadow_disagrees)"
    " WHERE shadow_disagrees IS NOT NULL",
    # Indexes of earlier versions, dropped from logs they created.
    "DROP INDEX IF EXISTS leaves_policy",
    "DROP INDEX IF EXISTS leaves_kind",
    "DROP INDEX IF EXISTS leaves_verdict",
)

_INSERT = (
    "INSERT INTO leaves (idx, id, record, leaf_hash, root_after, time, tenant, actor, policy,"
    " policy_version, kind, verdict, mode, rule_ids, shadow_disagrees, record_type, ref_id)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_SAVE_FRONTIER = (
    "INSERT INTO tree_state (id, size, frontier) VALUES (0, ?, ?)"
    " ON CONFLICT (id) DO UPDATE SET size = excluded.size, frontier = excluded.frontier"
)
_SAVE_SUBTREE = "INSERT INTO subtrees (height, idx, hash) VALUES (?, ?, ?)"
_LEAF_COLUMNS = "idx, id, record, leaf_hash, root_after"
_INDEX_COLUMNS = ", ".join(Columns._fields)
# The WAL is copied into the database file by `after_commit`, once this many bytes of
# records were appended since the last time, rather than by SQLite inside a commit that
# callers wait for. SQLite's own checkpoint stays on, at a larger size, for callers that
# never call after_commit.
_CHECKPOINT_BYTES = 2 << 20
_ID_CONFLICT = re.compile(r"\bleaves\.id\b")
_AUTOCHECKPOINT_PAGES = 10_000  # of 4 KiB
_INTEGRITY_MESSAGES = 5  # problems `check_integrity` names at most

# Filters on the indexed columns that pick out few records (a tenant, an actor, a time range).
_SELECTIVE = frozenset(("tenant", "actor", "ref_id", "since", "until", "shadow_disagrees"))
# Filter name -> SQL condition; every value is bound as a parameter.
_CONDITIONS = {
    "tenant": "tenant = ?",
    "verdict": "verdict = ?",
    "policy": "policy = ?",
    "policy_version": "policy_version = ?",
    "actor": "actor = ?",
    "kind": "kind = ?",
    "record_type": "record_type = ?",
    "ref_id": "ref_id = ?",
    "since": "time >= ?",
    "until": "time < ?",
    "shadow_disagrees": "shadow_disagrees = ?",
    # instr, not LIKE: SQLite's LIKE ignores ASCII case and stops at a NUL in the pattern.
    "rule_id": "instr(rule_ids, ?) > 0",
}


class SqliteStore:
    """Leaves in one SQLite file (URL `sqlite:///relative.db` or `sqlite:////abs.db`).

    WAL with synchronous=NORMAL survives a killed process: a commit is in the WAL before
    `append` returns. Each append runs in BEGIN IMMEDIATE and reads the size and frontier
    inside it, so several processes can append to the same file. With `create=False`
    a missing file is an `AuditError` rather than a new, empty log, and the schema is
    left as it is: what a reader that was given a mistyped path needs.
    """

    def __init__(self, path: str | Path, *, create: bool = True) -> None:
        self.path = Path(path)
        if self.path.is_dir():
            raise AuditError(
                f"no audit log at {str(self.path)!r}: it is a folder; name a file in it, "
                f"such as sqlite:///{(self.path / 'guard-audit.db').as_posix()}"
            )
        if not create and not self.path.is_file():
            raise AuditError(f"no audit log at {str(self.path)!r}: the file does not exist")
        self._write_lock = threading.Lock()
        self._read_lock = threading.Lock()
        self._writer = self._connect(create)
        try:
            self._reader = self._connect(create)
        except AuditError:
            self._writer.close()
            raise
        self._unchecked = 0  # bytes of records appended since the last checkpoint
        self._has_subtrees = True
        # The file opened, by absolute path and inode: a log deleted or replaced meanwhile
        # would take commits into a file no one can read again (see `_check_file`).
        self._file = self.path.resolve()
        try:
            self._inode = _inode(self._file)
        except OSError as exc:
            self.close()
            raise AuditError(f"could not open the audit log {str(self.path)!r}: {exc}") from exc
        try:
            if create:
                self._writer.execute(f"PRAGMA wal_autocheckpoint={_AUTOCHECKPOINT_PAGES}")
                with self._transaction():
                    for statement in _SCHEMA:
                        self._writer.execute(statement)
                self._fill_subtrees()
            else:
                self._check_schema()
        except _ERRORS as exc:
            self.close()
            what = "create" if create else "open"
            raise AuditError(
                f"could not {what} the audit log {str(self.path)!r}: {_reason(exc)}"
            ) from exc
        except AuditError:
            self.close()
            raise

    def append(self, records: list[bytes]) -> list[int]:
        """Commit records as new leaves in one transaction and return their indexes."""
        if not records:
            return []
        try:
            with self._transaction():
                first = self._append_in_transaction(records)
        except sqlite3.IntegrityError as exc:
            raise self._integrity_error(records, exc) from exc
        except _ERRORS as exc:
            raise AuditError(
                f"could not append to the audit log {str(self.path)!r}: {_reason(exc)}"
            ) from exc
        self._unchecked += sum(map(len, records))
        return list(range(first, first + len(records)))

    def after_commit(self) -> None:
        """Checkpoint the WAL if enough was appended since the last time.

        `AuditLog` calls this from its writer thread once the appends it committed are
        acknowledged, so that no caller waits for it. A failed checkpoint is left to the
        next call, or to SQLite's own.
        """
        if self._unchecked < _CHECKPOINT_BYTES:
            return
        with self._write_lock:
            try:
                self._writer.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            except _ERRORS:
                return
            self._unchecked = 0

    def size(self) -> int:
        """Return the number of committed leaves."""
        row = self._fetch("SELECT COALESCE(MAX(idx) + 1, 0) FROM leaves", ())
        return int(row[0][0])

    def read(self, start: int, end: int) -> list[StoredLeaf]:
        """Return leaves start <= index < end in index order."""
        sql = f"SELECT {_LEAF_COLUMNS} FROM leaves WHERE idx >= ? AND idx < ? ORDER BY idx"
        return [_leaf(row) for row in self._fetch(sql, (start, end))]

    def leaf_hashes(self, start: int, end: int) -> list[bytes]:
        """Return stored leaf hashes start <= index < end in index order."""
        sql = "SELECT idx, leaf_hash FROM leaves WHERE idx >= ? AND idx < ? ORDER BY idx"
        return [stored_leaf_hash(i, h) for i, h in self._fetch(sql, (start, end))]

    def read_rows(self, start: int, end: int) -> list[LeafRow]:
        """Return leaves start <= index < end with their index columns as stored."""
        sql = (
            f"SELECT {_LEAF_COLUMNS}, {_INDEX_COLUMNS} FROM leaves"
            " WHERE idx >= ? AND idx < ? ORDER BY idx"
        )
        rows = self._fetch(sql, (start, end))
        return [LeafRow(_leaf(row[:5]), Columns(*row[5:])) for row in rows]

    def frontier(self) -> CompactRange:
        """Return the size and frontier committed with the last append (empty before any)."""
        rows = self._fetch("SELECT size, frontier FROM tree_state WHERE id = 0", ())
        if not rows:
            return CompactRange()
        size, stored = rows[0]
        return stored_frontier(repr(str(self.path)), size, stored)

    def subtree_hashes(self, wanted: Iterable[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        """Return the stored hashes of these (height, index) subtrees, those there are.

        A hash that is not bytes (edited by hand) is returned as b"", which matches nothing.
        """
        keys = list(wanted)
        if not keys or not self._has_subtrees:
            return {}
        found: dict[tuple[int, int], bytes] = {}
        for start in range(0, len(keys), 400):  # SQLite binds at most 32766 values
            chunk = keys[start : start + 400]
            # ORs of primary-key lookups: SQLite scans the table for a row-value IN (VALUES ...).
            where = " OR ".join("(height = ? AND idx = ?)" for _ in chunk)
            sql = f"SELECT height, idx, hash FROM subtrees WHERE {where}"
            for height, index, stored in self._fetch(sql, tuple(v for key in chunk for v in key)):
                found[height, index] = stored if isinstance(stored, bytes) else b""
        return found

    def check_integrity(self) -> None:
        """Raise `AuditError` if SQLite's integrity check finds the file damaged.

        Verify re-hashes the rows; this checks the rest of the file, the indexes above all:
        a row missing from one is missed by every lookup through it (a record id `find`
        does not find, a review a `ref_id` query does not list) while the rows still hash.
        """
        # Its messages quote stored values: _fetch reads any that are not UTF-8 as they are.
        found = [
            str(row[0]) for row in self._fetch(f"PRAGMA integrity_check({_INTEGRITY_MESSAGES})", ())
        ]
        if found != ["ok"]:
            problems = "; ".join(found).encode("utf-8", "backslashreplace").decode()
            raise AuditError(
                f"audit log {str(self.path)!r} is damaged: SQLite's integrity check reports: "
                f"{problems} (a lookup or query through a damaged index misses records or "
                "lists wrong ones, though the rows verified)"
            )

    def find(self, record_id: str) -> int | None:
        """Return the index of the record with this id, or None."""
        if not sendable([record_id]):
            return None
        rows = self._fetch("SELECT idx FROM leaves WHERE id = ?", (record_id,))
        return int(rows[0][0]) if rows else None

    def query(self, query: RecordQuery, *, before: int | None, limit: int) -> list[StoredLeaf]:
        """Return up to `limit` matching leaves with index < `before`, newest first."""
        conditions, params = _where(query)
        if not sendable(params):
            return []
        if before is not None:
            conditions.append("idx < ?")
            params.append(before)
        where = " AND ".join(conditions) or "1"
        sql = f"SELECT {_LEAF_COLUMNS} FROM leaves WHERE {where} ORDER BY idx DESC LIMIT ?"
        return [_leaf(row) for row in self._fetch(sql, (*params, limit))]

    def close(self) -> None:
        """Close both connections."""
        with self._write_lock, self._read_lock:
            self._writer.close()
            self._reader.close()

    def _connect(self, create: bool) -> sqlite3.Connection:
        try:
            if create:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                target, uri = str(self.path), False
            else:
                # A reader opens read-only: a file deleted since the check above is not made
                # again, and closing does not checkpoint the WAL into the file or delete it
                # (a damaged WAL is evidence, which a checkpoint would silently drop).
                target, uri = f"{self.path.resolve().as_uri()}?mode=ro", True
            conn = sqlite3.connect(
                target, timeout=30.0, isolation_level=None, check_same_thread=False, uri=uri
            )
            if create:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
            else:
                conn = self._readable(conn, target)
        except (OSError, *_ERRORS) as exc:
            raise AuditError(
                f"could not open the audit log {str(self.path)!r}: {_reason(exc)}"
            ) from exc
        return conn

    def _readable(self, conn: sqlite3.Connection, target: str) -> sqlite3.Connection:
        """A reader's connection to a log it cannot write (a read-only file or folder, as a
        copy handed to an auditor often is): SQLite reads a WAL-mode file only where it can
        make the -shm file, unless told the file cannot change, which is true when no WAL
        holds commits that are not in it yet."""
        try:
            conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
            return conn
        except sqlite3.OperationalError as exc:
            if "readonly" not in str(exc):
                raise
            wal = Path(f"{self.path}-wal")
            if wal.is_file() and wal.stat().st_size:
                raise AuditError(
                    f"could not read the audit log {str(self.path)!r}: it is read-only here and "
                    f"its WAL file {str(wal)!r} holds commits that only a process allowed to "
                    "write in its folder can read; copy both files to a folder of your own"
                ) from exc
        conn.close()
        return sqlite3.connect(
            f"{target}&immutable=1",
            timeout=30.0,
            isolation_level=None,
            check_same_thread=False,
            uri=True,
        )

    def _check_schema(self) -> None:
        names = {row[0] for row in self._fetch("SELECT name FROM sqlite_master", ())}
        self._has_subtrees = "subtrees" in names  # not in logs written before it was
        missing = sorted({"leaves", "tree_state"} - names)
        if missing:
            raise AuditError(
                f"{str(self.path)!r} is not an audit log: it has no {' or '.join(missing)} table"
            )

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        with self._write_lock:
            self._writer.execute("BEGIN IMMEDIATE")
            try:
                yield
                self._check_file()
                # A COMMIT that fails (I/O error, busy) leaves the transaction open: it
                # is rolled back below, or it would hold the write lock and refuse every
                # later BEGIN ("cannot start a transaction within a transaction").
                self._writer.execute("COMMIT")
            except BaseException:
                if self._writer.in_transaction:
                    self._writer.execute("ROLLBACK")
                raise

    def _check_file(self) -> None:
        """Refuse to commit into a log whose file was deleted or replaced since it was opened:
        the rows would go to an unlinked file (or the WAL of another) and be lost."""
        try:
            inode = _inode(self._file)
        except FileNotFoundError:
            inode = None
        if inode != self._inode:
            what = "deleted" if inode is None else "replaced by another file"
            raise AuditError(
                f"the audit log {str(self.path)!r} was {what} after it was opened; nothing "
                "is appended to it (records would be lost): reopen the log"
            )

    def _append_in_transaction(self, records: list[bytes]) -> int:
        """Write the records as leaves and return the index of the first."""
        conn = self._writer
        state = conn.execute("SELECT size, frontier FROM tree_state WHERE id = 0").fetchone()
        frontier = CompactRange()
        if state:
            frontier = stored_frontier(repr(str(self.path)), *state)
        first = frontier.size
        # Rows are made as they are inserted and dropped right after: none outlives its
        # insert, which spares the garbage collector thousands of objects per batch.
        subtrees: list[Subtree] = []
        conn.executemany(_INSERT, map(_values, iter_rows(records, frontier, subtrees)))
        conn.executemany(_SAVE_SUBTREE, subtrees)
        conn.execute(_SAVE_FRONTIER, (frontier.size, frontier.to_bytes()))
        return first

    def _fill_subtrees(self) -> None:
        """Hash the subtrees of a log written before they were kept (or missing some), once.

        A log whose leaves do not add up to its tree state is left without them: proofs then
        hash leaf ranges, and verify and head report the tampering.
        """
        conn = self._writer
        with self._write_lock:
            state = conn.execute("SELECT size FROM tree_state WHERE id = 0").fetchone()
            if state is None or not isinstance(state[0], int):  # empty, or an unreadable state
                return
            size = state[0]
            (count,) = conn.execute("SELECT COUNT(*) FROM subtrees").fetchone()
            if count == stored_subtree_count(size):
                return
        try:
            with self._transaction():
                conn.execute("DELETE FROM subtrees")
                rows = conn.execute(
                    "SELECT idx, leaf_hash FROM leaves WHERE idx < ? ORDER BY idx", (size,)
                )
                conn.executemany(_SAVE_SUBTREE, subtrees_of(_in_order(rows, size)))
        except _Unreadable:
            return

    def _fetch(self, sql: str, params: tuple[object, ...]) -> list[tuple[Any, ...]]:
        try:
            with self._read_lock:
                try:
                    return list(self._reader.execute(sql, params))
                except sqlite3.OperationalError as exc:
                    if "decode" not in str(exc):
                        raise
                # TEXT that is not UTF-8 (written by hand): read it again, kept as it is,
                # so the row shows as tampered instead of failing the whole read.
                self._reader.text_factory = _lenient_text
                try:
                    return list(self._reader.execute(sql, params))
                finally:
                    self._reader.text_factory = str
        except _ERRORS as exc:
            raise AuditError(
                f"could not read the audit log {str(self.path)!r}: {_reason(exc)}"
            ) from exc

    def _integrity_error(self, records: list[bytes], exc: sqlite3.IntegrityError) -> AuditError:
        if not _ID_CONFLICT.search(str(exc)):  # not leaves.idx: that is a stale tree state
            return AuditError(f"audit log {str(self.path)!r} is inconsistent: {exc}")
        ids = (row.leaf.id for row in build_rows(records, CompactRange()))
        duplicate = duplicate_id(ids, self.find)
        if duplicate is not None:
            return AuditError(f"duplicate audit record id {duplicate!r}")
        return AuditError(f"duplicate audit record id in {str(self.path)!r}: {exc}")


# What a statement may raise: SQLite's errors, and UnicodeDecodeError when the message of
# one is not UTF-8 (it quotes a damaged schema's bytes), which sqlite3 fails to decode.
_ERRORS = (sqlite3.Error, UnicodeDecodeError)


def _reason(exc: BaseException) -> str:
    """An error's message; SQLite's own bytes, escaped, for one sqlite3 could not decode."""
    if isinstance(exc, UnicodeDecodeError) and isinstance(exc.object, bytes):
        return exc.object.decode("utf-8", "backslashreplace")
    return str(exc)


class _Unreadable(Exception):
    """The stored leaves do not add up to the tree state: no subtrees are hashed from them."""


def _in_order(rows: Iterable[tuple[object, object]], size: int) -> Iterator[bytes]:
    expected = 0
    for index, leaf in rows:
        if index != expected or not isinstance(leaf, bytes):
            raise _Unreadable
        yield leaf
        expected += 1
    if expected != size:
        raise _Unreadable


def _inode(path: Path) -> tuple[int, int]:
    stat = os.stat(path)
    return stat.st_dev, stat.st_ino


def _values(row: LeafRow) -> tuple[object, ...]:
    leaf = row.leaf
    # sqlite3 binds a bytearray as a BLOB directly, but looks for an adapter for bytes
    # first: the copies cost less than the lookups.
    blobs = bytearray(leaf.record), bytearray(leaf.leaf_hash), bytearray(leaf.root_after)
    return (leaf.index, leaf.id, *blobs, *row.columns)


def _leaf(row: tuple[Any, ...]) -> StoredLeaf:
    return stored_leaf(*row)


def _lenient_text(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


def _where(query: RecordQuery) -> tuple[list[str], list[object]]:
    conditions: list[str] = []
    params: list[object] = []
    given = query.given()
    for name, value in given.items():
        if name == "record_type" and not given.keys().isdisjoint(_SELECTIVE):
            # Every API query filters on the record type, which nearly all records share;
            # without statistics SQLite may walk its index instead of the selective one
            # (2M records: 0.2 s per page of one actor's decisions, the export ~20 s).
            conditions.append("+record_type = ?")  # unary + keeps it off the index
        else:
            conditions.append(_CONDITIONS[name])
        params.append(_param(name, value))
    return conditions, params


def _param(name: str, value: str | bool) -> object:
    if name == "rule_id":
        return f" {value} "  # rule_ids is " a b ": a whole rule id only
    if name == "shadow_disagrees":
        return int(value)
    return value
