"""Keep the hash of every complete subtree of 2**8 leaves or more, for proofs in O(log n).

Revision ID: 0002
Revises: 0001

The subtrees of a log written before are hashed from its leaf hashes, read in order a
chunk at a time, with the tree state row locked so that no append runs meanwhile.
"""

from __future__ import annotations

from collections.abc import Iterator

import sqlalchemy as sa
from alembic import op

from guard.audit._store import Subtree, subtrees_of

revision = "0002"
down_revision: str | None = "0001"
branch_labels: tuple[str, ...] | None = None
depends_on: tuple[str, ...] | None = None

_CHUNK = 10_000


def upgrade() -> None:
    subtrees = op.create_table(
        "guard_audit_subtrees",
        sa.Column("height", sa.SmallInteger, primary_key=True, autoincrement=False),
        sa.Column("idx", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("hash", sa.LargeBinary, nullable=False),
    )
    conn = op.get_bind()
    size = conn.execute(
        sa.text("SELECT size FROM guard_audit_tree_state WHERE id = 0 FOR UPDATE")
    ).scalar_one()
    batch: list[Subtree] = []
    for height, index, node in subtrees_of(_leaf_hashes(conn, size)):
        batch.append((height, index, node))
        if len(batch) == _CHUNK:
            _insert(conn, subtrees, batch)
    _insert(conn, subtrees, batch)


def downgrade() -> None:
    op.drop_table("guard_audit_subtrees")


def _insert(conn: sa.Connection, table: sa.Table, batch: list[Subtree]) -> None:
    if batch:
        conn.execute(table.insert(), [{"height": h, "idx": i, "hash": n} for h, i, n in batch])
        batch.clear()


def _leaf_hashes(conn: sa.Connection, size: int) -> Iterator[bytes]:
    """The leaf hashes below `size` in index order, read a chunk at a time."""
    for start in range(0, size, _CHUNK):
        rows = conn.execute(
            sa.text(
                "SELECT idx, leaf_hash FROM guard_audit_leaves"
                " WHERE idx >= :start AND idx < :end ORDER BY idx"
            ),
            {"start": start, "end": min(size, start + _CHUNK)},
        ).all()
        for offset, (index, leaf) in enumerate(rows):
            if index != start + offset or not isinstance(leaf, bytes):
                return  # tampered: the rest are hashed from leaves by proofs, and verify reports
            yield leaf
