from __future__ import annotations

import guard.audit

EXPORTED = {
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
}


def test_the_public_door_exports_exactly_the_intended_names() -> None:
    assert set(guard.audit.__all__) == EXPORTED
    assert guard.audit.__all__ == sorted(guard.audit.__all__)
    assert all(hasattr(guard.audit, name) for name in EXPORTED)
