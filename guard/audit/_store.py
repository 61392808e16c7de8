"""The `AuditStore` extension point, the pieces every store shares, and the in-memory store."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any, NamedTuple, Protocol, runtime_checkable

import orjson

from guard._exceptions import AuditError, AuditTampered
from guard.audit._merkle import STORED_HEIGHT, CompactRange, leaf_hash

__all__ = [
    "AuditStore",
    "CanonicalRecord",
    "Columns",
    "LeafRow",
    "MemoryStore",
    "RecordQuery",
    "StoredLeaf",
    "Subtree",
    "build_rows",
    "duplicate_id",
    "index_columns",
    "iter_rows",
    "matches",
    "redacted_url",
    "rule_pattern",
    "sendable",
    "stored_blob",
    "stored_frontier",
    "stored_leaf",
    "stored_leaf_hash",
    "stored_subtree_count",
    "subtrees_of",
]

Subtree = tuple[int, int, bytes]
"""A complete subtree a store keeps: (height, index, hash), covering leaves
index * 2**height to (index + 1) * 2**height - 1."""
_BLOCK = (1 << STORED_HEIGHT) - 1  # a leaf closes stored subtrees when its size & _BLOCK == 0


@dataclass(frozen=True, slots=True)
class StoredLeaf:
    """One leaf as a store holds it: position, record id, canonical bytes and hashes.

    `problem` says why the row cannot be a leaf as written (a column edited to the wrong
    type, say TEXT where bytes belong); such a leaf has empty bytes in that column, and
    `AuditLog` reports it as tampered rather than reading it.
    """

    index: int
    id: str
    record: bytes
    leaf_hash: bytes
    root_after: bytes
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class RecordQuery:
    """Filters for `AuditStore.query`; None means "any", and all given filters must hold.

    `rule_id` matches records where that rule hit; `since` is inclusive and `until`
    exclusive, both compared with the record's ISO-8601 `time` as text.
    """

    tenant: str | None = None
    verdict: str | None = None
    rule_id: str | None = None
    policy: str | None = None
    policy_version: str | None = None
    actor: str | None = None
    kind: str | None = None
    since: str | None = None
    until: str | None = None
    shadow_disagrees: bool | None = None
    record_type: str | None = None
    ref_id: str | None = None

    def given(self) -> dict[str, str | bool]:
        """The filters that are set, by name."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return {name: value for name, value in values.items() if value is not None}


class Columns(NamedTuple):
    """The queryable fields extracted from a record, in the order stores write them."""

    time: str | None
    tenant: str | None
    actor: str | None
    policy: str | None
    policy_version: str | None
    kind: str | None
    verdict: str | None
    mode: str | None
    rule_ids: str | None
    shadow_disagrees: int | None
    record_type: str | None
    ref_id: str | None


class LeafRow(NamedTuple):
    """A leaf ready to be written: its stored form plus the columns to index it by."""

    leaf: StoredLeaf
    columns: Columns


@runtime_checkable
class AuditStore(Protocol):
    """Durable, append-only storage for the audit log's leaves.

    `append` is the one method that must be written with care: in one transaction it
    reads the current size and `CompactRange` frontier *from the store* (never from
    process memory, so several processes may share a log), calls `build_rows` to hash
    the records and compute each leaf's `root_after`, writes the rows and the new
    frontier, commits, and only then returns. Record ids are unique; a duplicate
    fails the whole call with `AuditError` and writes nothing. `AuditLog` passes
    `CanonicalRecord`s, a bytes subclass that `build_rows` reads without parsing; write
    the plain bytes of `LeafRow.leaf.record`, never the records themselves.

    To serve proofs without reading every leaf hash, a store also keeps the hash of each
    complete subtree of height `STORED_HEIGHT` or more: `iter_rows` collects the ones an
    append closes (a few per 2**8 leaves), which `append` writes in the same transaction,
    and the optional `subtree_hashes(wanted)` reads them back. `AuditLog` computes any it
    does not find from leaf hash ranges, so a store without them is correct, only slower.

    A store may also define `after_commit()`, which `AuditLog` calls from its writer
    thread after each commit's callers have their answer: the place for upkeep that need
    not delay them (the SQLite store checkpoints its WAL there). Two more optional
    methods let `AuditLog.verify` check more than the leaves: `frontier()`, the
    `CompactRange` committed with the last append (so a deleted tail shows), and
    `read_rows(start, end)`, `read` plus each leaf's index columns as stored (so an
    edited column, which `query` would trust, shows). The stores here define all three.
    A store may define `check_integrity()` too, raising `AuditError` when its database
    is damaged beyond the rows (an index missing a row), which `verify` calls last.
    A row whose values have the wrong type is returned with `StoredLeaf.problem` set
    (`stored_leaf` does this), not raised as a driver's TypeError.

    The other methods read. They return rows as stored, never renumbered or repaired,
    because `AuditLog.verify` relies on seeing gaps and edits; `query` must mean what
    `matches` means (the memory store is the executable reference). Errors are
    `AuditError`, never a driver's own exception.
    """

    def append(self, records: list[bytes]) -> list[int]:
        """Commit canonical JSON records as new leaves; return their indexes, in order."""
        ...

    def size(self) -> int:
        """Return the number of committed leaves."""
        ...

    def read(self, start: int, end: int) -> list[StoredLeaf]:
        """Return leaves start <= index < end in index order (fewer if the log is shorter)."""
        ...

    def leaf_hashes(self, start: int, end: int) -> list[bytes]:
        """Return the stored leaf hashes for start <= index < end in index order."""
        ...

    def find(self, record_id: str) -> int | None:
        """Return the index of the record with this id, or None."""
        ...

    def query(self, query: RecordQuery, *, before: int | None, limit: int) -> list[StoredLeaf]:
        """Return up to `limit` matching leaves with index < `before`, newest first."""
        ...

    def close(self) -> None:
        """Release connections; the store is unusable afterwards."""
        ...


class CanonicalRecord(bytes):
    """A record's canonical JSON bytes that carry its id, leaf hash and index columns.

    `AuditLog` works these out when it canonicalises a record and passes the result to
    `AuditStore.append`, so `build_rows` neither parses nor hashes a record a second
    time. Stores may be given plain bytes too; those are parsed.
    """

    id: str
    leaf_hash: bytes
    columns: Columns

    @classmethod
    def describe(
        cls, data: bytes, record_id: str, leaf: bytes, columns: Columns
    ) -> CanonicalRecord:
        """Attach what `build_rows` would derive from `data`; the caller vouches for it."""
        made = cls(data)
        made.id, made.leaf_hash, made.columns = record_id, leaf, columns
        return made


def build_rows(
    records: list[bytes], frontier: CompactRange, subtrees: list[Subtree] | None = None
) -> list[LeafRow]:
    """Hash records as the leaves after `frontier`, advancing the frontier in place; the
    stored subtrees they close are added to `subtrees`, if given."""
    return list(iter_rows(records, frontier, subtrees))


def iter_rows(
    records: Iterable[bytes], frontier: CompactRange, subtrees: list[Subtree] | None = None
) -> Iterator[LeafRow]:
    """`build_rows` one row at a time: a store can send each while the next is hashed."""
    for data in records:
        index = frontier.size
        if type(data) is CanonicalRecord:
            record_id, leaf, columns = data.id, data.leaf_hash, data.columns
            data = bytes(data)  # stored and handed to drivers as plain bytes
        else:
            record = _parse(data)
            record_id, leaf = _record_id(record, index), leaf_hash(data)
            columns = index_columns(record)
        if subtrees is not None and not (index + 1) & _BLOCK:
            subtrees.extend(_stored(index + 1, frontier.append_closing(leaf)))
        else:
            frontier.append(leaf)
        yield LeafRow(StoredLeaf(index, record_id, data, leaf, frontier.root()), columns)


def subtrees_of(leaf_hashes: Iterable[bytes]) -> Iterator[Subtree]:
    """The stored subtrees of a log with these leaf hashes, in the order appends close them."""
    frontier = CompactRange()
    for leaf in leaf_hashes:
        if (frontier.size + 1) & _BLOCK:
            frontier.append(leaf)
        else:
            yield from _stored(frontier.size + 1, frontier.append_closing(leaf))


def stored_subtree_count(size: int) -> int:
    """How many subtrees a store keeps for a log of `size` leaves."""
    return sum(size >> height for height in range(STORED_HEIGHT, size.bit_length()))


def _stored(size: int, closed: list[bytes]) -> list[Subtree]:
    """The subtrees a store keeps among those the leaf making `size` closed (lowest first)."""
    return [(h, (size >> h) - 1, closed[h]) for h in range(STORED_HEIGHT, len(closed))]


def sendable(values: Iterable[object], *, nul: bool = True) -> bool:
    """Whether a driver can bind every string among `values` (UTF-8, and NUL if `nul`).

    Text that is not UTF-8 (a lone surrogate, as argv gives for bytes that are not UTF-8)
    or holds NUL where the database refuses it cannot equal anything stored: a lookup with
    it finds nothing, rather than failing in the driver.
    """
    for value in values:
        if isinstance(value, str):
            if not nul and "\x00" in value:
                return False
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return False
    return True


_PASSWORD = re.compile(r"(?P<user>//[^/?#@:]*:)[^/?#]*@|(?P<key>[?&](?:ssl)?password=)[^&#]*", re.I)


def redacted_url(url: str) -> str:
    """The URL as an error may show it: a password, in the authority or the query, is ***."""
    return _PASSWORD.sub(lambda m: f"{m['user'] or m['key']}***" + ("@" if m["user"] else ""), url)


def stored_leaf(
    index: int, record_id: object, record: object, leaf: object, root_after: object
) -> StoredLeaf:
    """A `StoredLeaf` from one row as a driver returned it, whatever the types it holds.

    Stores write bytes and a text id; a row edited by hand may hold TEXT, a number or
    NULL instead (SQLite keeps any type in any column). That is kept as `problem`, for
    `AuditLog` to report as tampering, instead of failing in `bytes()`.
    """
    if type(record) is bytes and type(leaf) is bytes and type(root_after) is bytes:
        if type(record_id) is str:  # as written: the path every read takes
            return StoredLeaf(int(index), record_id, record, leaf, root_after)
    problems: list[str] = []
    blobs: list[bytes] = []
    for name, value in (("record", record), ("leaf_hash", leaf), ("root_after", root_after)):
        if isinstance(value, bytes | bytearray | memoryview):
            blobs.append(bytes(value))
        else:
            blobs.append(b"")
            problems.append(f"its {name} column holds {_sql_kind(value)}, not bytes")
    if isinstance(record_id, str):
        text_id = record_id
    else:
        problems.append(f"its id column holds {_sql_kind(record_id)}, not text")
        text_id = ""
    problem = "; ".join(problems) or None
    return StoredLeaf(int(index), text_id, blobs[0], blobs[1], blobs[2], problem)


def stored_blob(value: object, what: str) -> bytes:
    """A bytes column's value (a hash, a frontier), or `AuditError` naming what it holds."""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    raise AuditError(f"{what} holds {_sql_kind(value)}, not bytes")


def stored_frontier(log: str, size: object, stored: object) -> CompactRange:
    """The tree state's frontier (size and subtree hashes), checked against its size column;
    `log` names the log in errors."""
    inconsistent = f"audit log {log} is inconsistent: its tree state"
    data = stored_blob(stored, f"{inconsistent} frontier")
    try:
        frontier = CompactRange.from_bytes(data)
    except AuditError as exc:  # bytes written by hand: say whose they are
        raise AuditError(f"{inconsistent} frontier cannot be read ({exc})") from None
    if size != frontier.size:
        raise AuditError(
            f"{inconsistent} says size {size!r} but holds a frontier of size {frontier.size}"
        )
    return frontier


def stored_leaf_hash(index: int, value: object) -> bytes:
    """One leaf_hash column's value, or `AuditTampered` at that leaf if it is not bytes."""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    raise AuditTampered(
        f"audit log tampered at index {index}: its leaf_hash column holds "
        f"{_sql_kind(value)}, not bytes",
        index=index,
    )


def _sql_kind(value: object) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, str):
        return "text"
    if isinstance(value, bool | int):
        return "an integer"
    if isinstance(value, float):
        return "a real number"
    if isinstance(value, bytes | bytearray | memoryview):
        return "bytes"
    return f"a {type(value).__name__}"


def index_columns(record: Mapping[str, Any]) -> Columns:
    """Extract the queryable columns; fields a record type does not have are None."""
    get = record.get
    return Columns(  # positional, in field order: faster than by keyword on the hot path
        time_text(get("time")),
        _text(get("tenant")),
        _text(get("actor")),
        _text(get("policy")),
        _text(get("policy_version")),
        _text(get("kind")),
        _text(get("verdict")),
        _text(get("mode")),
        _rule_ids(record),
        _shadow_disagrees(get("shadow")),
        _text(get("schema_version")),
        _text(get("decision_id", get("ref_id"))),
    )


def matches(columns: Columns, filters: Mapping[str, str | bool]) -> bool:
    """Apply `RecordQuery.given()` to one leaf's columns, meaning what the SQL stores mean."""
    return all(_matches_one(columns, name, wanted) for name, wanted in filters.items())


def duplicate_id(ids: Iterable[str], find: Callable[[str], int | None]) -> str | None:
    """Return the first id that repeats within `ids` or is already stored, or None."""
    seen: set[str] = set()
    for record_id in ids:
        if record_id in seen or find(record_id) is not None:
            return record_id
        seen.add(record_id)
    return None


def rule_pattern(rule_id: str) -> str:
    """A LIKE pattern (escape character backslash) matching `rule_ids` that contain `rule_id`."""
    escaped = rule_id.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"% {escaped} %"


def _matches_one(columns: Columns, name: str, wanted: str | bool) -> bool:
    if name == "rule_id":
        return columns.rule_ids is not None and f" {wanted} " in columns.rule_ids
    if name == "since":
        return columns.time is not None and columns.time >= str(wanted)
    if name == "until":
        return columns.time is not None and columns.time < str(wanted)
    if name == "shadow_disagrees":
        return columns.shadow_disagrees == int(wanted)
    return bool(getattr(columns, name) == wanted)


def _parse(data: bytes) -> Mapping[str, Any]:
    try:
        record = orjson.loads(data)
    except ValueError as exc:
        raise AuditError(f"audit record is not JSON: {exc}") from exc
    if not isinstance(record, dict):
        raise AuditError(f"an audit record must be a JSON object, got {type(record).__name__}")
    return record


def _record_id(record: Mapping[str, Any], index: int) -> str:
    record_id = record.get("id")
    if not isinstance(record_id, str) or not record_id:
        raise AuditError(f"audit record {index} needs a non-empty string 'id', got {record_id!r}")
    return record_id


def time_text(value: object) -> str | None:
    """A time as the stores index and compare it: UTC to the microsecond with `Z`
    ('2026-11-26T10:54:52.000000Z'), so that text order is time order ('...:52Z' sorted
    after '...:52.5Z'). A time without an offset is UTC; text that is not an ISO 8601 time
    is kept as it is."""
    if isinstance(value, str):
        # The hot paths: how records write their time, in UTC to the microsecond.
        if len(value) == 32 and value[19] == "." and value.endswith("+00:00"):
            return value[:26] + "Z"
        if len(value) == 27 and value[19] == "." and value[26] == "Z":
            return value
        try:
            when = datetime.fromisoformat(value)
        except ValueError:
            return value
    elif isinstance(value, datetime):
        when = value
    else:
        return _text(value)
    if when.tzinfo is not None:
        when = when.astimezone(UTC).replace(tzinfo=None)
    return when.isoformat(timespec="microseconds") + "Z"


def _text(value: object) -> str | None:
    kind = type(value)
    if kind is str or value is None:
        return value  # type: ignore[return-value]
    if kind is int:
        return str(value)
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _rule_ids(record: Mapping[str, Any]) -> str | None:
    ids: list[str] = []
    for hit in _dicts(record.get("hits")):
        ids.append(str(hit.get("rule_id", "")))
    for item in _dicts(record.get("items")):
        rule_ids = item.get("rule_ids")
        if isinstance(rule_ids, list):
            ids.extend(str(r) for r in rule_ids)
    unique = [i for i in dict.fromkeys(ids) if i]
    return f" {' '.join(unique)} " if unique else None


def _dicts(value: object) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _shadow_disagrees(shadow: object) -> int | None:
    if isinstance(shadow, dict) and isinstance(shadow.get("agrees"), bool):
        return 0 if shadow["agrees"] else 1
    return None


class MemoryStore:
    """An in-process store (URL `memory://`) for tests and throwaway guards; lost on exit."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._leaves: list[StoredLeaf] = []
        self._columns: list[Columns] = []
        self._ids: dict[str, int] = {}
        self._frontier = CompactRange()
        self._subtrees: dict[tuple[int, int], bytes] = {}

    def append(self, records: list[bytes]) -> list[int]:
        """Commit records atomically: either all become leaves or none do."""
        with self._lock:
            frontier = CompactRange(self._frontier.size, self._frontier.hashes)
            subtrees: list[Subtree] = []
            rows = build_rows(records, frontier, subtrees)
            self._check_unique([row.leaf.id for row in rows])
            self._subtrees.update(((h, i), node) for h, i, node in subtrees)
            for row in rows:
                self._ids[row.leaf.id] = row.leaf.index
                self._leaves.append(row.leaf)
                self._columns.append(row.columns)
            self._frontier = frontier
            return [row.leaf.index for row in rows]

    def size(self) -> int:
        """Return the number of leaves."""
        return len(self._leaves)

    def read(self, start: int, end: int) -> list[StoredLeaf]:
        """Return leaves start <= index < end."""
        return self._leaves[max(start, 0) : max(end, 0)]

    def leaf_hashes(self, start: int, end: int) -> list[bytes]:
        """Return leaf hashes start <= index < end."""
        return [leaf.leaf_hash for leaf in self.read(start, end)]

    def find(self, record_id: str) -> int | None:
        """Return the index of a record id, or None."""
        return self._ids.get(record_id)

    def query(self, query: RecordQuery, *, before: int | None, limit: int) -> list[StoredLeaf]:
        """Scan newest first for matching leaves."""
        end = len(self._leaves) if before is None else min(before, len(self._leaves))
        filters = query.given()
        found: list[StoredLeaf] = []
        for index in range(end - 1, -1, -1):
            if len(found) == limit:
                break
            if matches(self._columns[index], filters):
                found.append(self._leaves[index])
        return found

    def read_rows(self, start: int, end: int) -> list[LeafRow]:
        """Return leaves start <= index < end with their index columns as stored."""
        lo, hi = max(start, 0), max(end, 0)
        with self._lock:  # leaves and columns grow one after the other
            leaves, columns = self._leaves[lo:hi], self._columns[lo:hi]
        return [LeafRow(leaf, cols) for leaf, cols in zip(leaves, columns, strict=True)]

    def frontier(self) -> CompactRange:
        """Return the size and frontier committed with the last append."""
        with self._lock:
            return CompactRange(self._frontier.size, self._frontier.hashes)

    def subtree_hashes(self, wanted: Iterable[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        """Return the stored hashes of these (height, index) subtrees, those there are."""
        return {key: self._subtrees[key] for key in wanted if key in self._subtrees}

    def close(self) -> None:
        """Nothing to release."""

    def _check_unique(self, ids: list[str]) -> None:
        duplicate = duplicate_id(ids, self._ids.get)
        if duplicate is not None:
            raise AuditError(f"duplicate audit record id {duplicate!r}")
