from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import rfc8785

from guard import Guard, Verdict
from guard.audit import open_audit
from guard.policy import parse

PACK = """\
name: p
version: 1
rules:
  - id: big
    when: params.amount > 500
    effect: escalate
"""


def test_every_decision_is_committed_before_it_is_returned(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    g = Guard([parse(PACK)], audit=open_audit(url))
    d = g.check({"kind": "pay", "actor": "u1", "params": {"amount": 700}})
    assert d.audited and d.verdict is Verdict.ESCALATE
    g.close()
    with open_audit(url) as log:  # a fresh reader sees it: it was committed
        stored = log.get(d.id)
        assert stored.record["verdict"] == "escalate"
        assert stored.record["schema_version"] == "guard.decision/v1"
        assert stored.record["policy_digest"] == d.policy_digest
        proof = log.inclusion(d.id)
        leaf = hashlib.sha256(b"\x00" + rfc8785.dumps(proof.record)).hexdigest()
        assert leaf == proof.leaf_hash and proof.verify()


def test_concurrent_checks_lose_nothing_and_the_log_verifies(tmp_path: Path) -> None:
    g = Guard([parse(PACK)], audit=open_audit(f"sqlite:///{tmp_path / 'a.db'}"))
    ids: list[str] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        for i in range(50):
            d = g.check({"kind": "pay", "params": {"amount": n * 100 + i}})
            with lock:
                ids.append(d.id)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert g.audit is not None
    assert g.audit.verify().size == 400
    assert {g.audit.get(i).id for i in ids} == set(ids)
    g.close()


def test_batch_and_ranking_decisions_are_recorded(tmp_path: Path) -> None:
    pack = PACK + "  - id: drop\n    scope: item\n    when: item.bad\n    effect: deny\n"
    g = Guard([parse(pack)], audit=open_audit(f"sqlite:///{tmp_path / 'a.db'}"))
    ds = g.check_batch([{"kind": "pay", "params": {"amount": a}} for a in (1, 900)])
    r = g.rank([{"id": 1, "bad": True}, {"id": 2, "bad": False}])
    assert g.audit is not None and g.audit.size == 3
    assert g.audit.get(r.id).record["items"][0]["verdict"] == "deny"
    assert [g.audit.get(d.id).record["verdict"] for d in ds] == ["allow", "escalate"]
    g.close()


def test_shadow_verdict_is_in_the_record(tmp_path: Path) -> None:
    g = Guard(
        [parse(PACK)],
        shadow=[parse(PACK.replace("> 500", "> 50"))],
        audit=open_audit(f"sqlite:///{tmp_path / 'a.db'}"),
    )
    d = g.check({"kind": "pay", "params": {"amount": 100}})
    assert g.audit is not None
    rec = g.audit.get(d.id).record
    assert rec["verdict"] == "allow" and rec["shadow"]["verdict"] == "escalate"
    assert rec["shadow"]["agrees"] is False
    g.close()
