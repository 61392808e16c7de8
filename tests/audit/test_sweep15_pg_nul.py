"""A record whose id or indexed field holds NUL, which PostgreSQL text cannot hold.

The SQLite store keeps it; the PostgreSQL store cannot, and said only "invalid byte
sequence for encoding "UTF8": 0x00; CONTEXT: COPY guard_audit_leaves, line 1", which
reads as a broken database. It now names the record and the field, and nothing is
written (the log stays as it was, and verifies).
"""

from __future__ import annotations

import pytest

from guard._exceptions import AuditError
from guard.audit import open_audit


@pytest.mark.parametrize(
    ("record", "field"),
    [
        ({"id": "a\x00b"}, "id"),
        ({"id": "n1", "actor": "x\x00y"}, "actor"),
        ({"id": "n2", "tenant": "t\x00"}, "tenant"),
        ({"id": "n3", "hits": [{"rule_id": "r\x00"}]}, "rule_ids"),
    ],
)
def test_postgres_names_the_field_that_holds_nul(
    postgres_url: str, record: dict[str, object], field: str
) -> None:
    with open_audit(postgres_url) as log:
        log.append({"id": "before"})
        with pytest.raises(AuditError) as caught:
            log.append(record)
        message = str(caught.value)
        assert repr(record["id"]) in message and f"its {field} " in message, message
        assert "NUL" in message and "nothing was written" in message
        assert "COPY" not in message
        assert log.verify().size == 1
        log.append({"id": "after", "actor": "x"})  # the log goes on
        assert log.verify().size == 2
