"""The audit log: group-committed appends, proofs, signed heads, verification and queries."""

from __future__ import annotations

import asyncio
import base64
import operator
import os
import queue
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import Enum
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import Any, NoReturn, SupportsIndex

import orjson
from pydantic import BaseModel, ConfigDict

from guard._exceptions import AuditError, AuditTampered, GuardError, RecordNotFound
from guard._models import fast_model
from guard.audit._canonical import _as_doubles, canonical_json, canonical_parsed
from guard.audit._merkle import (
    EMPTY_ROOT,
    STORED_HEIGHT,
    CompactRange,
    NodeHash,
    consistency_path,
    inclusion_path,
    leaf_hash,
    range_hash,
    verify_consistency,
    verify_inclusion,
)
from guard.audit._proofs import from_store, frontier_hashes
from guard.audit._signing import Signer, TreeHead, ensure_key_file
from guard.audit._sqlite import SqliteStore
from guard.audit._store import (
    AuditStore,
    CanonicalRecord,
    Columns,
    LeafRow,
    MemoryStore,
    RecordQuery,
    StoredLeaf,
    index_columns,
    redacted_url,
    time_text,
)

__all__ = [
    "AppendResult",
    "AuditLog",
    "ConsistencyProof",
    "InclusionProof",
    "Page",
    "StoredRecord",
    "VerifyReport",
    "open_audit",
]

_SCHEMES = (
    "memory://, sqlite:///relative/path.db, sqlite:////absolute/path.db, "
    "postgresql://user@host/db, postgresql+psycopg://user@host/db, postgres://user@host/db"
)
_POSTGRES_SCHEMES = ("postgresql://", "postgresql+psycopg://", "postgres://")
_MAX_BATCH = 10_000  # records per group-commit transaction
_READ_CHUNK = 4096
_MAX_PAGE = 1000
_STATE = "the store's tree state"
_BLOCK = (1 << STORED_HEIGHT) - 1
# The largest index a store's integer column holds (SQLite INTEGER, PostgreSQL bigint): a
# larger one is at no leaf, and a driver fails on it rather than finding nothing.
_MAX_INDEX = 2**63 - 1
# Arrays and objects a record may nest: readers check records with orjson, which refuses
# deeper ones, and call those tampered (the guard itself refuses input nested past 200).
_MAX_NESTING = 254
_NOT_CANONICAL = (
    "its bytes are not the canonical JSON (RFC 8785) of the record they hold, which the log "
    "writes and proofs hash, so no proof of it checks"
)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class AppendResult(_Frozen):
    """Where a committed record landed: its leaf index, id and leaf hash (hex)."""

    index: int
    id: str
    leaf_hash: str


class StoredRecord(_Frozen):
    """A record read back from the log, with its position and leaf hash (hex)."""

    index: int
    id: str
    record: dict[str, Any]
    leaf_hash: str


class InclusionProof(_Frozen):
    """Evidence that `record` is leaf `leaf_index` of the tree of `tree_size` with `root`."""

    record: dict[str, Any]
    leaf_index: int
    tree_size: int
    leaf_hash: str
    audit_path: list[str]
    root: str

    def verify(self) -> bool:
        """Recompute the leaf hash from the record and check the path against the root."""
        leaf = leaf_hash(canonical_json(self.record))
        try:
            path = [bytes.fromhex(h) for h in self.audit_path]
            root = bytes.fromhex(self.root)
        except ValueError:  # not hex: cannot be a valid proof
            return False
        return leaf.hex() == self.leaf_hash and verify_inclusion(
            leaf, self.leaf_index, self.tree_size, path, root
        )


class ConsistencyProof(_Frozen):
    """Evidence that the tree of size `first` is a prefix of the tree of size `second`."""

    first: int
    second: int
    first_root: str
    second_root: str
    proof: list[str]

    def verify(self) -> bool:
        """Check the proof against both roots."""
        try:
            roots = bytes.fromhex(self.first_root), bytes.fromhex(self.second_root)
            proof = [bytes.fromhex(h) for h in self.proof]
        except ValueError:  # not hex: cannot be a valid proof
            return False
        return verify_consistency(self.first, self.second, *roots, proof)


class VerifyReport(_Frozen):
    """The size and root (hex) of a log whose every record and root was re-derived."""

    size: int
    root: str


class Page(_Frozen):
    """One page of query results, newest first; pass `next_cursor` to get the next one."""

    items: list[StoredRecord]
    next_cursor: str | None


def open_audit(
    url: str | None,
    *,
    signing_key_path: str | None = None,
    create: bool = True,
    create_key: bool | None = None,
) -> AuditLog:
    """Open the audit log at `url` (memory:// when None).

    SQLite logs sign tree heads with the key at `signing_key_path`, by default the
    database path plus ".key"; memory and PostgreSQL logs use a key made for this process
    unless a path is given (give every sidecar sharing a PostgreSQL log the same key file,
    so that one public key checks all their heads). A writer (`create=True`, the default)
    creates a missing key file when it opens the log. With `create=False` a SQLite file
    that does not exist, or a PostgreSQL database without the audit tables, is an
    `AuditError` rather than a new, empty log (which would
    verify), and no key is made: `head()` then needs the key file to exist, or a path
    given; for readers given a path that may be mistyped or a copy of a log without its
    key. `create_key` overrides whether a missing key is made (by the first head).
    """
    url = url or "memory://"
    create_key = create if create_key is None else create_key
    key_path = signing_key_path
    if url == "memory://":
        store: AuditStore = MemoryStore()
    elif url.startswith("sqlite:///") and len(url) > len("sqlite:///"):
        path = url[len("sqlite:///") :]
        if path == ":memory:":  # a database of one connection: the store opens two
            raise AuditError(
                "sqlite:///:memory: is not supported: use memory:// for a log kept in this "
                "process's memory"
            )
        if "?" in path:  # SQLAlchemy's options: here they would become part of the file name
            raise AuditError(
                f"unsupported audit URL {url!r}: sqlite:/// takes a file path only, without "
                f"options such as {path[path.index('?') :]!r}"
            )
        store = SqliteStore(path, create=create)
        key_path = signing_key_path or f"{path}.key"
    elif url.startswith(_POSTGRES_SCHEMES):
        from guard.audit._postgres import PostgresStore  # needs the [service] extra

        store = PostgresStore(url, create=create)
    else:
        raise AuditError(f"unsupported audit URL {redacted_url(url)!r}; expected one of {_SCHEMES}")
    if key_path and create and create_key:
        try:
            ensure_key_file(key_path)
        except AuditError:
            store.close()
            raise
    return AuditLog(store, signing_key_path=key_path, create_key=create_key)


class AuditLog:
    """An append-only, tamper-evident log of JSON records over any `AuditStore`."""

    def __init__(
        self,
        store: AuditStore,
        *,
        signing_key_path: str | Path | None = None,
        create_key: bool = True,
    ) -> None:
        self._store = store
        self._key_path = signing_key_path
        self._create_key = create_key
        self._signer: Signer | None = None
        self._signer_lock = threading.Lock()
        self._committer = _GroupCommitter(store)
        # The tree state of the last head this log made: `verify` checks that the log
        # still extends it. O(log n) hashes, not the leaves.
        self._seen: CompactRange | None = None
        self._seen_lock = threading.Lock()

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def size(self) -> int:
        """The number of committed records, including other writers'."""
        return self._store.size()

    @property
    def signing_key_path(self) -> Path | None:
        """The PEM file that signs this log's heads; None for a key made for this process."""
        return None if not self._key_path else Path(self._key_path)

    @property
    def public_key_hex(self) -> str:
        """The raw Ed25519 public key that checks this log's tree heads."""
        return self._get_signer().public_key_hex

    def append(self, record: Mapping[str, Any] | BaseModel) -> AppendResult:
        """Commit one record (batched with concurrent callers) and return where it landed."""
        return self.append_many([record])[0]

    def append_many(self, records: Sequence[Mapping[str, Any] | BaseModel]) -> list[AppendResult]:
        """Commit records in one transaction, in order; nothing is written if one is invalid."""
        prepared = [_prepare(r) for r in records]
        if not prepared:
            return []
        future = self._committer.submit(prepared)
        return _results(future.result(), prepared)

    async def append_many_async(
        self, records: Sequence[Mapping[str, Any] | BaseModel]
    ) -> list[AppendResult]:
        """`append_many` for an event loop: awaits the commit instead of blocking a thread."""
        prepared = [_prepare(r) for r in records]
        if not prepared:
            return []
        future = self._committer.submit(prepared)
        return _results(await asyncio.wrap_future(future), prepared)

    def get(self, record_id: str) -> StoredRecord:
        """Return the record with this id, or raise RecordNotFound."""
        return _stored(self._leaf_at(self._index_of(record_id)))

    def get_index(self, index: int) -> StoredRecord:
        """Return the record at this leaf index, or raise RecordNotFound."""
        return _stored(self._leaf_at(_whole(index, "index")))

    def iter_records(self, start: int = 0) -> Iterator[StoredRecord]:
        """Yield records in log order from leaf `start`, reading in chunks."""
        return (_stored(leaf) for leaf in self._scan(_whole(start, "start")))

    def head(self, sign: bool = True) -> TreeHead:
        """Return the current tree head, signed with this log's Ed25519 key unless sign=False.

        The store's tree state (the frontier committed with each append) must agree with
        the log's subtree hashes and with the leaf hashes of its last, partial 2**8-leaf
        block, and count every leaf: a row deleted at the end, or in or around that block, or
        added, or a rewritten state, is `AuditTampered` (or `AuditError` for a state that
        cannot be read), never a head. It reads O(log n) hashes; `verify` re-derives all.
        """
        state = self._checked_state()
        with self._seen_lock:
            if self._seen is None or self._seen.size <= state.size:
                self._seen = state
        size, root = state.size, state.root().hex()
        timestamp = datetime.now(timezone.utc).isoformat()
        if not sign:
            return TreeHead(size=size, root=root, timestamp=timestamp)
        return self._get_signer().sign(size, root, timestamp)

    def inclusion(
        self,
        record_id: str | None = None,
        *,
        index: int | None = None,
        tree_size: int | None = None,
    ) -> InclusionProof:
        """Prove that a record (by id or index) is in the tree of `tree_size` (default: now)."""
        if record_id is not None and index is None:
            leaf = self._leaf_at(self._index_of(record_id))
        elif index is not None and record_id is None:
            leaf = self._leaf_at(_whole(index, "index"))
        else:
            raise AuditError("pass exactly one of record_id or index")
        record, leaf_index = _as_read(leaf, _record_of(leaf)), leaf.index
        log_size = self._store.size()
        size = log_size if tree_size is None else _whole(tree_size, "tree_size")
        if not leaf_index < size <= log_size:
            raise AuditError(
                f"tree_size {size} must be above the leaf index {leaf_index} "
                f"and at most the log size {log_size}"
            )
        path, root = from_store(
            self._store,
            lambda node: (inclusion_path(leaf_index, size, node), range_hash(0, size, node)),
        )
        self._check_root(size, root)
        leaf_digest = leaf_hash(leaf.record)
        if not verify_inclusion(leaf_digest, leaf_index, size, path, root):
            _tampered(
                leaf_index,
                leaf.id,
                f"its bytes do not hash into the tree of size {size} as stored (its leaf "
                "hash or a stored subtree hash was changed; verify names the first bad record)",
            )
        if canonical_json(record) != leaf.record:  # the proof would check for no one
            _tampered(leaf_index, leaf.id, _NOT_CANONICAL)
        return InclusionProof(
            record=record,
            leaf_index=leaf_index,
            tree_size=size,
            leaf_hash=leaf_digest.hex(),
            audit_path=[h.hex() for h in path],
            root=root.hex(),
        )

    def consistency(self, first: int, second: int) -> ConsistencyProof:
        """Prove that the log at size `first` is a prefix of the log at size `second`."""
        first, second = _whole(first, "first"), _whole(second, "second")
        size = self._store.size()
        if not 0 <= first <= second <= size:
            raise AuditError(
                f"sizes must satisfy 0 <= first <= second <= {size} (the log size); "
                f"got first={first}, second={second}"
            )

        def prove(node: NodeHash) -> tuple[list[bytes], list[str]]:
            roots = [range_hash(0, n, node) if n else EMPTY_ROOT for n in (first, second)]
            return consistency_path(first, second, node), [r.hex() for r in roots]

        proof, roots = from_store(self._store, prove)
        for n, r in zip((first, second), roots, strict=True):
            self._check_root(n, bytes.fromhex(r))
        return ConsistencyProof(
            first=first,
            second=second,
            first_root=roots[0],
            second_root=roots[1],
            proof=[h.hex() for h in proof],
        )

    def verify(self, against: TreeHead | None = None) -> VerifyReport:
        """Re-derive every stored hash, root and index column; raise AuditTampered if one differs.

        A store with `check_integrity()` (SQLite) also has the rest of its file checked, so
        an index that no longer lists every row, which lookups and queries would trust, shows.
        The log must also still hold, unchanged, every record that its store's tree state
        (the frontier committed with each append), the last head of this `AuditLog` and
        `against` (a tree head published earlier) have seen, and the subtree hashes the
        store keeps for proofs must be those of its leaves. Records deleted from the end
        together with a tree state rewritten to match are caught only by the heads: keep
        signed heads. It reads the log a chunk at a time, in memory bounded by the chunk.
        """
        # Read before the scan, so that appends committed meanwhile only add leaves after it.
        claims: dict[int, list[_Claim]] = {}
        for claim in self._claims(against):
            claims.setdefault(claim.size, []).append(claim)
        frontier = CompactRange()
        subtrees = _StoredSubtrees(self._store)
        _check_claims(frontier, claims.get(0, ()))
        for leaf, columns in self._scan_rows(0):
            _check_leaf(leaf, columns, frontier, subtrees)
            if frontier.size in claims:
                _check_claims(frontier, claims[frontier.size])
        self._check_outside(frontier.size)
        check_integrity: Callable[[], None] | None = getattr(self._store, "check_integrity", None)
        if check_integrity is not None:  # the indexes lookups use list every row verified
            check_integrity()
        for size in sorted(claims):
            if frontier.size < size:
                _removed(frontier.size, f"{claims[size][0].source} records {size}")
        return VerifyReport(size=frontier.size, root=frontier.root().hex())

    def query(
        self,
        *,
        tenant: str | None = None,
        verdict: str | Enum | None = None,
        rule_id: str | None = None,
        policy: str | None = None,
        policy_version: int | str | None = None,
        actor: str | None = None,
        kind: str | None = None,
        since: datetime | str | None = None,
        until: datetime | str | None = None,
        shadow_disagrees: bool | None = None,
        record_type: str | None = None,
        ref_id: str | None = None,
        cursor: str | None = None,
        limit: int = 50,
    ) -> Page:
        """Return matching records newest first; `since` is inclusive, `until` exclusive."""
        if not 1 <= limit <= _MAX_PAGE:
            raise AuditError(f"limit must be between 1 and {_MAX_PAGE}, got {limit!r}")
        if rule_id is not None and " " in rule_id:
            # Stores keep a record's rule ids space-separated: "a b" would find a run of two.
            return Page(items=[], next_cursor=None)
        filters = RecordQuery(
            tenant=tenant,
            verdict=_text(verdict),
            rule_id=rule_id,
            policy=policy,
            policy_version=_text(policy_version),
            actor=actor,
            kind=kind,
            since=time_text(since),
            until=time_text(until),
            shadow_disagrees=shadow_disagrees,
            record_type=record_type,
            ref_id=ref_id,
        )
        before = None if cursor is None else _decode_cursor(cursor)
        leaves = self._store.query(filters, before=before, limit=limit + 1)
        more = len(leaves) > limit
        items = [_stored(leaf) for leaf in leaves[:limit]]
        return Page(items=items, next_cursor=_encode_cursor(items[-1].index) if more else None)

    def close(self) -> None:
        """Finish pending appends, then release the store."""
        self._committer.close()
        self._store.close()

    def _get_signer(self) -> Signer:
        with self._signer_lock:  # one key per log, even when two threads ask at once
            if self._signer is None:
                self._signer = self._load_signer()
            return self._signer

    def _load_signer(self) -> Signer:
        if self._key_path:
            return Signer.from_file(self._key_path, create=self._create_key)
        if not self._create_key:
            raise AuditError(
                "no signing key given: this log keeps none of its own, and a key made for "
                "this process would check no head its writers signed"
            )
        return Signer.ephemeral()

    def _index_of(self, record_id: str) -> int:
        index = self._store.find(record_id)
        if index is None:
            raise RecordNotFound(f"no audit record with id {record_id!r}")
        return index

    def _leaf_at(self, index: int) -> StoredLeaf:
        leaves = self._store.read(index, index + 1) if 0 <= index < _MAX_INDEX else []
        if not leaves:
            raise RecordNotFound(
                f"no audit record at index {index}; the log has {self._store.size()} records"
            )
        return leaves[0]

    def _check_root(self, size: int, root: bytes) -> None:
        """A root made from the stored subtrees must be the one stored with leaf size - 1."""
        if size == 0:
            return
        leaf = self._leaf_at(size - 1)
        if leaf.problem is not None:
            _tampered(leaf.index, leaf.id or None, leaf.problem)
        if leaf.root_after != root:
            _tampered(
                leaf.index,
                leaf.id,
                f"the root stored after it differs from the tree of size {size} that the "
                "stored leaf and subtree hashes make (verify names the first bad record)",
            )

    def _claims(self, against: TreeHead | None) -> list[_Claim]:
        claims: list[_Claim] = []
        read_frontier: Callable[[], CompactRange] | None = getattr(self._store, "frontier", None)
        if read_frontier is not None:
            state = read_frontier()
            claims.append(_Claim(state.size, state.root(), state.hashes, _STATE))
        with self._seen_lock:
            seen = self._seen
        if seen is not None:
            claims.append(_Claim(seen.size, seen.root(), seen.hashes, "a head this log made"))
        if against is not None:
            try:
                root = bytes.fromhex(against.root)
            except ValueError:
                raise AuditError(f"the tree head's root {against.root!r} is not hex") from None
            if against.size < 0:
                raise AuditError(f"the tree head's size must be >= 0, got {against.size!r}")
            # A head no log can have says nothing about this one: refused, not "tampered".
            if len(root) != len(EMPTY_ROOT):
                raise AuditError(
                    f"the tree head's root {against.root!r} is not a SHA-256 hash "
                    f"({2 * len(EMPTY_ROOT)} hex digits), so it is the head of no log"
                )
            if against.size == 0 and root != EMPTY_ROOT:
                raise AuditError(
                    f"the tree head has size 0 but root {against.root!r}, while every empty "
                    f"log has root {EMPTY_ROOT.hex()} (SHA-256 of nothing), so it is the head "
                    "of no log"
                )
            claims.append(_Claim(against.size, root, None, "the tree head given"))
        return claims

    def _checked_state(self) -> CompactRange:
        """The store's tree state, refused when it disagrees with the stored hashes."""
        read_frontier: Callable[[], CompactRange] | None = getattr(self._store, "frontier", None)
        if read_frontier is None:
            size = self._store.size()
            return CompactRange(size, from_store(self._store, partial(frontier_hashes, size)))
        state = read_frontier()  # read before the size, so appends meanwhile only add leaves
        size = self._store.size()
        if size < state.size:
            _removed(size, f"{_STATE} records {state.size}")
        if size > state.size:  # appends since the state was read, or leaves it never counted
            _check_counted(read_frontier(), size)
        ours = from_store(self._store, partial(frontier_hashes, state.size))
        if ours != state.hashes:
            start, end = _first_difference(state.size, ours, state.hashes)
            raise AuditTampered(
                f"audit log tampered at index {start}: the leaf hashes of records {start} to "
                f"{end - 1} do not hash to what {_STATE} records for size {state.size}, so a "
                "record was deleted, moved or rewritten, or the state was (verify names the "
                "first bad record)",
                index=start,
            )
        return state

    def _check_outside(self, size: int) -> None:
        """After a scan of `size` leaves: no leaf below index 0, none the tree state missed."""
        for leaf in self._store.read(-(2**63), 0):  # no append writes one; queries would list it
            _tampered(leaf.index, leaf.id or None, "a leaf index must be 0 or more")
        read_frontier: Callable[[], CompactRange] | None = getattr(self._store, "frontier", None)
        if read_frontier is not None:  # read after the scan: it counts every leaf scanned
            _check_counted(read_frontier(), size)

    def _scan_rows(self, start: int) -> Iterator[tuple[StoredLeaf, Columns | None]]:
        """Leaves in log order with their stored index columns, if the store can read them."""
        read_rows: Callable[[int, int], list[LeafRow]] | None = getattr(
            self._store, "read_rows", None
        )
        if read_rows is None:
            yield from ((leaf, None) for leaf in self._scan(start))
            return
        while chunk := read_rows(start, start + _READ_CHUNK):
            yield from chunk
            start = chunk[-1].leaf.index + 1

    def _scan(self, start: int) -> Iterator[StoredLeaf]:
        while start < _MAX_INDEX and (
            chunk := self._store.read(start, min(start + _READ_CHUNK, _MAX_INDEX))
        ):
            yield from chunk
            start = chunk[-1].index + 1


def _prepare(record: Mapping[str, Any] | BaseModel) -> CanonicalRecord:
    """Canonicalise a record before anything is written, giving a copy an id if it has none."""
    data = record
    if type(data) is not dict:
        if isinstance(data, BaseModel):
            data = data.model_dump(mode="json")
        elif isinstance(data, Mapping):
            data = dict(data)
        else:
            raise AuditError(
                f"an audit record must be a dict or a pydantic model, got {type(record).__name__}"
            )
    record_id = data.get("id")
    if record_id is None:
        record_id = uuid.uuid4().hex
        data = {**data, "id": record_id}
    if not isinstance(record_id, str) or not record_id:
        raise AuditError(f"an audit record 'id' must be a non-empty string, got {record_id!r}")
    payload, parsed = canonical_parsed(data)
    # Brackets counted first (fast): only a record with that many is measured.
    if payload.count(b"[") + payload.count(b"{") > _MAX_NESTING and _nesting(parsed) > (
        _MAX_NESTING
    ):
        raise AuditError(
            f"audit record {parsed['id']!r} is nested deeper than {_MAX_NESTING} levels, "
            "which readers of the log refuse (as tampered); nothing was written"
        )
    # Described as a reader of the stored bytes sees it (a str subclass id, say, reads back
    # as a plain str), so the store neither parses nor hashes it again.
    columns = index_columns(parsed)
    return CanonicalRecord.describe(payload, parsed["id"], leaf_hash(payload), columns)


def _nesting(value: object) -> int:
    """How many arrays and objects deep `value` goes (0 for a scalar), without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Iterable[object] = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in children)
    return deepest


@dataclass(frozen=True)
class _Claim:
    """A size the log reached and its root then (and frontier, when known), from `source`."""

    size: int
    root: bytes
    hashes: list[bytes] | None
    source: str


def _check_counted(state: CompactRange, size: int) -> None:
    """A tree state read after `size` leaves were must count them all."""
    if state.size < size:
        raise AuditTampered(
            f"audit log tampered at index {state.size}: {_STATE} counts {state.size} records "
            f"but the log holds {size}, so records from index {state.size} on were added "
            "outside an append, or the state was set back",
            index=state.size,
        )


def _check_leaf(
    leaf: StoredLeaf, columns: Columns | None, frontier: CompactRange, subtrees: _StoredSubtrees
) -> None:
    index = frontier.size
    if leaf.index < index:
        _tampered(leaf.index, leaf.id or None, "a second leaf has this index")
    if leaf.index != index:
        _tampered(index, None, f"it is missing (the next stored index is {leaf.index})")
    if leaf.problem is not None:
        _tampered(index, leaf.id or None, leaf.problem)
    computed = leaf_hash(leaf.record)
    if computed != leaf.leaf_hash:
        _tampered(index, leaf.id, "its bytes do not match its stored leaf hash")
    closed = None
    if (index + 1) & _BLOCK:
        frontier.append(computed)
    else:  # complete subtrees that the store keeps end here
        closed = frontier.append_closing(computed)
    if frontier.root() != leaf.root_after:
        _tampered(index, leaf.id, "the stored root after it differs from the re-derived tree")
    record = _record_of(leaf)
    if record.get("id") != leaf.id:
        _tampered(index, leaf.id, "its id column does not match the id inside the record")
    if canonical_json(_as_read(leaf, record)) != leaf.record:
        # Hashed as stored, but a checker hashes the record's canonical bytes: no proof checks.
        _tampered(index, leaf.id, _NOT_CANONICAL)
    if columns is not None:
        _check_columns(index, leaf.id, record, columns)
    if closed is not None:
        subtrees.check(index + 1, closed)


class _StoredSubtrees:
    """The subtree hashes a store keeps, read a window of leaves at a time, for `verify`."""

    def __init__(self, store: AuditStore) -> None:
        self._read: Callable[[list[tuple[int, int]]], dict[tuple[int, int], bytes]] | None = (
            getattr(store, "subtree_hashes", None)
        )
        self._window = -1
        self._stored: dict[tuple[int, int], bytes] = {}

    def check(self, size: int, closed: list[bytes]) -> None:
        """Compare the subtrees the leaf making `size` closed (lowest first) with the stored."""
        if self._read is None:
            return
        window = (size - 1) // _READ_CHUNK
        if window != self._window:
            self._window, low = window, window * _READ_CHUNK
            self._stored = self._read(_closing(low, low + _READ_CHUNK))
        for height in range(STORED_HEIGHT, len(closed)):
            stored = self._stored.get((height, (size >> height) - 1))
            # One not kept is hashed from the leaves when a proof needs it: slower, not wrong.
            if stored is not None and stored != closed[height]:
                start = size - (1 << height)
                _tampered(
                    start,
                    None,
                    f"the stored hash of the subtree of records {start} to {size - 1}, which "
                    "proofs are built from, differs from the re-derived tree",
                )


def _closing(low: int, high: int) -> list[tuple[int, int]]:
    """The (height, index) of the stored subtrees that leaves low..high - 1 close."""
    return [
        (height, m - 1)
        for height in range(STORED_HEIGHT, high.bit_length())
        for m in range((low >> height) + 1, (high >> height) + 1)
    ]


def _check_columns(index: int, record_id: str, record: Mapping[str, Any], stored: Columns) -> None:
    """The columns that queries filter on must be the ones the record itself gives."""
    expected = index_columns(record)
    if stored == expected:
        return
    for name, have, want in zip(Columns._fields, stored, expected, strict=True):
        if have != want and not (name == "time" and time_text(have) == want):
            # (older writers stored the record's time as written: '...+00:00', '...:52Z')
            _tampered(
                index, record_id, f"its {name} column holds {have!r} but the record gives {want!r}"
            )


def _check_claims(frontier: CompactRange, claims: Iterable[_Claim]) -> None:
    for claim in claims:
        if frontier.root() == claim.root:
            continue
        # Records outside the first subtree whose hash differs are as the claim has them.
        start, end = _first_difference(claim.size, frontier.hashes, claim.hashes)
        raise AuditTampered(
            f"audit log tampered at index {start}: records {start} to {end - 1} do not hash "
            f"to what {claim.source} records for size {claim.size}, so one of them was "
            "rewritten together with every hash after it",
            index=start,
        )


def _first_difference(size: int, ours: list[bytes], theirs: list[bytes] | None) -> tuple[int, int]:
    """The leaves under the first frontier subtree that differs (all of them, with no frontier)."""
    heights = [h for h in range(size.bit_length() - 1, -1, -1) if size >> h & 1]
    start = 0
    for height, mine, claimed in zip(heights, ours, theirs or [], strict=False):
        if mine != claimed:
            return start, start + (1 << height)
        start += 1 << height
    return 0, size


def _removed(index: int, evidence: str) -> NoReturn:
    raise AuditTampered(
        f"audit log tampered at index {index}: records from index {index} on were removed "
        f"({evidence})",
        index=index,
    )


def _tampered(index: int, record_id: str | None, reason: str) -> NoReturn:
    which = "" if record_id is None else f" (record id {record_id!r})"
    raise AuditTampered(f"audit log tampered at index {index}{which}: {reason}", index=index)


def _stored(leaf: StoredLeaf) -> StoredRecord:
    """A leaf as a reader gets it: never bytes edited under their stored leaf hash (one
    hash per record; an edit of the leaf hash too is caught by proofs, heads and verify)."""
    record = _record_of(leaf)
    if leaf_hash(leaf.record) != leaf.leaf_hash:
        _tampered(leaf.index, leaf.id, "its bytes do not match its stored leaf hash")
    record = _as_read(leaf, record)
    return StoredRecord(index=leaf.index, id=leaf.id, record=record, leaf_hash=leaf.leaf_hash.hex())


def _as_read(leaf: StoredLeaf, record: dict[str, Any]) -> dict[str, Any]:
    """The leaf's `record` with the integers past 2**53 - 1 it holds made the doubles they were.

    JCS writes a whole double of 2**53 or more (1e16) as its digits, which read back as an
    integer; RFC 8785 libraries (rfc8785, JavaScript's) refuse such an integer, so a reader
    could not recompute the leaf hash. As a double it canonicalises to the stored bytes.
    A record nested deeper than JSON is written here (the guard refuses such input) was
    never written by the guard: `AuditTampered`, never a reader's 500 or RecursionError."""
    try:
        orjson.dumps(record, option=orjson.OPT_STRICT_INTEGER)  # raises for such an integer
    except orjson.JSONEncodeError as exc:
        if "53-bit" not in str(exc):
            _tampered(leaf.index, leaf.id or None, "its record is nested deeper than records are")
        converted: dict[str, Any] = _as_doubles(record)
        return converted
    return record


def _record_of(leaf: StoredLeaf) -> dict[str, Any]:
    """The record a leaf holds; a leaf that cannot hold one (see `StoredLeaf.problem`) is
    `AuditTampered`, not a driver's TypeError or a JSON error."""
    if leaf.problem is not None:
        _tampered(leaf.index, leaf.id or None, leaf.problem)
    try:
        record = orjson.loads(leaf.record)
    except ValueError:
        record = None
    if not isinstance(record, dict):
        _tampered(leaf.index, leaf.id or None, "its record is not a JSON object")
    return record


def _whole(value: object, name: str) -> int:
    """An index or tree size as an int; a bool, float or str would pass or fail by accident."""
    if isinstance(value, bool) or not isinstance(value, SupportsIndex):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    return operator.index(value)


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _encode_cursor(before: int) -> str:
    return base64.urlsafe_b64encode(f"idx:{before}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except ValueError:
        text = ""
    prefix, _, number = text.partition(":")
    if (
        prefix != "idx"
        or not number.isdigit()
        or not number.isascii()
        or len(number) > 19  # int() of a long run of digits is slow, and too large anyway
        or int(number) > _MAX_INDEX
    ):
        raise AuditError(
            f"invalid cursor {cursor!r}: pass the next_cursor of a previous page, "
            "or None for the first page"
        )
    return int(number)


def _cause(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _audit_error(exc: Exception) -> Exception:
    """A store's error as the `AuditError` its protocol promises (a custom store may raise
    OSError, say), so callers catching GuardError see that nothing was recorded."""
    if isinstance(exc, GuardError):
        return exc
    error = AuditError(f"the audit store could not append ({_cause(exc)}); nothing was recorded")
    error.__cause__ = exc
    return error


def _fail(batch: list[_Request], exc: BaseException) -> None:
    for request in batch:
        if not request.future.done():
            request.future.set_exception(exc)


@dataclass
class _Request:
    records: Sequence[bytes]
    future: Future[list[int]] = field(default_factory=Future)


def _results(indexes: list[int], prepared: list[CanonicalRecord]) -> list[AppendResult]:
    return [  # built from values made here, so validation is skipped (hot path)
        fast_model(AppendResult, {"index": i, "id": p.id, "leaf_hash": p.leaf_hash.hex()})
        for i, p in zip(indexes, prepared, strict=True)
    ]


class _GroupCommitter:
    """One writer thread that drains queued appends and commits them in shared transactions."""

    def __init__(self, store: AuditStore) -> None:
        self._store = store
        self._after_commit: Callable[[], None] | None = getattr(store, "after_commit", None)
        self._queue: queue.SimpleQueue[_Request | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._stopped: AuditError | None = None  # why the writer thread died, if it did
        self._pid = os.getpid()  # a forked child has neither the writer thread nor the lock

    def submit(self, records: Sequence[bytes]) -> Future[list[int]]:
        """Queue records; the future gives their indexes once they are committed."""
        if os.getpid() != self._pid:  # else it would wait for ever on a thread that is gone
            raise AuditError(
                f"this audit log was opened in process {self._pid} and is used in process "
                f"{os.getpid()}, forked from it: its writer did not survive the fork and "
                "nothing was recorded; open the log again in the child"
            )
        request = _Request(records)
        with self._lock:
            if self._stopped is not None:
                raise self._stopped
            if self._closed:
                raise AuditError("the audit log is closed")
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="guard-audit", daemon=True)
                self._thread.start()
            self._queue.put(request)
        return request.future

    def close(self) -> None:
        """Commit what is queued, then stop the writer thread."""
        if os.getpid() != self._pid:  # a forked child: the thread and queue are the parent's
            return
        with self._lock:
            self._closed, thread = True, self._thread
            self._queue.put(None)
        if thread is not None:
            thread.join()

    def _run(self) -> None:
        batch: list[_Request] = []
        try:
            while True:
                batch, stop = self._drain()
                try:
                    self._commit(batch)
                    if self._after_commit is not None:  # upkeep, once callers have their answer
                        self._after_commit()
                except Exception as exc:  # a bug below must neither strand callers nor stop us
                    _fail(batch, exc)
                if stop:
                    return
        except BaseException as exc:  # the thread dies (a store raised SystemExit, say):
            # every caller waiting or yet to come gets an error, none waits forever.
            stopped = AuditError(
                f"the audit log's writer thread stopped ({_cause(exc)}); nothing more is "
                "appended: reopen the log"
            )
            with self._lock:
                self._stopped = stopped
                while not self._queue.empty():
                    queued = self._queue.get()
                    if queued is not None:
                        batch.append(queued)
            _fail(batch, stopped)  # the thread ends here; the error names why

    def _drain(self) -> tuple[list[_Request], bool]:
        batch: list[_Request] = []
        count = 0
        request = self._queue.get()
        while request is not None:
            batch.append(request)
            count += len(request.records)
            if count >= _MAX_BATCH or self._queue.empty():
                return batch, False
            request = self._queue.get()
        return batch, True

    def _commit(self, batch: list[_Request]) -> None:
        if not batch:
            return
        try:
            indexes = self._store.append([r for request in batch for r in request.records])
        except Exception as exc:
            if len(batch) == 1:
                batch[0].future.set_exception(_audit_error(exc))
            else:
                for request in batch:  # retry alone, so one bad record fails only its caller
                    self._commit([request])
            return
        offset = 0
        for request in batch:
            request.future.set_result(indexes[offset : offset + len(request.records)])
            offset += len(request.records)
