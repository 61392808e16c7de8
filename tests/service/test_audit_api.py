"""Reading the audit log over HTTP: filters, pages, proofs an auditor can recompute, exports."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest
import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from tests.service.conftest import pay


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _root_from_path(leaf: bytes, index: int, size: int, path: list[bytes]) -> bytes:
    """RFC 9162 section 2.1.3.2, written out here so no code of ours is trusted."""
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            raise AssertionError("path too long")
        if fn % 2 == 1 or fn == sn:
            r = _node(p, r)
            while fn % 2 == 0 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = _node(r, p)
        fn, sn = fn >> 1, sn >> 1
    assert sn == 0
    return r


def _seed(client, n=6):
    return [
        client.post("/v1/check", json={"action": pay(a)}).json()
        for a in (1, 700, 20000, 5, 800, 3)[:n]
    ]


def test_proof_is_recomputable_with_hashlib_and_rfc8785(client):
    decisions = _seed(client)
    for d in decisions:
        proof = client.get(f"/v1/decisions/{d['id']}/proof").json()
        leaf = hashlib.sha256(b"\x00" + rfc8785.dumps(proof["record"])).digest()
        assert leaf.hex() == proof["leaf_hash"]
        path = [bytes.fromhex(h) for h in proof["audit_path"]]
        root = _root_from_path(leaf, proof["leaf_index"], proof["tree_size"], path)
        assert root.hex() == proof["root"] == proof["head"]["root"]
        assert proof["head"]["size"] == proof["tree_size"]
        _check_signature(proof["head"])


def _check_signature(head):
    message = rfc8785.dumps(
        {"size": head["size"], "root": head["root"], "timestamp": head["timestamp"]}
    )
    key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(head["public_key"]))
    key.verify(bytes.fromhex(head["signature"]), message)  # raises if forged


def test_head_is_signed(client):
    _seed(client, 2)
    head = client.get("/v1/audit/head").json()
    assert head["size"] == 2 and head["algorithm"] == "ed25519"
    _check_signature(head)


def test_consistency_proof_between_sizes(client):
    _seed(client, 3)
    first = client.get("/v1/audit/head").json()
    _seed(client, 4)
    proof = client.get("/v1/audit/consistency", params={"from": 3, "to": 7}).json()
    assert proof["first_root"] == first["root"] and proof["second"] == 7
    assert client.get("/v1/audit/consistency", params={"from": 3}).json()["second"] == 7


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        pytest.param({"from": 2, "to": 1}, 422, "invalid_range", id="from-after-to"),
        pytest.param({"from": 1, "to": 99}, 404, "tree_size_not_found", id="beyond-log"),
        pytest.param({"from": -1}, 422, "validation_error", id="negative"),
        pytest.param({"to": 1}, 422, "validation_error", id="from-missing"),
    ],
)
def test_consistency_errors(client, params, status, code):
    _seed(client, 2)
    r = client.get("/v1/audit/consistency", params=params)
    assert r.status_code == status and r.json()["error"]["code"] == code


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        pytest.param({"verdict": "escalate"}, [700, 800], id="verdict"),
        pytest.param({"rule_id": "huge-payment"}, [20000], id="rule"),
        pytest.param({"actor": "agent-1", "verdict": "allow"}, [1, 5, 3], id="actor-verdict"),
        pytest.param(
            {"policy": "svc-test", "kind": "pay", "verdict": "deny"}, [20000], id="policy-kind"
        ),
        pytest.param({"actor": "someone-else"}, [], id="no-match"),
    ],
)
def test_list_filters(client, params, expected):
    _seed(client)
    items = client.get("/v1/decisions", params=params).json()["items"]
    assert sorted(i["record"]["action"]["params"]["amount"] for i in items) == sorted(expected)


def test_time_range_filters(client):
    _seed(client, 2)
    now = datetime.now(UTC)
    past = (now - timedelta(hours=1)).isoformat()
    future = (now + timedelta(hours=1)).isoformat()
    assert len(client.get("/v1/decisions", params={"since": past}).json()["items"]) == 2
    assert client.get("/v1/decisions", params={"since": future}).json()["items"] == []
    assert client.get("/v1/decisions", params={"until": past}).json()["items"] == []
    zulu = (now + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert len(client.get("/v1/decisions", params={"until": zulu}).json()["items"]) == 2


def test_cursor_pagination_walks_every_decision_once(client):
    ids = [d["id"] for d in _seed(client)]
    seen, cursor = [], None
    while True:
        params = {"limit": 4, **({"cursor": cursor} if cursor else {})}
        page = client.get("/v1/decisions", params=params).json()
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ids[::-1]


def test_reviews_and_resolutions_are_not_listed_as_decisions(client):
    d = client.post("/v1/check", json={"action": pay(900)}).json()
    client.post(f"/v1/escalations/{d['id']}/resolve", json={"outcome": "deny"})
    client.post(f"/v1/decisions/{d['id']}/review", json={"label": "correct"})
    assert [i["id"] for i in client.get("/v1/decisions").json()["items"]] == [d["id"]]
    assert client.get("/v1/audit/head").json()["size"] == 3


@pytest.mark.parametrize(
    ("params", "code"),
    [
        pytest.param({"cursor": "bm9wZQ"}, "validation_error", id="cursor-not-digits"),
        pytest.param({"cursor": "-1"}, "validation_error", id="cursor-negative"),
        pytest.param({"limit": 0}, "validation_error", id="limit-zero"),
        pytest.param({"verdict": "maybe"}, "validation_error", id="unknown-verdict"),
        pytest.param({"since": "yesterday"}, "validation_error", id="bad-time"),
        pytest.param({"since": "0.5"}, "validation_error", id="number-is-not-a-time"),
        pytest.param({"since": "2026-01-01T00:00"}, "validation_error", id="no-seconds-no-zone"),
    ],
)
def test_bad_list_parameters_are_422(client, params, code):
    r = client.get("/v1/decisions", params=params)
    assert r.status_code == 422 and r.json()["error"]["code"] == code


def test_unknown_decision_is_404(client):
    for path in ("/v1/decisions/nope", "/v1/decisions/nope/proof"):
        r = client.get(path)
        assert r.status_code == 404 and r.json()["error"]["code"] == "decision_not_found"


def test_a_resolution_id_is_not_a_decision(client):
    d = client.post("/v1/check", json={"action": pay(900)}).json()
    res = client.post(f"/v1/escalations/{d['id']}/resolve", json={"outcome": "deny"}).json()
    assert client.get(f"/v1/decisions/{res['id']}").status_code == 404


def test_export_streams_json_lines(client):
    ids = [d["id"] for d in _seed(client)]
    r = client.get("/v1/decisions/export", params={"verdict": "allow"})
    assert r.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in r.text.splitlines()]
    assert [x["id"] for x in lines] == [ids[5], ids[3], ids[0]]
    assert all(x["record"]["verdict"] == "allow" for x in lines)


def test_export_rejects_bad_filters_before_streaming(client):
    r = client.get("/v1/decisions/export", params={"since": "never"})
    assert r.status_code == 422


def test_a_filter_given_twice_is_refused(client):
    for path in ("/v1/decisions", "/v1/decisions/export"):
        r = client.get(path, params=[("verdict", "allow"), ("verdict", "deny")])
        assert r.status_code == 422, (path, r.text)
        assert "more than once" in r.text
