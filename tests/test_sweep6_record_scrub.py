"""Audit records of PII packs: ranking reasons, hit errors and explanations lose raw PII too."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from guard import AuditError, Guard

PACK = """\
name: rk
version: 1
pii:
  entities: [EMAIL_ADDRESS, PHONE_NUMBER]
  fields: [params.query]
rules:
  - id: drop-contact
    scope: item
    when: contains_any(get(item.description, ""), ["@"])
    effect: deny
    message: "drop {item.description}"
  - id: broken
    match: {kind: pay}
    when: params.amount > 5
    effect: deny
"""
EMAIL = "jane.doe@example.com"


@pytest.fixture
def logged(tmp_path: Path) -> tuple[Guard, Path]:
    pack = tmp_path / "rk.yaml"
    pack.write_text(PACK, encoding="utf-8")
    db = tmp_path / "a.db"
    return Guard.from_policy(str(pack), audit=f"sqlite:///{db}"), db


def _records(db: Path) -> list[dict[str, Any]]:
    with sqlite3.connect(db) as con:
        rows = [r for (r,) in con.execute("select record from leaves order by idx")]
    return [json.loads(r if isinstance(r, str) else r.decode()) for r in rows]


def test_ranking_reasons_are_masked(logged: tuple[Guard, Path]) -> None:
    g, db = logged
    decision = g.rank([{"id": "a", "description": f"mail {EMAIL}"}, {"id": "b"}])
    g.close()
    assert decision.items[0].reason == f"drop mail {EMAIL}"  # the caller's own view
    (record,) = _records(db)
    assert record["items"][0]["reason"] == "drop mail <EMAIL_ADDRESS>"
    assert EMAIL not in json.dumps(record)


def test_hit_errors_are_masked(logged: tuple[Guard, Path]) -> None:
    g, db = logged
    g.check({"kind": "pay", "params": {"amount": f"write to {EMAIL}"}})
    g.close()
    (record,) = _records(db)
    (hit,) = record["hits"]
    assert hit["error"] is not None and "<EMAIL_ADDRESS>" in hit["error"]
    assert EMAIL not in json.dumps(record)


class _Explanation:
    def model_dump(self, mode: str = "json") -> dict[str, Any]:
        return {"method": "fake", "feature_names": [f"contact {EMAIL}", "age"], "values": [1, 2]}


def test_deferred_explanations_are_masked(logged: tuple[Guard, Path]) -> None:
    g, db = logged
    decision = g.check({"kind": "pay", "params": {"amount": 1}})
    g.defer_explanation(decision, _Explanation)
    g.flush()
    g.close()
    _, explained = _records(db)
    assert explained["schema_version"] == "guard.explanation/v1"
    assert explained["explanation"]["feature_names"] == ["contact <EMAIL_ADDRESS>", "age"]
    assert explained["explanation"]["values"] == [1, 2]


def test_inline_explanations_are_masked(logged: tuple[Guard, Path]) -> None:
    g, db = logged
    decision = g.evaluate({"kind": "pay", "params": {"amount": 1}})
    decision.explanations.append(_Explanation().model_dump())
    g.record(decision, {"kind": "pay", "params": {"amount": 1}})
    g.close()
    (record,) = _records(db)
    assert record["explanations"][0]["feature_names"][0] == "contact <EMAIL_ADDRESS>"


def test_close_survives_a_deferred_task_that_exits(logged: tuple[Guard, Path]) -> None:
    g, db = logged
    release = threading.Event()

    def exits() -> Any:  # still running when close() waits for it
        release.wait(10)
        raise SystemExit(3)

    decision = g.check({"kind": "pay", "params": {"amount": 1}})
    g.defer_explanation(decision, exits)
    threading.Timer(0.2, release.set).start()
    g.close()  # neither raises SystemExit nor leaves the log open
    assert [r["id"] for r in _records(db)] == [decision.id]
    assert g.audit is not None
    with pytest.raises(AuditError):  # the log itself was closed
        g.audit.append({"id": "late", "schema_version": "guard.decision/v1"})


def test_an_empty_rate_store_passed_in_is_the_one_used(tmp_path: Path) -> None:
    from guard.policy._rate import MemoryRateStore

    store = MemoryRateStore()  # empty: len() == 0, so it is falsy
    pack = tmp_path / "rk.yaml"
    pack.write_text(PACK, encoding="utf-8")
    assert Guard.from_policy(str(pack), rate_store=store).rates is store
