"""Sweep 15: an export cut short by a failing log says so without naming the database.

A 503 answer hides an AuditError's text ("could not read the audit log 'postgresql://guard@
db.internal:5432/audit': ..."): it is for the operator's log. The export's last line, when
the log failed mid-stream, carried that text to the caller.
"""

from __future__ import annotations

import logging

import orjson

from guard._exceptions import AuditError
from tests.service.conftest import pay

SECRET = "could not read the audit log 'postgresql://guard@db.internal:5432/audit': refused"


def test_a_failing_log_mid_export_is_not_named_to_the_caller(client, monkeypatch, caplog):
    monkeypatch.setattr("service._decisions.EXPORT_PAGE", 1)
    for amount in (1, 2, 3):
        client.post("/v1/check", json={"action": pay(amount)})
    audit = client.app_state.audit
    original = audit.query
    calls = []

    def failing_later(*args, **kwargs):
        calls.append(1)
        if len(calls) > 1:
            raise AuditError(SECRET)
        return original(*args, **kwargs)

    monkeypatch.setattr(audit, "query", failing_later)
    with caplog.at_level(logging.ERROR, logger="guard.service"):
        with client.stream("GET", "/v1/decisions/export") as r:
            assert r.status_code == 200
            lines = list(r.iter_lines())
    error = orjson.loads(lines[-1])["error"]
    assert error["code"] == "export_incomplete"
    assert error["details"] == {"cause": "audit_error"}
    assert "db.internal" not in error["message"] and "postgresql" not in error["message"]
    assert "not the whole export" in error["message"]
    assert "server log" in error["message"]
    assert any("db.internal" in r.getMessage() for r in caplog.records)  # the operator's


def test_the_cause_code_is_still_given():
    from service._download import jsonl_failure

    line = orjson.loads(jsonl_failure(AuditError(SECRET)))
    assert line["error"]["details"] == {"cause": "audit_error"}
    assert "db.internal" not in line["error"]["message"]
