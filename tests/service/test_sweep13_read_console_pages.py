"""The console's decisions and escalations pages, asked for an older page that holds an
edited record, answered their first page instead (as for a cursor edited by hand): the
escalations page said nothing at all, so the reviewer never learnt of the tampering. They
now answer the console's 503 page naming the record, as every other read does."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from guard.audit._log import _encode_cursor
from tests.service.conftest import pay
from tests.service.test_sweep13_read_tampered import _rewritten


def _held(client: Any, count: int) -> list[str]:
    return [
        client.post("/v1/check", json={"action": pay(600 + n)}).json()["id"] for n in range(count)
    ]


def _edit_oldest(db: Path, record_id: str) -> None:
    def approve(record: dict[str, Any]) -> None:
        record["verdict"] = "allow"

    with sqlite3.connect(db) as con:
        (data,) = con.execute("SELECT record FROM leaves WHERE id = ?", (record_id,)).fetchone()
        con.execute(
            "UPDATE leaves SET record = ? WHERE id = ?", (_rewritten(data, approve), record_id)
        )


def _tampered_page(r: Any, record_id: str) -> None:
    assert r.status_code == 503, r.text[:500]
    assert r.headers["content-type"].startswith("text/html")
    assert f"audit log tampered at index 0 (record id &#39;{record_id}&#39;)" in r.text


def test_an_older_decisions_page_with_an_edited_record(make_client: Any, tmp_path: Path) -> None:
    client = make_client()
    ids = _held(client, 55)  # the console shows 50 a page
    assert client.get("/ui/decisions").status_code == 200  # its counts are kept meanwhile
    _edit_oldest(tmp_path / "audit.db", ids[0])
    r = client.get("/ui/decisions", params={"cursor": _encode_cursor(5)})
    _tampered_page(r, ids[0])


def test_an_older_escalations_page_with_an_edited_record(make_client: Any, tmp_path: Path) -> None:
    client = make_client()
    ids = _held(client, 55)
    first = client.get("/ui/escalations")
    assert first.status_code == 200 and ids[0] not in first.text
    _edit_oldest(tmp_path / "audit.db", ids[0])
    r = client.get("/ui/escalations", params={"cursor": _encode_cursor(5)})
    _tampered_page(r, ids[0])
