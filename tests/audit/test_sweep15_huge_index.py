"""Indexes and cursors past what a database integer holds are "not found", never a crash.

SQLite raised OverflowError ("Python int too large to convert to SQLite INTEGER") out of
`get_index`, `inclusion(index=...)`, `iter_records` and `query(cursor=...)`; PostgreSQL
said "could not read the audit log: bigint out of range", as if the database had failed.
The review console passes a cursor from the URL straight to `query`, and catches the
`AuditError` of a bad cursor: an OverflowError there was a 500. Index 2**63 - 1 itself,
which both databases hold, failed too (its end, 2**63, did not fit).
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest

from guard._exceptions import AuditError, RecordNotFound
from guard.audit import AuditLog, open_audit

HUGE = [2**63 - 1, 2**63, 2**70]


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def log(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AuditLog]:
    if request.param == "memory":
        url = "memory://"
    elif request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'a.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    with open_audit(url) as opened:
        opened.append_many([{"id": f"d{i}"} for i in range(3)])
        yield opened


def _cursor(number: int) -> str:
    return base64.urlsafe_b64encode(f"idx:{number}".encode()).decode().rstrip("=")


@pytest.mark.parametrize("index", HUGE)
def test_a_huge_index_is_not_found(log: AuditLog, index: int) -> None:
    with pytest.raises(RecordNotFound, match="the log has 3 records"):
        log.get_index(index)
    with pytest.raises(RecordNotFound):
        log.inclusion(index=index)
    assert list(log.iter_records(index)) == []


@pytest.mark.parametrize("number", [2**63, 2**70])
def test_a_cursor_past_any_index_is_an_invalid_cursor(log: AuditLog, number: int) -> None:
    with pytest.raises(AuditError, match="invalid cursor"):
        log.query(cursor=_cursor(number))


def test_the_largest_cursor_lists_from_the_newest(log: AuditLog) -> None:
    page = log.query(cursor=_cursor(2**63 - 1))
    assert [item.id for item in page.items] == ["d2", "d1", "d0"]
