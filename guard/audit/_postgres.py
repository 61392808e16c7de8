"""The PostgreSQL store: several processes append to one Merkle log, sequenced in the database."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from guard._exceptions import AuditError, DependencyMissing
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
    redacted_url,
    rule_pattern,
    sendable,
    stored_frontier,
    stored_leaf,
    stored_leaf_hash,
)

try:
    import psycopg
    import sqlalchemy as sa
    from alembic import command
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    raise DependencyMissing(
        f"the PostgreSQL audit store needs sqlalchemy, psycopg and alembic ({exc.name} is "
        "missing): pip install 'agent-guard[service]'"
    ) from exc

__all__ = ["PostgresStore"]

_DRIVERS = ("postgresql", "postgresql+psycopg", "postgres")  # postgres:// as Heroku writes it
_MIGRATIONS = Path(__file__).with_name("migrations")
VERSION_TABLE = "guard_alembic_version"  # where migrations/env.py keeps the schema revision
_SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")  # the same quoted or not

# The statements' view of the tables that migrations/versions/ creates.
_METADATA = sa.MetaData()
_TEXT_COLUMNS = (
    "time",
    "tenant",
    "actor",
    "policy",
    "policy_version",
    "kind",
    "verdict",
    "mode",
    "rule_ids",
)
_LEAVES = sa.Table(
    "guard_audit_leaves",
    _METADATA,
    sa.Column("idx", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("id", sa.Text, nullable=False),
    sa.Column("record", sa.LargeBinary, nullable=False),
    sa.Column("leaf_hash", sa.LargeBinary, nullable=False),
    sa.Column("root_after", sa.LargeBinary, nullable=False),
    *(sa.Column(name, sa.Text) for name in _TEXT_COLUMNS),
    sa.Column("shadow_disagrees", sa.SmallInteger),
    sa.Column("record_type", sa.Text),
    sa.Column("ref_id", sa.Text),
)
_STATE = sa.Table(
    "guard_audit_tree_state",
    _METADATA,
    sa.Column("id", sa.SmallInteger, primary_key=True, autoincrement=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("frontier", sa.LargeBinary, nullable=False),
)
_SUBTREES = sa.Table(
    "guard_audit_subtrees",
    _METADATA,
    sa.Column("height", sa.SmallInteger, primary_key=True, autoincrement=False),
    sa.Column("idx", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("hash", sa.LargeBinary, nullable=False),
)
_C = _LEAVES.c
_LEAF_COLUMNS = (_C.idx, _C.id, _C.record, _C.leaf_hash, _C.root_after)
_INDEX_COLUMNS = tuple(_C[name] for name in Columns._fields)
_STATE_ROW = sa.select(_STATE.c.size, _STATE.c.frontier).where(_STATE.c.id == 0)
_LOCK_STATE = sa.select(_STATE.c.size, _STATE.c.frontier).where(_STATE.c.id == 0).with_for_update()
_COPY = "COPY guard_audit_leaves ({}) FROM STDIN (FORMAT BINARY)".format(
    ", ".join(column.name for column in _LEAVES.columns)
)
_COPY_TYPES = [
    *("int8", "text", "bytea", "bytea", "bytea"),
    *("text" for _ in _TEXT_COLUMNS),
    *("int2", "text", "text"),
]
_SAVE_STATE = (
    _STATE.update()
    .where(_STATE.c.id == 0)
    .values(size=sa.bindparam("new_size"), frontier=sa.bindparam("new_frontier"))
)
_SIZE = sa.select(sa.func.coalesce(sa.func.max(_C.idx) + 1, 0))


class PostgresStore:
    """Leaves in PostgreSQL (URL `postgresql://user@host/db` or `postgresql+psycopg://...`).

    Any number of processes may append to one database: each append locks the single
    `guard_audit_tree_state` row (SELECT ... FOR UPDATE), reads the size and frontier
    there, writes its leaves and the new frontier, and commits with synchronous_commit
    on before returning. The tables, prefixed `guard_`, are created and upgraded by the
    Alembic migrations shipped in this package when the store opens; `schema` puts them
    in that schema (created if missing) instead of the first one on the search path.
    With `create=False` a database (or schema) without the tables is an `AuditError`
    rather than a new, empty log, as for the SQLite store; one created by a newer
    revision than this code knows is refused either way, and left as it is.
    """

    def __init__(
        self, url: str, *, schema: str | None = None, pool_size: int = 5, create: bool = True
    ) -> None:
        self._create = create
        parsed = _engine_url(url)
        self.url = redacted_url(parsed.render_as_string(hide_password=True))
        self.schema = _check_schema(schema)
        self._engine = sa.create_engine(
            parsed,
            pool_size=pool_size,
            pool_pre_ping=True,  # a restarted server costs a reconnect, not a failed append
            connect_args=_connect_args(parsed, self.schema),
        )
        # Reads are single statements: without BEGIN and ROLLBACK they take one round trip.
        self._reader = self._engine.execution_options(isolation_level="AUTOCOMMIT")
        try:
            self._migrate()
        except AuditError:
            self._engine.dispose()
            raise

    def append(self, records: list[bytes]) -> list[int]:
        """Commit records as new leaves in one transaction and return their indexes."""
        if not records:
            return []
        try:
            with self._engine.begin() as conn:
                first = self._append_in_transaction(conn, records)
        except (sa.exc.IntegrityError, psycopg.errors.IntegrityError) as exc:
            raise self._integrity_error(records, exc) from exc
        except (sa.exc.OperationalError, psycopg.OperationalError) as exc:
            # The connection failed, perhaps after the server committed (the COMMIT's
            # answer lost): then the records are in the log, as they are, and appended.
            rows = build_rows(records, CompactRange())
            try:
                committed = _committed(rows, self._stored_hashes([r.leaf.id for r in rows]))
            except AuditError as check:
                raise AuditError(
                    f"could not append to the audit log {self.url!r}: {_reason(exc)}; if that "
                    "happened during the commit the records may be committed, and the log "
                    f"could not check: {check}"
                ) from exc
            if committed is None:
                raise AuditError(
                    f"could not append to the audit log {self.url!r}: {_reason(exc)}"
                ) from exc
            return committed
        except (sa.exc.SQLAlchemyError, psycopg.Error) as exc:
            raise (
                _nul_error(records)
                or AuditError(f"could not append to the audit log {self.url!r}: {_reason(exc)}")
            ) from exc
        return list(range(first, first + len(records)))

    def size(self) -> int:
        """Return the number of committed leaves."""
        return int(self._fetch(_SIZE)[0][0])

    def read(self, start: int, end: int) -> list[StoredLeaf]:
        """Return leaves start <= index < end in index order."""
        stmt = sa.select(*_LEAF_COLUMNS).where(_C.idx >= start, _C.idx < end).order_by(_C.idx)
        return [_leaf(row) for row in self._fetch(stmt)]

    def leaf_hashes(self, start: int, end: int) -> list[bytes]:
        """Return stored leaf hashes start <= index < end in index order."""
        stmt = sa.select(_C.idx, _C.leaf_hash).where(_C.idx >= start, _C.idx < end).order_by(_C.idx)
        rows: list[tuple[Any, ...]] = [tuple(row) for row in self._fetch(stmt)]
        return [stored_leaf_hash(int(index), stored) for index, stored in rows]

    def read_rows(self, start: int, end: int) -> list[LeafRow]:
        """Return leaves start <= index < end with their index columns as stored."""
        stmt = (
            sa.select(*_LEAF_COLUMNS, *_INDEX_COLUMNS)
            .where(_C.idx >= start, _C.idx < end)
            .order_by(_C.idx)
        )
        rows = [tuple(row) for row in self._fetch(stmt)]
        return [LeafRow(_leaf(row[:5]), Columns(*row[5:])) for row in rows]

    def frontier(self) -> CompactRange:
        """Return the size and frontier committed with the last append."""
        rows = self._fetch(_STATE_ROW)
        if not rows:
            raise AuditError(f"audit log {self.url!r} is inconsistent: its tree state row is gone")
        size, stored = tuple(rows[0])
        return stored_frontier(repr(self.url), size, stored)

    def subtree_hashes(self, wanted: Iterable[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        """Return the stored hashes of these (height, index) subtrees, those there are."""
        keys = list(wanted)
        if not keys:
            return {}
        columns = _SUBTREES.c
        stmt = sa.select(columns.height, columns.idx, columns.hash).where(
            sa.tuple_(columns.height, columns.idx).in_(keys)
        )
        found: dict[tuple[int, int], bytes] = {}
        for height, index, stored in (tuple(row) for row in self._fetch(stmt)):
            found[int(height), int(index)] = bytes(stored)
        return found

    def find(self, record_id: str) -> int | None:
        """Return the index of the record with this id, or None."""
        if not sendable([record_id], nul=False):  # PostgreSQL text holds no NUL
            return None
        rows = self._fetch(sa.select(_C.idx).where(_C.id == record_id))
        return int(rows[0][0]) if rows else None

    def query(self, query: RecordQuery, *, before: int | None, limit: int) -> list[StoredLeaf]:
        """Return up to `limit` matching leaves with index < `before`, newest first."""
        given = query.given()
        if not sendable(given.values(), nul=False):
            return []
        conditions = [_condition(name, value) for name, value in given.items()]
        if before is not None:
            conditions.append(_C.idx < before)
        stmt = sa.select(*_LEAF_COLUMNS).where(*conditions).order_by(_C.idx.desc()).limit(limit)
        return [_leaf(row) for row in self._fetch(stmt)]

    def close(self) -> None:
        """Close every pooled connection."""
        self._engine.dispose()

    def _migrate(self) -> None:
        config = Config()
        config.set_main_option("script_location", str(_MIGRATIONS).replace("%", "%%"))
        try:
            with self._engine.begin() as conn:
                # Sidecars starting together take turns; the last ones find the schema current.
                conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_lock_key(self.schema))))
                if self.schema is not None:
                    conn.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"'))
                self._check_revision(conn, ScriptDirectory.from_config(config))
                config.attributes["connection"] = conn
                command.upgrade(config, "head")
                self._check_tables(conn)
        except (sa.exc.SQLAlchemyError, CommandError) as exc:
            raise AuditError(f"could not open the audit log {self.url!r}: {_reason(exc)}") from exc

    def _check_revision(self, conn: sa.Connection, script: ScriptDirectory) -> None:
        """Refuse a schema this code did not make (or, for a reader, none) before upgrading."""
        context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
        current = context.get_current_heads()
        where = f"{self.url!r}" + (f" (schema {self.schema!r})" if self.schema else "")
        if not current and not self._create:
            raise AuditError(
                f"no audit log at {where}: it has no {VERSION_TABLE} table; nothing was created"
            )
        known = {revision.revision for revision in script.walk_revisions()}
        unknown = [revision for revision in current if revision not in known]
        if unknown:
            raise AuditError(
                f"the audit log at {where} has schema revision {', '.join(unknown)}, newer "
                f"than this version of agent-guard knows (up to {script.get_current_head()}): "
                "upgrade agent-guard to use it; nothing was changed"
            )

    def _check_tables(self, conn: sa.Connection) -> None:
        """Refuse a schema whose revision is current but whose audit tables were dropped:
        it would fail at the first read or append with the server's own words."""
        inspector = sa.inspect(conn)
        for table in (_LEAVES, _STATE):
            if not inspector.has_table(table.name, schema=self.schema):
                where = f"{self.url!r}" + (f" (schema {self.schema!r})" if self.schema else "")
                raise AuditError(
                    f"the database at {where} is not an audit log: it has no {table.name} "
                    f"table, though its {VERSION_TABLE} says the schema is current"
                )

    def _append_in_transaction(self, conn: sa.Connection, records: list[bytes]) -> int:
        """Write the records as leaves and return the index of the first."""
        state = conn.execute(_LOCK_STATE).one_or_none()
        if state is None:
            raise AuditError(f"audit log {self.url!r} is inconsistent: its tree state row is gone")
        size, stored = tuple(state)
        frontier = stored_frontier(repr(self.url), size, stored)
        raw = conn.connection.driver_connection
        if not isinstance(raw, psycopg.Connection):
            raise AuditError(f"expected a psycopg connection, got {type(raw).__name__}")
        # COPY in binary: several times faster than an INSERT per row, in the same transaction.
        # Rows are hashed as they are sent, so the server stores some while the next are hashed.
        subtrees: list[Subtree] = []
        with raw.cursor() as cursor, cursor.copy(_COPY) as copy:
            copy.set_types(_COPY_TYPES)
            for leaf, columns in iter_rows(records, frontier, subtrees):
                copy.write_row(
                    (leaf.index, leaf.id, leaf.record, leaf.leaf_hash, leaf.root_after, *columns)
                )
        if subtrees:
            conn.execute(
                _SUBTREES.insert(), [{"height": h, "idx": i, "hash": n} for h, i, n in subtrees]
            )
        conn.execute(_SAVE_STATE, {"new_size": frontier.size, "new_frontier": frontier.to_bytes()})
        return int(size)

    def _fetch(self, stmt: sa.Executable) -> list[sa.Row[Any]]:
        try:
            with self._reader.connect() as conn:
                return list(conn.execute(stmt))
        except sa.exc.SQLAlchemyError as exc:
            raise AuditError(f"could not read the audit log {self.url!r}: {_reason(exc)}") from exc

    def _integrity_error(self, records: list[bytes], exc: Exception) -> AuditError:
        error = getattr(exc, "orig", None) or exc
        constraint = getattr(getattr(error, "diag", None), "constraint_name", None)
        if constraint != "guard_audit_leaves_id_key":
            return AuditError(f"audit log {self.url!r} is inconsistent: {_reason(exc)}")
        rows = build_rows(records, CompactRange())
        stored = self._stored_hashes([row.leaf.id for row in rows])
        duplicate = duplicate_id((row.leaf.id for row in rows), lambda i: stored.get(i, (None,))[0])
        if duplicate is None or duplicate not in stored:  # twice in this append, or gone since
            return AuditError(f"duplicate audit record id {duplicate!r}; nothing was written")
        index, digest = stored[duplicate]
        mine = next(row.leaf for row in rows if row.leaf.id == duplicate)
        if digest != mine.leaf_hash:
            what = f"index {index} holds a different record with this id"
        else:  # a retry of an append that committed (its answer lost, say)
            what = f"the log holds this very record, committed at index {index} (same content)"
            if _committed(rows, stored) is not None:
                what += ", with every other record of this append"
        return AuditError(f"duplicate audit record id {duplicate!r}: {what}; nothing was written")

    def _stored_hashes(self, ids: list[str]) -> dict[str, tuple[int, bytes]]:
        """The index and stored leaf hash of each of these ids in the log."""
        if not sendable(ids, nul=False):
            return {}
        found: dict[str, tuple[int, bytes]] = {}
        for start in range(0, len(ids), 1000):
            chunk = ids[start : start + 1000]
            stmt = sa.select(_C.id, _C.idx, _C.leaf_hash).where(_C.id.in_(chunk))
            for record_id, index, digest in (tuple(row) for row in self._fetch(stmt)):
                found[record_id] = (int(index), stored_leaf_hash(int(index), digest))
        return found


def _committed(rows: list[LeafRow], stored: dict[str, tuple[int, bytes]]) -> list[int] | None:
    """The indexes of these rows' records if one append committed them all, byte for byte
    and in this order (`stored`: index and leaf hash by id); else None."""
    indexes: list[int] = []
    for row in rows:
        index, digest = stored.get(row.leaf.id, (-1, b""))
        if digest != row.leaf.leaf_hash:
            return None
        indexes.append(index)
    return indexes if indexes == list(range(indexes[0], indexes[0] + len(indexes))) else None


def _engine_url(url: str) -> sa.URL:
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError as exc:
        raise AuditError(f"invalid PostgreSQL audit URL: {exc}") from None
    except ValueError:  # int() of the port; the URL is not repeated: it may hold a password
        raise AuditError("invalid PostgreSQL audit URL: its port is not a number") from None
    if parsed.drivername not in _DRIVERS:
        raise AuditError(
            f"unsupported PostgreSQL driver {parsed.drivername!r}; expected one of "
            + ", ".join(f"{d}://" for d in _DRIVERS)
        )
    return parsed.set(drivername="postgresql+psycopg")


def _check_schema(schema: str | None) -> str | None:
    if schema is not None and not _SCHEMA_NAME.fullmatch(schema):
        raise AuditError(
            f"invalid schema name {schema!r}; expected a lowercase letter or underscore, then "
            "up to 62 lowercase letters, digits or underscores"
        )
    return schema


def _connect_args(url: sa.URL, schema: str | None) -> dict[str, Any]:
    args: dict[str, Any] = {}
    if "connect_timeout" not in url.query:
        args["connect_timeout"] = 10
    given = url.query.get("options", "")
    options = [given] if isinstance(given, str) else list(given)
    # Acknowledged means on disk, whatever the server's, database's or role's default.
    options.append("-csynchronous_commit=on")
    if schema is not None:
        options.append(f"-csearch_path={schema}")
    args["options"] = " ".join(o for o in options if o)
    return args


def _lock_key(schema: str | None) -> int:
    digest = hashlib.sha256(f"guard_audit_migrate:{schema or ''}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _leaf(row: Sequence[Any]) -> StoredLeaf:
    index, record_id, record, leaf, root_after = tuple(row)
    return stored_leaf(int(index), record_id, record, leaf, root_after)


def _condition(name: str, value: str | bool) -> sa.ColumnElement[bool]:
    if name == "rule_id":
        return _C.rule_ids.like(rule_pattern(str(value)), escape="\\")
    if name == "since":
        return _C.time >= str(value)
    if name == "until":
        return _C.time < str(value)
    if name == "shadow_disagrees":
        return _C.shadow_disagrees == int(value)
    return _C[name] == value


def _nul_error(records: list[bytes]) -> AuditError | None:
    """The error for a record whose id or an indexed field holds NUL, if one does: the
    server's own ("invalid byte sequence ... 0x00; CONTEXT: COPY ...") names neither."""
    try:
        rows = build_rows(records, CompactRange())
    except AuditError:
        return None
    for row in rows:
        fields = (("id", row.leaf.id), *zip(Columns._fields, row.columns, strict=True))
        for name, value in fields:
            if isinstance(value, str) and "\x00" in value:
                return AuditError(
                    f"audit record {row.leaf.id!r} cannot be stored in PostgreSQL: its {name} "
                    f"({value!r}) holds a NUL character, which PostgreSQL text cannot hold; "
                    "nothing was written"
                )
    return None


def _reason(exc: Exception) -> str:
    # The driver's message, without SQLAlchemy's echo of the statement and its parameters,
    # on one line (the server's DETAIL and HINT lines follow its message).
    orig = getattr(exc, "orig", None)
    lines = str(orig if orig is not None else exc).splitlines()
    return "; ".join(" ".join(line.split()) for line in lines if line.strip())
