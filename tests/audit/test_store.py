from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from enum import Enum, IntEnum
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from guard._exceptions import AuditError
from guard._models import DecisionEventV1, Verdict
from guard.audit import (
    AuditStore,
    MemoryStore,
    RecordQuery,
    SqliteStore,
    canonical_json,
    leaf_hash,
    merkle_root,
)
from guard.audit._log import _prepare
from guard.audit._store import CanonicalRecord, index_columns


def decision(n: int, **changes: Any) -> dict[str, Any]:
    event = DecisionEventV1(
        id=f"d{n}",
        time=f"2024-05-01T12:{n // 60:02d}:{n % 60:02d}+00:00",
        policy="marketplace",
        policy_version=3,
        policy_digest="sha256:00",
        mode="enforce",
        tenant="t1",
        actor="u1",
        kind="send_message",
        action_digest="sha256:11",
        action={"kind": "send_message", "params": {"message": "hi"}},
        final_action=None,
        verdict=Verdict.ALLOW,
        hits=[],
        pii=[],
        pii_report=None,
    )
    return {**event.model_dump(mode="json"), **changes}


def hit(rule_id: str) -> dict[str, Any]:
    return {"rule_id": rule_id, "effect": "deny", "message": "", "evidence": {}}


def shadow(agrees: bool) -> dict[str, Any]:
    return {"policy": "p", "version": 4, "digest": "x", "verdict": "deny", "agrees": agrees}


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AuditStore]:
    made: AuditStore
    if request.param == "memory":
        made = MemoryStore()
    elif request.param == "sqlite":
        made = SqliteStore(tmp_path / "a.db")
    else:  # skipped, with the reason, when no server is configured
        from guard.audit import PostgresStore

        made = PostgresStore(request.getfixturevalue("postgres_url"))
    yield made
    made.close()


def put(store: AuditStore, *records: dict[str, Any]) -> list[int]:
    return store.append([canonical_json(r) for r in records])


def test_stores_satisfy_the_protocol(store: AuditStore) -> None:
    assert isinstance(store, AuditStore)


def test_append_assigns_consecutive_indexes_and_roots(store: AuditStore) -> None:
    assert put(store, decision(0), decision(1)) == [0, 1]
    assert put(store, decision(2)) == [2]
    assert store.append([]) == []
    leaves = store.read(0, 10)
    hashes = [leaf_hash(canonical_json(decision(n))) for n in range(3)]
    assert [leaf.index for leaf in leaves] == [0, 1, 2]
    assert [leaf.leaf_hash for leaf in leaves] == hashes == store.leaf_hashes(0, 3)
    assert [leaf.root_after for leaf in leaves] == [merkle_root(hashes[: n + 1]) for n in range(3)]
    assert store.size() == 3
    assert store.find("d1") == 1
    assert store.find("nope") is None


def test_read_rows_and_frontier_give_what_was_committed(store: AuditStore) -> None:
    assert store.frontier().size == 0  # type: ignore[attr-defined]
    assert store.read_rows(0, 10) == []  # type: ignore[attr-defined]
    records = [
        decision(0),
        decision(1, verdict="deny", hits=[hit("r1")], shadow=shadow(agrees=False)),
        {"schema_version": "guard.resolution/v1", "id": "x", "decision_id": "d0", "n": 3},
    ]
    put(store, *records)
    rows = store.read_rows(1, 10)  # type: ignore[attr-defined]
    assert [row.leaf for row in rows] == store.read(1, 10)
    assert [row.columns for row in rows] == [index_columns(r) for r in records[1:]]
    frontier = store.frontier()  # type: ignore[attr-defined]
    assert frontier.size == 3 and frontier.root() == store.read(2, 3)[0].root_after


@pytest.mark.parametrize(
    ("batch", "message"),
    [
        pytest.param([decision(0)], "duplicate audit record id 'd0'", id="id-already-stored"),
        pytest.param([decision(5), decision(5)], "duplicate audit record id 'd5'", id="id-twice"),
        pytest.param([decision(6), {"n": 1}], "needs a non-empty string 'id'", id="no-id"),
        pytest.param([decision(7), {"id": 7}], "needs a non-empty string 'id'", id="int-id"),
        pytest.param([[1, 2]], "must be a JSON object", id="not-an-object"),
    ],
)
def test_a_bad_batch_writes_nothing(store: AuditStore, batch: list[Any], message: str) -> None:
    put(store, decision(0), decision(1))
    with pytest.raises(AuditError, match=message):
        store.append([canonical_json(r) for r in batch])
    assert store.size() == 2
    assert put(store, decision(2)) == [2]


def test_columns_are_extracted_from_a_decision() -> None:
    record = decision(
        1,
        verdict="deny",
        hits=[hit("r1"), hit("r2"), hit("r1")],
        items=[{"id": "i1", "rank": 0, "verdict": "deny", "rule_ids": ["r3"], "reason": ""}],
        shadow=shadow(agrees=False),
    )
    columns = index_columns(record)
    assert columns.rule_ids == " r1 r2 r3 "
    assert columns.shadow_disagrees == 1
    assert (columns.policy_version, columns.record_type, columns.ref_id) == (
        "3",
        "guard.decision/v1",
        None,
    )


def test_columns_of_another_record_type() -> None:
    review = {"schema_version": "guard.review/v1", "id": "v1", "decision_id": "d1", "label": "ok"}
    columns = index_columns(review)
    assert (columns.record_type, columns.ref_id, columns.tenant, columns.rule_ids) == (
        "guard.review/v1",
        "d1",
        None,
        None,
    )


class Label(str, Enum):
    DENY = "deny"


class Number(IntEnum):
    THREE = 3


def read_back(record: dict[str, Any]) -> Any:
    return index_columns(orjson.loads(canonical_json(record)))


def described_columns(record: dict[str, Any]) -> Any:
    data = _prepare(record)
    assert type(data) is CanonicalRecord
    return data.columns


def test_columns_of_a_plain_decision_come_with_the_record() -> None:
    record = decision(1, hits=[hit("r1")], items=[{"rule_ids": ["r2"]}], shadow=shadow(False))
    assert described_columns(record) == read_back(record) == index_columns(record)


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"policy_version": 3.0}, id="integral-float"),
        pytest.param({"policy_version": Number.THREE}, id="int-subclass"),
        pytest.param({"verdict": Label.DENY}, id="str-subclass"),
        pytest.param({"tenant": ("t1",)}, id="tuple-field"),
        pytest.param({"hits": (hit("r1"),)}, id="tuple-hits"),
        pytest.param({"hits": [{"rule_id": 5.0}]}, id="float-rule-id"),
        pytest.param({"items": [{"rule_ids": ("r1",)}]}, id="tuple-rule-ids"),
        pytest.param({"items": [{"rule_ids": [1.0]}]}, id="float-in-rule-ids"),
    ],
)
def test_columns_of_values_that_read_back_differently_are_those_of_the_bytes(
    changes: dict[str, Any],
) -> None:
    record = decision(1, **changes)
    assert described_columns(record) == read_back(record)


JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=4),
    st.sampled_from([Label.DENY, Number.THREE, 2.0, -0.0]),
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.tuples(inner, inner),
        st.dictionaries(st.sampled_from(["rule_id", "rule_ids", "agrees", "x"]), inner, max_size=3),
    ),
    max_leaves=8,
)
FIELDS = ["time", "tenant", "policy_version", "verdict", "schema_version", "decision_id"]
FIELDS += ["ref_id", "hits", "items", "shadow"]


@given(st.dictionaries(st.sampled_from(FIELDS), JSON_VALUES, max_size=6))
def test_columns_that_come_with_a_record_are_those_of_its_bytes(record: dict[str, Any]) -> None:
    record["id"] = "r1"
    try:
        expected = read_back(record)
    except AuditError:  # not JSON: never reaches a store
        return
    assert described_columns(record) == expected


def test_a_described_record_is_stored_as_plain_bytes(store: AuditStore) -> None:
    data = canonical_json(decision(0))
    columns = index_columns(decision(0))
    described = CanonicalRecord.describe(data, "d0", leaf_hash(data), columns)
    assert store.append([described]) == [0]
    (leaf,) = store.read(0, 1)
    assert type(leaf.record) is bytes and leaf.record == data
    assert (leaf.id, leaf.leaf_hash) == ("d0", leaf_hash(data))
    assert [found.id for found in store.query(RecordQuery(tenant="t1"), before=None, limit=5)] == [
        "d0"
    ]


RECORDS = [
    decision(0),
    decision(1, tenant="t2", verdict="deny", hits=[hit("no-pii")]),
    decision(2, verdict="escalate", hits=[hit("pay_limit"), hit("no-pii")], actor="u2"),
    decision(3, policy_version="4", kind="release_payment", mode="shadow"),
    decision(4, shadow=shadow(agrees=False)),
    decision(5, shadow=shadow(agrees=True)),
    decision(6, hits=[hit("payXlimit")]),
    {"schema_version": "guard.review/v1", "id": "review-1", "decision_id": "d2", "label": "bad"},
]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        pytest.param({}, ["review-1", "d6", "d5", "d4", "d3", "d2", "d1", "d0"], id="all"),
        pytest.param({"tenant": "t2"}, ["d1"], id="tenant"),
        pytest.param({"verdict": "deny"}, ["d1"], id="verdict"),
        pytest.param({"rule_id": "no-pii"}, ["d2", "d1"], id="rule"),
        pytest.param({"rule_id": "pay_limit"}, ["d2"], id="rule-underscore-is-literal"),
        pytest.param({"rule_id": "no"}, [], id="rule-prefix-does-not-match"),
        pytest.param({"rule_id": "%"}, [], id="rule-percent-is-literal"),
        pytest.param({"policy": "marketplace", "policy_version": "4"}, ["d3"], id="version"),
        pytest.param({"actor": "u2"}, ["d2"], id="actor"),
        pytest.param({"kind": "release_payment"}, ["d3"], id="kind"),
        pytest.param({"since": "2024-05-01T12:00:05"}, ["d6", "d5"], id="since-inclusive"),
        pytest.param({"until": "2024-05-01T12:00:01+00:00"}, ["d0"], id="until-exclusive"),
        pytest.param({"shadow_disagrees": True}, ["d4"], id="shadow-disagrees"),
        pytest.param({"shadow_disagrees": False}, ["d5"], id="shadow-agrees"),
        pytest.param({"record_type": "guard.review/v1"}, ["review-1"], id="record-type"),
        pytest.param({"ref_id": "d2"}, ["review-1"], id="ref-id"),
        pytest.param({"tenant": "t1", "verdict": "deny"}, [], id="all-filters-must-hold"),
    ],
)
def test_query_filters(store: AuditStore, filters: dict[str, Any], expected: list[str]) -> None:
    put(store, *RECORDS)
    found = store.query(RecordQuery(**filters), before=None, limit=50)
    assert [leaf.id for leaf in found] == expected


def test_query_before_and_limit(store: AuditStore) -> None:
    put(store, *RECORDS)
    found = store.query(RecordQuery(tenant="t1"), before=5, limit=2)
    assert [leaf.index for leaf in found] == [4, 3]


def test_sqlite_schema_and_journal_mode(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "nested" / "a.db")
    put(store, decision(1, hits=[hit("r1")]))
    store.close()
    conn = sqlite3.connect(tmp_path / "nested" / "a.db")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    row = conn.execute(
        "SELECT rule_ids, record_type, policy_version, record FROM leaves"
    ).fetchone()
    assert row[:3] == (" r1 ", "guard.decision/v1", "3")
    assert bytes(row[3]) == canonical_json(decision(1, hits=[hit("r1")]))
    conn.close()


def test_sqlite_drops_the_indexes_of_earlier_versions(tmp_path: Path) -> None:
    SqliteStore(tmp_path / "a.db").close()
    conn = sqlite3.connect(tmp_path / "a.db")
    conn.execute("CREATE INDEX leaves_verdict ON leaves(verdict)")  # as an older version did
    conn.commit()
    SqliteStore(tmp_path / "a.db").close()
    names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    conn.close()
    assert "leaves_verdict" not in names and {"leaves_tenant", "leaves_ref_id"} <= names


def test_two_sqlite_stores_on_one_file_share_the_log(tmp_path: Path) -> None:
    first, second = SqliteStore(tmp_path / "a.db"), SqliteStore(tmp_path / "a.db")
    assert put(first, decision(0)) == [0]
    assert put(second, decision(1), decision(2)) == [1, 2]
    assert put(first, decision(3)) == [3]
    hashes = first.leaf_hashes(0, 4)
    assert second.read(3, 4)[0].root_after == merkle_root(hashes)
    first.close()
    second.close()


def test_sqlite_open_failure_is_an_audit_error(tmp_path: Path) -> None:
    (tmp_path / "dir.db").mkdir()
    with pytest.raises(AuditError, match="it is a folder"):
        SqliteStore(tmp_path / "dir.db")
