from __future__ import annotations

import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from guard._exceptions import AuditError, RecordNotFound
from guard._models import DecisionEventV1, Verdict
from guard.audit import (
    AuditLog,
    ConsistencyProof,
    MemoryStore,
    SqliteStore,
    TreeHead,
    canonical_json,
    leaf_hash,
    merkle_root,
    open_audit,
    verify_consistency,
    verify_head,
    verify_inclusion,
)


def decision(n: int, **changes: Any) -> dict[str, Any]:
    event = DecisionEventV1(
        id=f"d{n}",
        time=f"2024-05-01T12:{n // 60:02d}:{n % 60:02d}+00:00",
        policy="marketplace",
        policy_version=3,
        policy_digest="sha256:00",
        mode="enforce",
        tenant="t1" if n % 3 else "t2",
        actor="u1",
        kind="send_message",
        action_digest="sha256:11",
        action={"kind": "send_message", "params": {"message": "hi", "score": 0.5}},
        final_action=None,
        verdict=Verdict.DENY if n % 2 else Verdict.ALLOW,
        hits=[],
        pii=[],
        pii_report=None,
    )
    return {**event.model_dump(mode="json"), **changes}


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def log(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AuditLog]:
    if request.param == "postgres":  # skipped, with the reason, when no server is configured
        url = request.getfixturevalue("postgres_url")
    else:
        url = "memory://" if request.param == "memory" else f"sqlite:///{tmp_path}/audit.db"
    with open_audit(url) as opened:
        yield opened


def test_append_returns_where_the_record_landed(log: AuditLog) -> None:
    first = log.append(decision(0))
    second = log.append(DecisionEventV1.model_validate(decision(1)))
    assert (first.index, first.id, second.index, second.id) == (0, "d0", 1, "d1")
    assert first.leaf_hash == leaf_hash(canonical_json(decision(0))).hex()
    stored = log.get("d1")
    assert (stored.index, stored.record, stored.leaf_hash) == (1, decision(1), second.leaf_hash)
    assert log.get_index(0).id == "d0"
    assert log.size == 2


def test_append_many_is_ordered_and_gives_ids_to_a_copy(log: AuditLog) -> None:
    review = {"schema_version": "guard.review/v1", "decision_id": "d0", "label": "fine"}
    results = log.append_many([decision(0), review, decision(2)])
    assert [r.index for r in results] == [0, 1, 2]
    assert "id" not in review  # the caller's dict is never changed
    assert log.get(results[1].id).record == {**review, "id": results[1].id}
    assert log.append_many([]) == []


@pytest.mark.parametrize(
    ("record", "message"),
    [
        pytest.param({"id": "x", "score": float("nan")}, "non-finite", id="nan"),
        pytest.param({"id": "x", "when": object()}, "not JSON-serialisable", id="object"),
        pytest.param({"id": 5}, "must be a non-empty string", id="int-id"),
        pytest.param(["not", "a", "dict"], "must be a dict or a pydantic model", id="list"),
    ],
)
def test_invalid_records_are_refused_before_writing(
    log: AuditLog, record: Any, message: str
) -> None:
    log.append(decision(0))
    with pytest.raises(AuditError, match=message):
        log.append_many([decision(1), record])
    assert log.size == 1


def test_duplicate_id_fails_only_that_append(log: AuditLog) -> None:
    log.append(decision(0))
    with pytest.raises(AuditError, match="duplicate audit record id 'd0'"):
        log.append(decision(0))
    assert log.append(decision(1)).index == 1


@pytest.mark.parametrize(
    ("lookup", "message"),
    [
        pytest.param({"record_id": "nope"}, "no audit record with id 'nope'", id="id"),
        pytest.param({"index": 7}, "no audit record at index 7; the log has 1", id="index"),
        pytest.param({"index": -1}, "no audit record at index -1", id="negative"),
    ],
)
def test_missing_records(log: AuditLog, lookup: dict[str, Any], message: str) -> None:
    log.append(decision(0))
    with pytest.raises(RecordNotFound, match=message):
        if "record_id" in lookup:
            log.get(lookup["record_id"])
        else:
            log.get_index(lookup["index"])


def test_inclusion_proofs_verify_for_every_record_and_past_size(log: AuditLog) -> None:
    log.append_many([decision(n) for n in range(13)])
    for index in range(13):
        for size in (index + 1, 13):
            proof = log.inclusion(index=index, tree_size=size)
            assert proof.verify()
            leaf = leaf_hash(canonical_json(proof.record))
            path = [bytes.fromhex(h) for h in proof.audit_path]
            assert verify_inclusion(leaf, index, size, path, bytes.fromhex(proof.root))
    by_id = log.inclusion("d4")
    assert (by_id.leaf_index, by_id.tree_size, by_id.root) == (4, 13, log.head().root)


def test_a_proof_with_an_edited_record_does_not_verify(log: AuditLog) -> None:
    log.append_many([decision(n) for n in range(5)])
    proof = log.inclusion("d2")
    forged = proof.model_copy(update={"record": {**proof.record, "verdict": "deny"}})
    assert proof.verify() and not forged.verify()
    assert not proof.model_copy(update={"root": "not hex"}).verify()
    consistency = log.consistency(2, 5)
    assert not consistency.model_copy(update={"proof": ["zz"]}).verify()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param({}, "exactly one of record_id or index", id="neither"),
        pytest.param({"record_id": "d1", "index": 1}, "exactly one", id="both"),
        pytest.param({"index": 3, "tree_size": 3}, "tree_size 3 must be above", id="too-small"),
        pytest.param({"index": 3, "tree_size": 6}, "at most the log size 5", id="too-big"),
    ],
)
def test_inclusion_argument_errors(log: AuditLog, kwargs: dict[str, Any], message: str) -> None:
    log.append_many([decision(n) for n in range(5)])
    with pytest.raises(AuditError, match=message):
        log.inclusion(**kwargs)


def test_consistency_proofs_between_all_sizes(log: AuditLog) -> None:
    log.append_many([decision(n) for n in range(9)])
    for second in range(10):
        for first in range(second + 1):
            proof = log.consistency(first, second)
            assert isinstance(proof, ConsistencyProof) and proof.verify()
            hashes = [bytes.fromhex(h) for h in proof.proof]
            roots = bytes.fromhex(proof.first_root), bytes.fromhex(proof.second_root)
            assert verify_consistency(first, second, *roots, hashes)
    with pytest.raises(AuditError, match="0 <= first <= second <= 9"):
        log.consistency(5, 10)


def test_heads_are_signed_and_checkable_by_anyone(log: AuditLog) -> None:
    log.append_many([decision(n) for n in range(3)])
    head = log.head()
    hashes = [leaf_hash(canonical_json(decision(n))) for n in range(3)]
    assert (head.size, head.root, head.algorithm) == (3, merkle_root(hashes).hex(), "ed25519")
    assert verify_head(head, log.public_key_hex)
    assert not verify_head(head.model_copy(update={"size": 2}), log.public_key_hex)
    assert not verify_head(head.model_copy(update={"timestamp": "2000"}), log.public_key_hex)
    assert not verify_head(head, open_audit("memory://").public_key_hex)
    assert not verify_head(head, "zz")
    unsigned = log.head(sign=False)
    assert unsigned.signature is None and not verify_head(unsigned, log.public_key_hex)


def test_empty_log_head() -> None:
    head = open_audit(None).head(sign=False)
    assert head == TreeHead(size=0, root=merkle_root([]).hex(), timestamp=head.timestamp)


def test_sqlite_key_is_created_beside_the_database_and_reused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/audit.db"
    with open_audit(url) as first:
        head = first.head()
        public = first.public_key_hex
    key = tmp_path / "audit.db.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert key.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    with open_audit(url) as again:
        assert again.public_key_hex == public and verify_head(head, again.public_key_hex)


def test_explicit_and_bad_signing_keys(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "signer.pem"
    with open_audit("memory://", signing_key_path=str(path)) as log:
        assert verify_head(log.head(), log.public_key_hex)
    assert path.exists()
    (tmp_path / "bad.pem").write_text("not a key")
    with open_audit("memory://", signing_key_path=str(tmp_path / "bad.pem")) as log:
        with pytest.raises(AuditError, match="could not load the signing key"):
            log.head()


# An EC key on a curve cryptography cannot load: UnsupportedAlgorithm, not a ValueError.
SECP112R1_PEM = """-----BEGIN EC PRIVATE KEY-----
MD4CAQEEDjKQ1C2yoUvv1S/SAkqHoAcGBSuBBAAGoSADHgAElGzv72QenGsv+xEI
cz7ahlDt3mxOagAv72gb3A==
-----END EC PRIVATE KEY-----
"""


def test_a_signing_key_of_an_unsupported_kind_is_an_audit_error(tmp_path: Path) -> None:
    path = tmp_path / "odd.pem"
    path.write_text(SECP112R1_PEM)
    with open_audit("memory://", signing_key_path=str(path)) as log:
        with pytest.raises(AuditError, match="could not load the signing key") as caught:
            log.head()
    assert "\n" not in str(caught.value)


def test_group_commit_from_eight_threads_loses_nothing(tmp_path: Path) -> None:
    calls: list[int] = []

    class CountingStore(SqliteStore):
        def append(self, records: list[bytes]) -> list[int]:
            calls.append(len(records))
            return super().append(records)

    log = AuditLog(CountingStore(tmp_path / "a.db"))
    results: list[list[int]] = [[] for _ in range(8)]

    def work(worker: int) -> None:
        for n in range(150):
            results[worker].append(log.append({"id": f"w{worker}-{n}", "n": n}).index)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    indexes = sorted(i for worker in results for i in worker)
    assert indexes == list(range(1200))
    assert all(worker == sorted(worker) for worker in results)  # each caller's order is kept
    assert len(calls) < 1200  # records shared transactions
    assert log.verify().size == 1200
    assert {log.get(f"w{w}-{n}").index for w in range(8) for n in range(150)} == set(indexes)
    log.close()


def test_a_failing_record_in_a_shared_transaction_fails_only_its_caller() -> None:
    entered, release = threading.Event(), threading.Event()
    batches: list[int] = []

    class PickyStore(MemoryStore):
        def append(self, records: list[bytes]) -> list[int]:
            batches.append(len(records))
            if len(batches) == 1:  # hold the writer so the next callers queue up together
                entered.set()
                release.wait(5)
            if any(b"poison" in r for r in records):
                raise AuditError("refused by the store")
            return super().append(records)

    log = AuditLog(PickyStore())
    outcomes: dict[str, str] = {}

    def work(record_id: str) -> None:
        try:
            outcomes[record_id] = str(log.append({"id": record_id, "note": record_id}).index)
        except AuditError as exc:
            outcomes[record_id] = str(exc)

    first = threading.Thread(target=work, args=("first",))
    first.start()
    entered.wait(5)
    others = [threading.Thread(target=work, args=(f"r{n}",)) for n in range(4)]
    others.append(threading.Thread(target=work, args=("poison",)))
    for thread in others:
        thread.start()
    time.sleep(0.3)
    release.set()
    for thread in [first, *others]:
        thread.join()
    assert outcomes.pop("poison") == "refused by the store"
    assert sorted(outcomes.values()) == ["0", "1", "2", "3", "4"]
    assert max(batches) > 1  # the queued callers did share a transaction attempt
    assert log.verify().size == 5
    log.close()


def test_reopen_and_keep_appending(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/audit.db"
    with open_audit(url) as log:
        log.append_many([decision(n) for n in range(5)])
        old = log.head()
    with open_audit(url) as log:
        assert log.size == 5
        log.append_many([decision(n) for n in range(5, 12)])
        proof = log.consistency(5, 12)
        assert proof.first_root == old.root and proof.verify()
        assert log.verify().size == 12
        assert log.inclusion("d3").verify()


def test_relative_sqlite_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with open_audit("sqlite:///data/audit.db") as log:
        log.append(decision(0))
    assert (tmp_path / "data" / "audit.db").exists()


def test_another_writer_on_the_same_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/audit.db"
    with open_audit(url) as mine, open_audit(url) as theirs:
        mine.append(decision(0))
        assert mine.head().size == 1  # loads the cached tree
        theirs.append_many([decision(1), decision(2)])
        assert mine.append(decision(3)).index == 3
        head = mine.head()
        assert head.size == 4 and head.root == theirs.head().root
        assert mine.inclusion("d2").verify()
        assert mine.consistency(1, 4).verify()
        assert mine.verify().root == head.root


def test_two_logs_appending_at_once_to_one_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/audit.db"
    with open_audit(url) as one, open_audit(url) as two:

        def work(log: AuditLog, name: str) -> None:
            for n in range(100):
                log.append({"id": f"{name}-{n}"})

        threads = [
            threading.Thread(target=work, args=(log, f"{k}{w}"))
            for k, log in (("one", one), ("two", two))
            for w in range(2)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert one.verify() == two.verify()
        assert one.head().root == two.head().root and one.size == 400


def test_query_pages_through_everything_newest_first(log: AuditLog) -> None:
    log.append_many([decision(n) for n in range(30)])
    seen: list[str] = []
    cursor = None
    while True:
        page = log.query(verdict=Verdict.DENY, limit=4, cursor=cursor)
        seen += [item.id for item in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == [f"d{n}" for n in range(29, -1, -1) if n % 2]
    assert log.query(limit=1).items[0].id == "d29"


def test_query_converts_filter_values(log: AuditLog) -> None:
    from datetime import datetime, timezone

    log.append_many([decision(n) for n in range(6)])
    since = datetime(2024, 5, 1, 12, 0, 4, tzinfo=timezone.utc)
    assert [i.id for i in log.query(since=since).items] == ["d5", "d4"]
    assert [i.id for i in log.query(policy_version=3, tenant="t2").items] == ["d3", "d0"]


@pytest.mark.parametrize(
    "cursor",
    [
        pytest.param("garbage!", id="not-base64"),
        pytest.param("aWR4Oi0x", id="negative-index"),
        pytest.param("", id="empty"),
        pytest.param("eDo1", id="wrong-prefix"),
    ],
)
def test_a_bad_cursor_is_a_clear_audit_error(log: AuditLog, cursor: str) -> None:
    with pytest.raises(AuditError, match="invalid cursor") as caught:
        log.query(cursor=cursor)
    assert not isinstance(caught.value, ValueError)


@pytest.mark.parametrize("limit", [0, -1, 1001])
def test_limit_bounds(log: AuditLog, limit: int) -> None:
    with pytest.raises(AuditError, match="limit must be between 1 and 1000"):
        log.query(limit=limit)


def test_iter_records(log: AuditLog) -> None:
    log.append_many([decision(n) for n in range(10)])
    assert [r.index for r in log.iter_records(7)] == [7, 8, 9]
    assert [r.record for r in log.iter_records()] == [decision(n) for n in range(10)]


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("mysql://x", id="mysql"),
        pytest.param("sqlite://", id="sqlite-no-path"),
        pytest.param("sqlite:///", id="sqlite-empty-path"),
        pytest.param("memory:", id="memory-typo"),
    ],
)
def test_unsupported_urls_name_the_schemes(url: str) -> None:
    with pytest.raises(AuditError, match="expected one of memory://, sqlite:///"):
        open_audit(url)


def test_closed_log_refuses_appends() -> None:
    log = AuditLog(MemoryStore())
    log.append(decision(0))
    log.close()
    with pytest.raises(AuditError, match="closed"):
        log.append(decision(1))


@pytest.mark.parametrize("text", ["\udcff", "a\x00b"], ids=["lone-surrogate", "nul"])
def test_ids_and_filters_no_record_can_hold_find_nothing(log: AuditLog, text: str) -> None:
    # "\udcff" is how argv carries the byte 0xff; PostgreSQL text cannot hold NUL
    log.append(decision(0))
    with pytest.raises(RecordNotFound, match="no audit record with id"):
        log.get(text)
    assert log.query(actor=text).items == [] and log.query(rule_id=text).items == []
    assert log.query().items[0].id == "d0"
