"""Proofs an auditor checks with hashlib and the rfc8785 package alone, whatever was recorded."""

from __future__ import annotations

import hashlib
import json

import pytest
import rfc8785

from tests.service.test_audit_api import _root_from_path


def _leaf(record: object) -> str:
    return hashlib.sha256(b"\x00" + rfc8785.dumps(record)).hexdigest()


@pytest.mark.parametrize(
    "number", ["1e16", "1E16", "2e20", "-9007199254740992.0", "1.2345678901234568e20"]
)
def test_a_whole_double_past_2_to_the_53_verifies_with_rfc8785(client, number):
    # JCS writes 1e16 as 10000000000000000; read back as an integer, the record's proof and
    # leaf hash could not be checked with rfc8785, which refuses integers past 2**53 - 1.
    body = '{"action": {"kind": "note", "actor": "a", "params": {"n": %s}}}' % number
    sent = client.post("/v1/check", content=body, headers={"content-type": "application/json"})
    assert sent.status_code == 200, sent.text
    decision_id = sent.json()["id"]

    proof = client.get(f"/v1/decisions/{decision_id}/proof").json()
    assert proof["record"]["action"]["params"]["n"] == float(number)
    assert _leaf(proof["record"]) == proof["leaf_hash"]
    path = [bytes.fromhex(h) for h in proof["audit_path"]]
    leaf = bytes.fromhex(proof["leaf_hash"])
    assert (
        _root_from_path(leaf, proof["leaf_index"], proof["tree_size"], path).hex()
        == (proof["root"])
    )

    one = client.get(f"/v1/decisions/{decision_id}").json()
    listed = client.get("/v1/decisions").json()["items"][0]
    exported = json.loads(client.get("/v1/decisions/export").text.splitlines()[0])
    for item in (one, listed, exported):
        assert _leaf(item["record"]) == item["leaf_hash"] == proof["leaf_hash"]
