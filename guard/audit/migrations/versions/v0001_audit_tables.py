"""Create the audit leaves and the tree state that sequences them.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision: str | None = None
branch_labels: tuple[str, ...] | None = None
depends_on: tuple[str, ...] | None = None

# Byte order, so that `time` ranges compare like Python strings whatever the database locale.
_TEXT = sa.Text(collation="C")
# Selective columns only, as in the SQLite store: a query on a common value (a verdict,
# a kind, a policy) finds its page as fast by walking the primary key backwards.
_INDEXED = ("tenant", "time", "actor", "record_type")


def upgrade() -> None:
    op.create_table(
        "guard_audit_leaves",
        sa.Column("idx", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("id", _TEXT, nullable=False, unique=True),
        sa.Column("record", sa.LargeBinary, nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary, nullable=False),
        sa.Column("root_after", sa.LargeBinary, nullable=False),
        *(sa.Column(name, _TEXT) for name in ("time", "tenant", "actor", "policy")),
        *(sa.Column(name, _TEXT) for name in ("policy_version", "kind", "verdict", "mode")),
        sa.Column("rule_ids", _TEXT),
        sa.Column("shadow_disagrees", sa.SmallInteger),
        sa.Column("record_type", _TEXT),
        sa.Column("ref_id", _TEXT),
    )
    # Queries filter on a column and read newest first, so each index ends with idx.
    for name in _INDEXED:
        op.create_index(f"guard_audit_leaves_{name}", "guard_audit_leaves", [name, "idx"])
    op.create_index(
        "guard_audit_leaves_ref_id",
        "guard_audit_leaves",
        ["ref_id", "idx"],
        postgresql_where=sa.text("ref_id IS NOT NULL"),
    )
    op.create_index(
        "guard_audit_leaves_shadow",
        "guard_audit_leaves",
        ["shadow_disagrees", "idx"],
        postgresql_where=sa.text("shadow_disagrees IS NOT NULL"),
    )
    # One row, locked by every append: the log's size and compact-range frontier.
    state = op.create_table(
        "guard_audit_tree_state",
        sa.Column("id", sa.SmallInteger, primary_key=True, autoincrement=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("frontier", sa.LargeBinary, nullable=False),
        sa.CheckConstraint("id = 0", name="guard_audit_tree_state_one_row"),
    )
    op.bulk_insert(state, [{"id": 0, "size": 0, "frontier": bytes(8)}])


def downgrade() -> None:
    op.drop_table("guard_audit_tree_state")
    op.drop_table("guard_audit_leaves")
