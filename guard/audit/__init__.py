"""The tamper-evident audit log: canonical records in an RFC 6962 Merkle log, with proofs.

log = open_audit("sqlite:///guard-audit.db")
result = log.append({"schema_version": "guard.decision/v1", "id": "d1", ...})
proof = log.inclusion("d1")
assert proof.verify() and verify_head(log.head(), log.public_key_hex)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from guard.audit._canonical import canonical_json
from guard.audit._log import (
    AppendResult,
    AuditLog,
    ConsistencyProof,
    InclusionProof,
    Page,
    StoredRecord,
    VerifyReport,
    open_audit,
)
from guard.audit._merkle import (
    EMPTY_ROOT,
    CompactRange,
    MerkleTree,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    verify_consistency,
    verify_inclusion,
)
from guard.audit._merkle import root as merkle_root
from guard.audit._signing import TreeHead, verify_head
from guard.audit._sqlite import SqliteStore
from guard.audit._store import AuditStore, MemoryStore, RecordQuery, StoredLeaf, build_rows

if TYPE_CHECKING:
    from guard.audit._postgres import PostgresStore

__all__ = [
    "AppendResult",
    "AuditLog",
    "AuditStore",
    "CompactRange",
    "ConsistencyProof",
    "EMPTY_ROOT",
    "InclusionProof",
    "MemoryStore",
    "MerkleTree",
    "Page",
    "PostgresStore",
    "RecordQuery",
    "SqliteStore",
    "StoredLeaf",
    "StoredRecord",
    "TreeHead",
    "VerifyReport",
    "build_rows",
    "canonical_json",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "merkle_root",
    "node_hash",
    "open_audit",
    "verify_consistency",
    "verify_head",
    "verify_inclusion",
]


def __getattr__(name: str) -> Any:
    # Imported on first use: it needs sqlalchemy and psycopg, from the [service] extra.
    if name == "PostgresStore":
        from guard.audit._postgres import PostgresStore

        return PostgresStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
