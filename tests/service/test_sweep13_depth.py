"""Nesting: what the guard takes, its audit log and its API can write back.

Before: actions were taken up to orjson's own limit (254 levels), but their audit records
and the API's answers wrap them a few levels deeper: an action 250 deep was decided and
recorded, then GET /v1/decisions answered 500, and one 252 deep was read back as
tampering. Now inputs stop at MAX_DEPTH (200), and a stored record nested past what the
guard writes is `audit_tampered` (503), never a 500.
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from guard import ActionTooLarge, Guard
from guard._validate import MAX_DEPTH
from service import Settings, create_app


def _nested(levels: int) -> Any:
    """A value of `levels` nested lists: the action {kind, params: {q: it}} adds two."""
    value: Any = "x"
    for _ in range(levels):
        value = [value]
    return value


def test_the_deepest_action_taken_is_recorded_and_served(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    with Guard.from_policy("agent-tools", audit=url) as g:
        deepest = g.check({"kind": "search", "params": {"q": _nested(MAX_DEPTH - 2)}})
        with pytest.raises(ActionTooLarge, match=f"nested deeper than {MAX_DEPTH} levels"):
            g.check({"kind": "search", "params": {"q": _nested(MAX_DEPTH - 1)}})
        with pytest.raises(ActionTooLarge, match="context is nested deeper"):
            g.check({"kind": "search"}, {"c": _nested(MAX_DEPTH)})
    client = TestClient(create_app(Settings(audit=url)))
    for path in (
        f"/v1/decisions/{deepest.id}",
        "/v1/decisions",
        f"/v1/decisions/{deepest.id}/proof",
    ):
        assert client.get(path).status_code == 200, path
    export = client.get("/v1/decisions/export")
    assert export.status_code == 200 and deepest.id in export.text
    too_deep = {"kind": "search", "params": {"q": _nested(MAX_DEPTH)}}
    r = client.post("/v1/check", json={"policy": "agent-tools", "action": too_deep})
    # Deeper than the body's JSON parser reads: it says so ('not valid JSON' before).
    assert r.status_code == 400 and r.json()["error"]["code"] == "malformed_json"
    assert "nested too deeply to read" in r.json()["error"]["message"]
    assert r.json()["error"]["details"] == {"max_depth": MAX_DEPTH}


def test_a_record_edited_deeper_than_records_are_is_tampering(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    with Guard.from_policy("agent-tools", audit=url) as g:
        d = g.check({"kind": "search", "params": {"q": "x"}})
    deep = f'{{"id":"{d.id}","a":'.encode() + b"[" * 1000 + b"]" * 1000 + b"}"
    con = sqlite3.connect(tmp_path / "a.db")
    with con:  # bytes and leaf hash both rewritten
        leaf = hashlib.sha256(b"\x00" + deep).digest()
        con.execute("UPDATE leaves SET record = ?, leaf_hash = ? WHERE idx = 0", (deep, leaf))
    con.close()
    client = TestClient(create_app(Settings(audit=url)), raise_server_exceptions=False)
    for path in ("/v1/decisions", "/v1/decisions/export", f"/v1/decisions/{d.id}/proof"):
        r = client.get(path)
        assert r.status_code == 503, path
        assert r.json()["error"]["code"] == "audit_tampered"
        assert "nested deeper than records are" in r.json()["error"]["message"]


def test_an_unusable_audit_log_is_not_described_to_callers(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Before: any caller got "could not read the audit log '/srv/.../audit.db': ..." (or a
    # PostgreSQL host and user); the operator's log now has it, the answer says where.
    url = f"sqlite:///{tmp_path / 'a.db'}"
    with Guard.from_policy("agent-tools", audit=url) as g:
        d = g.check({"kind": "search", "params": {"q": "x"}})
    client = TestClient(create_app(Settings(audit=url)), raise_server_exceptions=False)
    con = sqlite3.connect(tmp_path / "a.db")
    with con:
        con.execute("DROP TABLE leaves")
    con.close()
    with caplog.at_level("ERROR"):
        r = client.get(f"/v1/decisions/{d.id}")
    assert r.status_code == 503 and r.json()["error"]["code"] == "audit_error"
    assert str(tmp_path) not in r.text
    assert "server log" in r.json()["error"]["message"]
    assert any(str(tmp_path) in rec.getMessage() for rec in caplog.records)
