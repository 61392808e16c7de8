"""A PostgreSQL schema whose migration table says "current" but whose audit tables are gone.

SQLite says "'x.db' is not an audit log: it has no leaves table" (exit 2); PostgreSQL
opened the log and failed at the first read with the server's text and its echo of the
statement ("relation ... does not exist; LINE 2: FROM guard_audit_leaves; ^"), exit 1
from `guard audit verify`, as if the log were tampered. It is now refused when opened.
"""

from __future__ import annotations

import psycopg
import pytest

from guard._exceptions import AuditError
from guard.audit import open_audit
from tests.audit._cli import guard_cli
from tests.audit.conftest import libpq_url


@pytest.mark.parametrize("table", ["guard_audit_leaves", "guard_audit_tree_state"])
def test_a_dropped_audit_table_is_not_an_audit_log(
    postgres_url: str, postgres_schema: str, table: str
) -> None:
    with open_audit(postgres_url) as log:
        log.append({"id": "d0"})
    with psycopg.connect(libpq_url(postgres_url), autocommit=True) as conn:
        conn.execute(f'DROP TABLE "{postgres_schema}"."{table}"')
    for create in (False, True):
        with pytest.raises(AuditError, match=f"it has no {table} table") as caught:
            open_audit(postgres_url, create=create)
        assert "LINE" not in str(caught.value)
    r = guard_cli("audit", "verify", "--audit", postgres_url)
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr and f"it has no {table} table" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
