"""GuardClient's audit reads as an auditor needs them: every answer's shape is checked, and
proofs, heads and consistency proofs are verified with the log's own Merkle, canonical JSON
and signing code, so a tampered answer is a RemoteError naming what failed."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from guard import InvalidAction
from guard.audit import canonical_json, leaf_hash
from guard.audit._signing import Signer
from guard.client import GuardClient, RemoteError
from tests.service._server import Sidecar
from tests.service.conftest import (  # noqa: F401 - fixtures
    client,
    make_client,
    pack_file,
    settings,
)
from tests.test_sweep8_client_shield import answering
from tests.test_sweep8_client_wait import counting

pytestmark = pytest.mark.filterwarnings(
    "ignore:You should not use the 'timeout' argument with the TestClient"
)

JSON = {"content-type": "application/json"}
Change = Callable[[dict[str, Any]], None]


def pay(amount: Any) -> dict[str, Any]:
    return {"kind": "pay", "params": {"amount": amount}}


def decided(gc: GuardClient, n: int = 5) -> list[str]:
    """Decide `n` payments (the second one held for review); their decision ids."""
    return [gc.check(pay(600 if i == 1 else i + 0.25)).id for i in range(n)]


def tampering(client: Any, change: Change, **options: Any) -> GuardClient:  # noqa: F811
    """A client whose sidecar answers as the real one, with `change` made to each answer."""

    def handle(request: httpx.Request) -> httpx.Response:
        url = request.url.copy_with(scheme=None, netloc=None)
        answer = client.request(
            request.method, str(url), content=request.content, headers=JSON
        ).json()
        change(answer)
        return httpx.Response(200, json=answer)

    http = httpx.Client(base_url="http://sidecar", transport=httpx.MockTransport(handle))
    return GuardClient("http://sidecar", client=http, **options)


def flip(value: str) -> str:
    """`value` (hex) with its last digit changed."""
    return value[:-1] + ("0" if value[-1] != "0" else "1")


def forged(head: dict[str, Any], **changes: Any) -> None:
    """Make `head` a head a forger signed with a key of their own (and put it in the head)."""
    signer = Signer.ephemeral()
    head.update(changes)
    signed = signer.sign(head["size"], head["root"], head["timestamp"])
    head.update(signature=signed.signature, key_id=signed.key_id, public_key=signer.public_key_hex)


# -- a sidecar's true answers are taken ---------------------------------------------------------


def test_the_audit_reads_of_a_real_sidecar_verify(client: Any) -> None:  # noqa: F811
    gc = GuardClient("http://testserver", client=client)
    empty = gc.head()
    ids = decided(gc)
    head = gc.head()
    assert head["size"] == 5 and head["signature"]
    for decision_id in ids:
        proof = gc.proof(decision_id)
        assert proof["record"]["id"] == decision_id and proof["head"]["size"] == 5
        stored = gc.decision(decision_id)
        assert stored["leaf_hash"] == proof["leaf_hash"]
    assert [i["id"] for i in gc.decisions()["items"]] == ids[::-1]
    assert gc.decisions(limit=2)["next_cursor"]
    for first in range(6):
        proof = gc.consistency(first, 5, second_root=head["root"])
        assert (proof["first"], proof["second"]) == (first, 5)
    gc.consistency(0, first_root=empty["root"], second_root=head["root"])
    pinned = GuardClient("http://testserver", client=client, public_key=head["public_key"].upper())
    assert pinned.proof(ids[0])["head"]["public_key"] == head["public_key"]
    assert pinned.head()["size"] == 5
    resolution = gc.resolve(ids[1], "deny", note="no", reviewer="ann")
    assert (resolution["decision_id"], resolution["outcome"]) == (ids[1], "deny")
    review = gc.review(ids[0], "false_negative")
    assert (review["decision_id"], review["label"]) == (ids[0], "false_negative")


def test_an_auditor_checks_a_sidecar_it_does_not_run(tmp_path: Path, pack_file: Path) -> None:  # noqa: F811
    audit = f"sqlite:///{tmp_path / 'a.db'}"
    server = Sidecar("--policy", str(pack_file), "--audit", audit, log=tmp_path / "serve.log")
    try:
        server.wait_ready()
        with GuardClient(server.url) as gc:
            kept = gc.head()  # an auditor keeps a head, then its key
            ids = decided(gc, 3)
            auditor = GuardClient(server.url, public_key=kept["public_key"])
            now = auditor.head()
            auditor.consistency(
                kept["size"], now["size"], first_root=kept["root"], second_root=now["root"]
            )
            assert [auditor.proof(i)["leaf_index"] for i in ids] == [0, 1, 2]
            auditor.close()
    finally:
        server.stop()


# -- a tampered proof, head or consistency proof is refused, naming what failed ----------------


def set_in(path: str, value: Any) -> Change:
    """Set the field at a dotted `path` ("head.root", "audit_path.0") of the answer."""

    def change(answer: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = answer
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        key: Any = int(last) if isinstance(node, list) else last
        node[key] = value(node[key]) if callable(value) else value

    return change


def rehashed(answer: dict[str, Any]) -> None:
    """The record changed and its leaf hash made to match: only the path can tell."""
    answer["record"]["verdict"] = "deny"
    answer["leaf_hash"] = leaf_hash(canonical_json(answer["record"])).hex()


@pytest.mark.parametrize(
    ("change", "failed"),
    [
        pytest.param(set_in("record.verdict", "deny"), "leaf_hash", id="record-changed"),
        pytest.param(set_in("record.action", pay(2**60)), "leaf_hash", id="no-canonical"),
        pytest.param(set_in("leaf_hash", flip), "leaf_hash", id="leaf-hash"),
        pytest.param(rehashed, "audit_path", id="record-and-leaf-hash-changed"),
        pytest.param(set_in("audit_path.0", flip), "audit_path", id="path-step"),
        pytest.param(set_in("audit_path", lambda p: p[:-1]), "audit_path", id="path-short"),
        pytest.param(set_in("leaf_index", 0), "audit_path", id="leaf-index"),
        pytest.param(set_in("tree_size", 6), "head", id="tree-size"),
        pytest.param(set_in("tree_size", 3), "audit_path", id="tree-size-path"),
        pytest.param(set_in("root", flip), "audit_path", id="root"),
        pytest.param(set_in("head.root", flip), "head", id="head-root"),
        pytest.param(set_in("head.size", 4), "head", id="head-size"),
        pytest.param(set_in("head.signature", flip), "signature", id="head-signature"),
        pytest.param(set_in("head.signature", None), "signature", id="head-unsigned"),
        pytest.param(set_in("head.timestamp", "2020-01-01T00:00:00+00:00"), "signature", id="ts"),
        pytest.param(set_in("head.public_key", "00" * 32), "signature", id="other-key"),
    ],
)
def test_a_tampered_inclusion_proof_does_not_verify(
    client: Any,  # noqa: F811
    change: Change,
    failed: str,
) -> None:
    decision_id = decided(GuardClient("http://testserver", client=client))[2]
    with pytest.raises(RemoteError, match="does not verify: .*; it proves nothing") as info:
        tampering(client, change).proof(decision_id)
    assert (info.value.status, info.value.code) == (200, "proof_invalid")
    assert info.value.details == {"failed": failed}
    assert tampering(client, change).proof(decision_id, verify=False)["record"]["id"]


def test_a_head_a_forger_signed_verifies_only_without_the_log_key_pinned(
    client: Any,  # noqa: F811
) -> None:
    gc = GuardClient("http://testserver", client=client)
    decision_id = decided(gc)[0]
    key = gc.head()["public_key"]

    def rewritten(answer: dict[str, Any]) -> None:  # another record, path and head, all signed
        answer["record"]["verdict"] = "deny"
        answer["leaf_hash"] = answer["root"] = leaf_hash(canonical_json(answer["record"])).hex()
        answer.update(tree_size=1, audit_path=[])
        forged(answer["head"], size=1, root=answer["root"])

    assert tampering(client, rewritten).proof(decision_id)["record"]["verdict"] == "deny"
    with pytest.raises(RemoteError, match=f"carries public key .*, not the pinned {key}") as info:
        tampering(client, rewritten, public_key=key).proof(decision_id)
    assert (info.value.code, info.value.details) == ("proof_invalid", {"failed": "public_key"})


@pytest.mark.parametrize(
    ("change", "failed"),
    [
        pytest.param(set_in("signature", flip), "signature", id="signature"),
        pytest.param(set_in("signature", None), "signature", id="unsigned"),
        pytest.param(set_in("root", flip), "signature", id="root"),
        pytest.param(set_in("size", 9), "signature", id="size"),
        pytest.param(set_in("timestamp", "2030-01-01T00:00:00+00:00"), "signature", id="time"),
        pytest.param(lambda head: forged(head, size=9), "public_key", id="forged"),
    ],
)
def test_a_tampered_head_does_not_verify(client: Any, change: Change, failed: str) -> None:  # noqa: F811
    gc = GuardClient("http://testserver", client=client)
    decided(gc, 2)
    key = gc.head()["public_key"]
    with pytest.raises(RemoteError, match="GET /v1/audit/head does not verify") as info:
        tampering(client, change, public_key=key).head()
    assert (info.value.code, info.value.details) == ("proof_invalid", {"failed": failed})
    assert tampering(client, change).head(verify=False)["public_key"]


@pytest.mark.parametrize(
    ("change", "failed"),
    [
        pytest.param(set_in("proof.0", flip), "proof", id="proof-step"),
        pytest.param(set_in("proof", lambda p: [*p, p[0]]), "proof", id="proof-longer"),
        pytest.param(set_in("proof", []), "proof", id="proof-empty"),
        pytest.param(set_in("first_root", flip), "proof", id="first-root"),
        pytest.param(set_in("second_root", flip), "proof", id="second-root"),
    ],
)
def test_a_tampered_consistency_proof_does_not_verify(
    client: Any,  # noqa: F811
    change: Change,
    failed: str,
) -> None:
    decided(GuardClient("http://testserver", client=client))
    with pytest.raises(RemoteError, match="consistency does not verify: the proof of") as info:
        tampering(client, change).consistency(3, 5)
    assert (info.value.code, info.value.details) == ("proof_invalid", {"failed": failed})
    assert tampering(client, change).consistency(3, 5, verify=False)["first"] == 3


def test_a_consistency_proof_between_other_roots_than_the_heads_held_does_not_verify(
    client: Any,  # noqa: F811
) -> None:
    gc = GuardClient("http://testserver", client=client)
    decided(gc, 3)
    old = gc.head()
    decided(gc, 2)
    new = gc.head()
    for roots, failed in (
        ({"first_root": flip(old["root"])}, "first_root"),
        ({"second_root": flip(new["root"])}, "second_root"),
    ):
        with pytest.raises(RemoteError, match=f"{failed} .* is not the .* given") as info:
            gc.consistency(3, 5, **roots)
        assert info.value.details == {"failed": failed}


def test_a_tampered_stored_decision_does_not_verify(client: Any) -> None:  # noqa: F811
    decision_id = decided(GuardClient("http://testserver", client=client))[0]
    changed = set_in("record.verdict", "deny")
    with pytest.raises(RemoteError, match="leaf_hash .* is not SHA-256") as info:
        tampering(client, changed).decision(decision_id)
    assert (info.value.code, info.value.details) == ("proof_invalid", {"failed": "leaf_hash"})

    def one_changed(page: dict[str, Any]) -> None:
        page["items"][3]["record"]["actor"] = "someone-else"

    with pytest.raises(RemoteError, match="GET /v1/decisions does not verify") as info:
        tampering(client, one_changed).decisions()
    assert info.value.details == {"failed": "leaf_hash"}


# -- an answer of the wrong shape, or about another decision, is refused -------------------------

RECORD = {
    "schema_version": "guard.decision/v1",
    "id": "d1",
    "time": "2026-01-01T00:00:00+00:00",
    "policy": "svc-test",
    "policy_version": 1,
    "policy_digest": "sha256:00",
    "mode": "enforce",
    "tenant": None,
    "actor": None,
    "kind": "pay",
    "action_digest": "sha256:01",
    "action": pay(1),
    "final_action": pay(1),
    "verdict": "allow",
    "hits": [],
    "pii": [],
    "pii_report": None,
}
STORED = {"index": 0, "id": "d1", "leaf_hash": leaf_hash(canonical_json(RECORD)).hex()}
STORED["record"] = RECORD
HASH = "ab" * 32
HEAD = {
    "size": 1,
    "root": STORED["leaf_hash"],
    "timestamp": "2026-01-01T00:00:00+00:00",
    "signature": "cd" * 64,
    "key_id": "k",
    "algorithm": "ed25519",
    "public_key": HASH,
}
PROOF = {**STORED, "leaf_index": 0, "tree_size": 1, "audit_path": [], "root": HEAD["root"]}
del PROOF["index"], PROOF["id"]
PROOF["head"] = HEAD
CONSISTENCY = {"first": 1, "second": 2, "first_root": HASH, "second_root": HASH, "proof": [HASH]}
RESOLUTION = {
    "schema_version": "guard.resolution/v1",
    "id": "d1.resolution",
    "decision_id": "d1",
    "time": "2026-01-01T00:00:00+00:00",
    "tenant": None,
    "policy": "svc-test",
    "outcome": "approve",
    "note": "",
    "reviewer": "ann",
    "key": "open-access",
}
REVIEW = {
    **RESOLUTION,
    "schema_version": "guard.review/v1",
    "id": "review-1",
    "label": "correct",
}
del REVIEW["outcome"]


def without(body: dict[str, Any], *path: str) -> dict[str, Any]:
    body = copy.deepcopy(body)
    node = body
    for part in path[:-1]:
        node = node[part]
    del node[path[-1]]
    return body


def but(body: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**copy.deepcopy(body), **changes}


READS: dict[str, tuple[Callable[[GuardClient], Any], dict[str, Any], str]] = {
    "decision": (lambda gc: gc.decision("d1"), STORED, "GET /v1/decisions/d1 is not a stored"),
    "decisions": (
        lambda gc: gc.decisions(),
        {"items": [STORED], "next_cursor": None},
        "GET /v1/decisions is not a page of decisions",
    ),
    "proof": (
        lambda gc: gc.proof("d1", verify=False),
        PROOF,
        "GET /v1/decisions/d1/proof is not an inclusion proof",
    ),
    "head": (
        lambda gc: gc.head(verify=False),
        HEAD,
        "GET /v1/audit/head is not a signed tree head",
    ),
    "consistency": (
        lambda gc: gc.consistency(1, 2, verify=False),
        CONSISTENCY,
        "GET /v1/audit/consistency is not a consistency proof",
    ),
    "resolve": (
        lambda gc: gc.resolve("d1", "approve", reviewer="ann"),
        RESOLUTION,
        "POST /v1/escalations/d1/resolve is not a resolution record",
    ),
    "review": (
        lambda gc: gc.review("d1", "correct", reviewer="ann"),
        REVIEW,
        "POST /v1/decisions/d1/review is not a review record",
    ),
}


@pytest.mark.parametrize("read", READS)
def test_a_well_formed_answer_is_taken(read: str) -> None:
    call, body, _ = READS[read]
    assert call(answering(body).client) == body


@pytest.mark.parametrize(
    ("read", "body"),
    [
        pytest.param("decision", {}, id="decision-empty"),
        pytest.param("decision", without(STORED, "leaf_hash"), id="decision-no-leaf-hash"),
        pytest.param("decision", but(STORED, index=-1), id="decision-negative-index"),
        pytest.param("decision", but(STORED, index="0"), id="decision-index-a-string"),
        pytest.param("decision", but(STORED, leaf_hash="xyz"), id="decision-leaf-hash-not-hex"),
        pytest.param("decision", but(STORED, record=[]), id="decision-record-a-list"),
        pytest.param("decision", without(STORED, "record", "verdict"), id="decision-no-verdict"),
        pytest.param("decision", but(STORED, id="d2"), id="decision-record-of-another-id"),
        pytest.param("decisions", {"items": [STORED]}, id="decisions-no-cursor"),
        pytest.param("decisions", {"items": None, "next_cursor": None}, id="decisions-no-items"),
        pytest.param("decisions", {"items": [1], "next_cursor": None}, id="decisions-item-a-num"),
        pytest.param(
            "decisions", {"items": [but(STORED, id=None)], "next_cursor": None}, id="decisions-id"
        ),
        pytest.param("decisions", {"items": [], "next_cursor": 2}, id="decisions-cursor-a-num"),
        pytest.param("proof", without(PROOF, "audit_path"), id="proof-no-path"),
        pytest.param("proof", but(PROOF, audit_path=[1]), id="proof-path-of-numbers"),
        pytest.param("proof", but(PROOF, audit_path=["ab"]), id="proof-path-short-hash"),
        pytest.param("proof", but(PROOF, tree_size=True), id="proof-size-a-boolean"),
        pytest.param("proof", but(PROOF, root=HASH.upper()), id="proof-root-upper-case"),
        pytest.param("proof", without(PROOF, "head"), id="proof-no-head"),
        pytest.param("proof", without(PROOF, "head", "public_key"), id="proof-head-no-key"),
        pytest.param("proof", without(PROOF, "record", "id"), id="proof-record-no-id"),
        pytest.param("head", but(HEAD, algorithm="rsa"), id="head-algorithm"),
        pytest.param("head", but(HEAD, size=-1), id="head-size-negative"),
        pytest.param("head", but(HEAD, size=1.0), id="head-size-a-float"),
        pytest.param("head", but(HEAD, signature="ab"), id="head-signature-short"),
        pytest.param("head", but(HEAD, signature=7), id="head-signature-a-number"),
        pytest.param("head", but(HEAD, public_key=None), id="head-no-key"),
        pytest.param("head", without(HEAD, "timestamp"), id="head-no-timestamp"),
        pytest.param("consistency", but(CONSISTENCY, first=0), id="consistency-other-first"),
        pytest.param("consistency", but(CONSISTENCY, second=3), id="consistency-other-second"),
        pytest.param("consistency", but(CONSISTENCY, proof=None), id="consistency-no-proof"),
        pytest.param("consistency", but(CONSISTENCY, proof=[7]), id="consistency-proof-nums"),
        pytest.param("consistency", but(CONSISTENCY, first_root=""), id="consistency-root"),
        pytest.param("resolve", {}, id="resolve-empty"),
        pytest.param("resolve", but(RESOLUTION, outcome="deny"), id="resolve-other-outcome"),
        pytest.param("resolve", but(RESOLUTION, reviewer="bob"), id="resolve-other-reviewer"),
        pytest.param("resolve", but(RESOLUTION, schema_version="x"), id="resolve-schema"),
        pytest.param("resolve", but(RESOLUTION, note=None), id="resolve-note-null"),
        pytest.param("resolve", REVIEW, id="resolve-a-review"),
        pytest.param("review", but(REVIEW, label="false_positive"), id="review-other-label"),
        pytest.param("review", but(REVIEW, time=0), id="review-time-a-number"),
        pytest.param("review", RESOLUTION, id="review-a-resolution"),
    ],
)
def test_an_answer_of_the_wrong_shape_is_refused(read: str, body: dict[str, Any]) -> None:
    call, _, where = READS[read]
    with pytest.raises(RemoteError) as info:
        call(answering(body).client)
    assert (info.value.status, info.value.code) == (200, "bad_response")
    assert where in str(info.value) and "nothing is applied" in str(info.value)


@pytest.mark.parametrize(
    ("call", "body"),
    [
        pytest.param(lambda gc: gc.decision("d2"), STORED, id="decision"),
        pytest.param(lambda gc: gc.proof("d2", verify=False), PROOF, id="proof"),
        pytest.param(lambda gc: gc.resolve("d2", "approve"), RESOLUTION, id="resolve"),
        pytest.param(lambda gc: gc.review("d2", "correct"), REVIEW, id="review"),
    ],
)
def test_an_answer_about_another_decision_is_refused(call: Any, body: dict[str, Any]) -> None:
    with pytest.raises(RemoteError, match="'d1', not 'd2'; it is not applied") as info:
        call(answering(body).client)
    assert (info.value.status, info.value.code) == (200, "decision_mismatch")


@pytest.mark.parametrize("key", ["ab" * 31, "zz" * 32, 7, b"ab" * 32, ""], ids=repr)
def test_a_public_key_that_is_not_one_is_refused_when_the_client_is_made(key: Any) -> None:
    with pytest.raises(InvalidAction, match="public_key must be 64 hex digits"):
        GuardClient("http://sidecar", public_key=key)


def test_a_held_root_that_is_not_one_is_refused_before_asking() -> None:
    calls: list[str] = []
    with pytest.raises(InvalidAction, match="second_root must be 64 hex digits.*got 'ab'"):
        counting(calls).consistency(1, 2, second_root="ab")
    assert calls == []
