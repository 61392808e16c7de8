"""PostgreSQL: an append whose COMMIT reached the server but whose acknowledgement was lost
(the connection dropped after the commit) is recognised as committed, and a retry of records
already in the log says which ones, and whether the log holds them as they are."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from guard._exceptions import AuditError
from guard.audit import AuditLog
from guard.audit._canonical import canonical_json
from tests.audit.conftest import libpq_url, with_search_path
from tests.audit.test_store import decision
from tests.audit.test_sweep5_faults_postgres import Proxy


@pytest.fixture
def store(postgres_url: str) -> Iterator[Any]:
    from guard.audit import PostgresStore

    made = PostgresStore(postgres_url)
    yield made
    made.close()


def lose_acks(store: Any, monkeypatch: pytest.MonkeyPatch, then: Callable[[], None]) -> None:
    """Every COMMIT is done by the server, then the connection drops before its answer."""
    import psycopg

    dialect = store._engine.dialect
    commit = dialect.do_commit

    def committed_then_dropped(connection: Any) -> None:
        commit(connection)
        then()
        connection.dbapi_connection.close()  # the pooled one: SQLAlchemy sees it broken
        raise psycopg.OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(dialect, "do_commit", committed_then_dropped)


def encoded(*numbers: int, **changes: Any) -> list[bytes]:
    return [canonical_json(decision(n, **changes)) for n in numbers]


def test_a_lost_commit_ack_is_recognised_as_committed(
    store: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert store.append(encoded(0)) == [0]
    lose_acks(store, monkeypatch, then=lambda: None)
    assert store.append(encoded(1, 2, 3)) == [1, 2, 3]
    monkeypatch.undo()
    assert store.size() == 4
    assert store.append(encoded(4)) == [4]


def test_a_decision_whose_commit_ack_was_lost_is_acknowledged(
    store: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = AuditLog(store)
    lose_acks(store, monkeypatch, then=lambda: None)
    assert log.append(decision(0)).index == 0
    monkeypatch.undo()
    assert log.verify().size == 1 and log.get("d0").record["id"] == "d0"


def test_a_commit_not_checkable_then_retried_says_it_is_already_committed(
    postgres_server: str, postgres_schema: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from guard.audit import PostgresStore

    parts = urlsplit(libpq_url(postgres_server))
    proxy = Proxy((parts.hostname or "127.0.0.1", parts.port or 5432))
    proxy.up()
    netloc = f"{parts.username or 'postgres'}@127.0.0.1:{proxy.port}"
    store = PostgresStore(with_search_path(parts._replace(netloc=netloc).geturl(), postgres_schema))
    try:
        lose_acks(store, monkeypatch, then=proxy.down)  # and the server stays unreachable
        with pytest.raises(AuditError, match="could not append.*may be committed") as caught:
            store.append(encoded(0, 1))
        assert "could not check" in str(caught.value)
        monkeypatch.undo()
        proxy.up()
        with pytest.raises(AuditError) as retried:
            store.append(encoded(0, 1))
        message = str(retried.value)
        assert "duplicate audit record id 'd0'" in message
        assert "this very record, committed at index 0 (same content)" in message
        assert store.size() == 2
    finally:
        proxy.down()
        store.close()


@pytest.mark.parametrize(
    ("retried", "expected"),
    [
        pytest.param(
            encoded(0), "'d0': the log holds this very record, committed at index 0", id="same"
        ),
        pytest.param(
            encoded(5, 1),
            "'d1': the log holds this very record, committed at index 1",
            id="same-after-a-new-one",
        ),
        pytest.param(
            encoded(0, verdict="deny"),
            "'d0': index 0 holds a different record with this id",
            id="different",
        ),
    ],
)
def test_a_duplicate_id_says_whether_the_stored_record_is_the_same(
    store: Any, retried: list[bytes], expected: str
) -> None:
    store.append(encoded(0, 1))
    with pytest.raises(AuditError, match="duplicate audit record id") as caught:
        store.append(retried)
    assert expected in str(caught.value)
    assert "nothing was written" in str(caught.value)
    assert store.size() == 2
