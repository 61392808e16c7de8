"""`since`/`until` compare instants, not texts: a record at a whole second ('...:52Z')
is not 'after' a filter half a second later in that second ('...:52.5+00:00')."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from guard.audit import open_audit
from guard.audit._store import time_text


def _record(i: int, time: str) -> dict[str, Any]:
    return {"schema_version": "guard.decision/v1", "id": f"r{i}", "time": time, "verdict": "allow"}


TIMES = [
    "2026-11-26T10:54:52Z",  # a whole second: pydantic writes no fraction
    "2026-11-26T10:54:52.250000Z",
    "2026-11-26T10:54:52.75Z",
    "2026-11-26T11:54:52.900000+01:00",  # 10:54:52.9 UTC
    "2026-11-26T10:54:53+00:00",
]


@pytest.mark.parametrize("url", ["memory://", "sqlite"])
@pytest.mark.parametrize(
    ("since", "until", "expected"),
    [
        ("2026-11-26T10:54:52.5+00:00", None, ["r2", "r3", "r4"]),
        (None, "2026-11-26T10:54:52.5Z", ["r0", "r1"]),
        (datetime(2026, 11, 26, 10, 54, 52, tzinfo=UTC), None, ["r0", "r1", "r2", "r3", "r4"]),
        ("2026-11-26T10:54:52.25Z", "2026-11-26T10:54:52.900000Z", ["r1", "r2"]),
        ("2026-11-26T11:54:52.9+01:00", None, ["r3", "r4"]),
    ],
)
def test_time_filters_compare_instants(
    tmp_path: Any, url: str, since: Any, until: Any, expected: list[str]
) -> None:
    target = url if url == "memory://" else f"sqlite:///{tmp_path / 'a.db'}"
    with open_audit(target) as log:
        log.append_many([_record(i, t) for i, t in enumerate(TIMES)])
        found = log.query(since=since, until=until, limit=50).items
        assert sorted(s.record["id"] for s in found) == expected


def test_time_text_is_fixed_width_utc() -> None:
    assert time_text("2026-11-26T10:54:52Z") == "2026-11-26T10:54:52.000000Z"
    assert time_text("2026-11-26T11:54:52.9+01:00") == "2026-11-26T10:54:52.900000Z"
    assert time_text("2026-11-26T10:54:52.123456Z") == "2026-11-26T10:54:52.123456Z"
    assert time_text("not a time") == "not a time"  # kept: the record is what it is
    assert time_text(None) is None


def test_a_log_whose_time_column_holds_the_time_as_written_still_verifies(tmp_path: Any) -> None:
    # Older writers stored the record's time as it was written; verify reads that as the
    # same instant, and a time column moved to another instant is still tampering.
    import sqlite3

    from guard._exceptions import AuditTampered

    db = tmp_path / "old.db"
    with open_audit(f"sqlite:///{db}") as log:
        log.append_many([_record(i, t) for i, t in enumerate(TIMES)])
    with sqlite3.connect(db) as conn:
        for i, written in enumerate(TIMES):
            conn.execute("UPDATE leaves SET time = ? WHERE idx = ?", (written, i))
    with open_audit(f"sqlite:///{db}", create=False) as log:
        assert log.verify().size == len(TIMES)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE leaves SET time = '2026-11-26T10:54:52.000001Z' WHERE idx = 0")
    with open_audit(f"sqlite:///{db}", create=False) as log:
        with pytest.raises(AuditTampered, match="its time column holds"):
            log.verify()


def test_the_forms_records_write_are_read_without_parsing() -> None:
    assert time_text("2026-11-26T12:50:33.038614+00:00") == "2026-11-26T12:50:33.038614Z"
    assert time_text("2026-11-26T12:50:33.038614Z") == "2026-11-26T12:50:33.038614Z"
