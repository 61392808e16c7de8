"""The PostgreSQL store: migrations, tamper detection, several processes sharing one log.

Store and log behaviours shared with SQLite (append, get, query filters and cursors,
proofs, verify) run against PostgreSQL through the `store` and `log` fixtures of
test_store.py and test_log.py; this file holds what is PostgreSQL's own.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from guard._exceptions import AuditError, AuditTampered, DependencyMissing
from guard.audit import AuditLog, TreeHead, open_audit, verify_head
from tests.audit.conftest import libpq_url, with_search_path
from tests.audit.test_durability import CHILD as KILL_CHILD
from tests.audit.test_tamper import EDITS, record, rewrites, truncation

ROOT = Path(__file__).resolve().parents[2]
TABLES = {
    "guard_alembic_version",
    "guard_audit_leaves",
    "guard_audit_subtrees",
    "guard_audit_tree_state",
}


def admin(server: str, schema: str, *statements: tuple[str, tuple[Any, ...]]) -> list[Any]:
    """Run SQL (SQLite-style: `?` placeholders, `leaves` and `tree_state` tables) in `schema`;
    return the last rows."""
    import psycopg

    rows: list[Any] = []
    with psycopg.connect(libpq_url(server)) as conn:
        conn.execute(f'SET search_path TO "{schema}"')
        for sql, params in statements:
            sql = sql.replace(" leaves", " guard_audit_leaves").replace("?", "%s")
            sql = sql.replace(" tree_state", " guard_audit_tree_state")
            cursor = conn.execute(sql, params)
            rows = cursor.fetchall() if cursor.description else []
    return rows


def build(url: str, size: int = 10) -> None:
    with open_audit(url) as log:
        log.append_many([record(n) for n in range(size)])


def child_env() -> dict[str, str]:
    path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    return {**os.environ, "PYTHONPATH": path}


# -- opening: migrations, schemas, URLs, errors ---------------------------------------------


def test_open_migrates_to_prefixed_tables(
    postgres_server: str, postgres_schema: str, postgres_url: str
) -> None:
    from guard.audit import PostgresStore

    PostgresStore(postgres_url).close()
    PostgresStore(postgres_url).close()  # a second open finds the schema current
    tables = admin(
        postgres_server,
        postgres_schema,
        (
            "SELECT table_name FROM information_schema.tables WHERE table_schema = ?",
            (postgres_schema,),
        ),
    )
    assert {name for (name,) in tables} == TABLES
    version = admin(postgres_server, postgres_schema, ("SELECT * FROM guard_alembic_version", ()))
    state = admin(postgres_server, postgres_schema, ("SELECT * FROM guard_audit_tree_state", ()))
    assert version == [("0002",)]
    assert state == [(0, 0, bytes(8))]


def test_sidecars_opening_at_once_migrate_once(
    postgres_server: str, postgres_schema: str, postgres_url: str
) -> None:
    from guard.audit import PostgresStore

    errors: list[BaseException] = []

    def open_and_append(n: int) -> None:
        try:
            store = PostgresStore(postgres_url)
            store.append([f'{{"id":"s{n}"}}'.encode()])
            store.close()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_and_append, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    version = admin(postgres_server, postgres_schema, ("SELECT * FROM guard_alembic_version", ()))
    assert version == [("0002",)]
    with open_audit(postgres_url) as log:
        assert log.verify().size == 4


def test_schema_parameter_creates_the_schema(postgres_server: str) -> None:
    from guard.audit import PostgresStore

    name = f"guard_test_{secrets.token_hex(6)}"
    try:
        with AuditLog(PostgresStore(postgres_server, schema=name)) as log:
            log.append(record(0))
            assert log.verify().size == 1
        tables = admin(
            postgres_server,
            name,
            ("SELECT table_name FROM information_schema.tables WHERE table_schema = ?", (name,)),
        )
        assert {t for (t,) in tables} == TABLES
    finally:
        admin(postgres_server, "public", (f'DROP SCHEMA IF EXISTS "{name}" CASCADE', ()))


@pytest.mark.parametrize(
    ("url", "options", "message"),
    [
        pytest.param(
            "postgresql+asyncpg://u@h/db", {}, "unsupported PostgreSQL driver", id="other-driver"
        ),
        pytest.param("mysql://u@h/db", {}, "unsupported PostgreSQL driver", id="not-postgres"),
        pytest.param("postgresql://u@h/db", {"schema": "a-b"}, "invalid schema name", id="schema"),
        pytest.param(
            "postgresql://u@h/db", {"schema": 'x"; drop'}, "invalid schema name", id="quote"
        ),
        pytest.param("postgresql://u@h/db", {"schema": "Guard"}, "lowercase", id="uppercase"),
    ],
)
def test_bad_arguments_are_refused_before_connecting(
    url: str, options: dict[str, Any], message: str
) -> None:
    pytest.importorskip("sqlalchemy")
    from guard.audit import PostgresStore

    with pytest.raises(AuditError, match=message):
        PostgresStore(url, **options)


def test_open_audit_dispatches_on_the_scheme() -> None:
    with pytest.raises(AuditError, match="postgresql://user@host/db, postgresql\\+psycopg://"):
        open_audit("postgresql+asyncpg://u@h/db")


def test_an_unreachable_server_is_an_audit_error_that_hides_the_password() -> None:
    pytest.importorskip("sqlalchemy")
    pytest.importorskip("psycopg")
    url = "postgresql+psycopg://guard:s3cret@127.0.0.1:1/test?connect_timeout=2"
    with pytest.raises(AuditError, match="could not open the audit log") as caught:
        open_audit(url)
    assert "s3cret" not in str(caught.value)
    assert "guard:***@127.0.0.1:1" in str(caught.value)


def test_a_missing_driver_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "guard.audit._postgres", raising=False)
    monkeypatch.setitem(sys.modules, "sqlalchemy", None)  # as if not installed
    with pytest.raises(DependencyMissing, match=r"pip install 'agent-guard\[service\]'"):
        open_audit("postgresql://u@h/db")


def test_a_dropped_connection_is_replaced(postgres_server: str, postgres_schema: str) -> None:
    app = f"guard_test_{secrets.token_hex(4)}"
    url = with_search_path(postgres_server, postgres_schema) + f"&application_name={app}"
    with open_audit(url) as log:
        log.append(record(0))
        admin(
            postgres_server,
            postgres_schema,
            (
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = ?",
                (app,),
            ),
        )
        assert log.append(record(1)).index == 1  # the pool pings and reconnects
        assert log.verify().size == 2


# -- tamper detection -----------------------------------------------------------------------


@pytest.mark.parametrize(("statements", "index", "reason"), EDITS)
def test_tampering_names_the_first_bad_index(
    postgres_server: str,
    postgres_schema: str,
    postgres_url: str,
    statements: list[tuple[str, tuple[Any, ...]]],
    index: int,
    reason: str,
) -> None:
    build(postgres_url)
    admin(postgres_server, postgres_schema, *statements)
    with open_audit(postgres_url) as log, pytest.raises(AuditTampered) as caught:
        log.verify()
    assert caught.value.index == index
    assert f"tampered at index {index}" in str(caught.value)
    assert reason in str(caught.value)


def test_a_consistent_rewrite_is_caught_by_an_earlier_head(
    postgres_server: str, postgres_schema: str, postgres_url: str
) -> None:
    build(postgres_url)
    with open_audit(postgres_url) as watcher:
        old_head = watcher.head()
        rows = admin(postgres_server, postgres_schema, ("SELECT idx, record FROM leaves", ()))
        admin(postgres_server, postgres_schema, *rewrites(rows, 4, tree_state=True))
        with pytest.raises(AuditTampered, match="records 0 to 7 do not hash to what a head") as e:
            watcher.verify()
        assert e.value.index == 0  # the first subtree of the remembered head that differs
    with open_audit(postgres_url) as fresh:
        fresh.verify()  # self-consistent again: only a remembered head can tell
        assert fresh.consistency(old_head.size, 10).first_root != old_head.root
        with pytest.raises(AuditTampered, match="do not hash to what the tree head given") as e:
            fresh.verify(against=old_head)
        assert e.value.index == 0


def test_a_rewrite_that_leaves_the_tree_state_is_caught(
    postgres_server: str, postgres_schema: str, postgres_url: str
) -> None:
    build(postgres_url)
    rows = admin(postgres_server, postgres_schema, ("SELECT idx, record FROM leaves", ()))
    admin(postgres_server, postgres_schema, *rewrites(rows, 9, tree_state=False))
    with open_audit(postgres_url) as fresh, pytest.raises(AuditTampered) as e:
        fresh.verify()
    assert e.value.index == 8
    assert "records 8 to 9 do not hash to what the store's tree state records" in str(e.value)


def test_a_truncated_tail_is_caught_by_a_log_that_saw_it(
    postgres_server: str, postgres_schema: str, postgres_url: str
) -> None:
    build(postgres_url)
    with open_audit(postgres_url) as watcher:
        watcher.head()
        admin(postgres_server, postgres_schema, ("DELETE FROM leaves WHERE idx >= 8", ()))
        with pytest.raises(AuditTampered, match="records from index 8 on were removed") as e:
            watcher.verify()
        assert e.value.index == 8


def test_a_truncated_tail_is_caught_by_the_tree_state_in_a_new_process(
    postgres_server: str, postgres_schema: str, postgres_url: str
) -> None:
    build(postgres_url, size=78)
    admin(postgres_server, postgres_schema, ("DELETE FROM leaves WHERE idx >= 40", ()))
    with open_audit(postgres_url) as fresh, pytest.raises(AuditTampered) as e:
        fresh.verify()
    assert e.value.index == 40
    assert "the store's tree state records 78" in str(e.value)


def test_a_tree_state_whose_size_disagrees_with_its_frontier_is_an_error(
    postgres_server: str, postgres_schema: str, postgres_url: str
) -> None:
    build(postgres_url)
    admin(
        postgres_server,
        postgres_schema,
        ("DELETE FROM leaves WHERE idx >= 8", ()),
        ("UPDATE tree_state SET size = 8 WHERE id = 0", ()),
    )
    with open_audit(postgres_url) as fresh, pytest.raises(AuditError, match="inconsistent"):
        fresh.verify()


def test_a_tail_deleted_with_its_tree_state_is_caught_only_by_a_published_head(
    postgres_server: str, postgres_schema: str, postgres_url: str
) -> None:
    build(postgres_url)
    with open_audit(postgres_url) as log:
        published = log.head()
    rows = admin(postgres_server, postgres_schema, ("SELECT idx, record FROM leaves", ()))
    admin(postgres_server, postgres_schema, *truncation(rows, 8))
    with open_audit(postgres_url) as fresh:
        assert fresh.verify().size == 8  # nothing in the store itself tells
        with pytest.raises(AuditTampered, match="the tree head given records 10") as e:
            fresh.verify(against=published)
        assert e.value.index == 8
    state = admin(postgres_server, postgres_schema, ("SELECT id, size FROM tree_state", ()))
    assert state == [(0, 8)]  # the one row is still there, and appends go on from it
    with open_audit(postgres_url) as log:
        assert log.append(record(8)).index == 8


# -- several writers ------------------------------------------------------------------------


def test_another_writer_on_the_same_database(postgres_url: str) -> None:
    with open_audit(postgres_url) as mine, open_audit(postgres_url) as theirs:
        mine.append(record(0))
        assert mine.head().size == 1  # loads the cached tree
        theirs.append_many([record(1), record(2)])
        assert mine.append(record(3)).index == 3
        head = mine.head()
        assert head.size == 4 and head.root == theirs.head().root
        assert mine.inclusion("d2").verify()
        assert mine.consistency(1, 4).verify()
        assert mine.verify().root == head.root


def test_two_logs_appending_at_once_from_threads(postgres_url: str) -> None:
    with open_audit(postgres_url) as one, open_audit(postgres_url) as two:

        def work(log: AuditLog, name: str) -> None:
            for n in range(50):
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
        assert one.head().root == two.head().root and one.size == 200


# Appends 200 records (singles and batches of 5), printing each id once acknowledged;
# waits for a line on stdin before starting and again after the first 100.
WRITER = """
import sys
from guard.audit import open_audit

url, name = sys.argv[1], sys.argv[2]
log = open_audit(url)

def ack(ids):
    sys.stdout.write("".join(f"{i}\\n" for i in ids))
    sys.stdout.flush()

def phase(start, stop):
    for k in range(start, stop, 5):
        ids = [f"{name}-{n}" for n in range(k, k + 5)]
        if (k // 5) % 2:
            ack([r.id for r in log.append_many([{"id": i, "writer": name} for i in ids])])
        else:
            for i in ids:
                ack([log.append({"id": i, "writer": name}).id])

print("#ready", flush=True)
sys.stdin.readline()
phase(0, 100)
print("#half", flush=True)
sys.stdin.readline()
phase(100, 200)
log.close()
print("#done", flush=True)
"""


def _read_until(proc: subprocess.Popen[str], marker: str, into: list[str]) -> None:
    assert proc.stdout is not None
    while (line := proc.stdout.readline()) != "":
        if line.strip() == marker:
            return
        into.append(line.strip())
    errors = proc.stderr.read() if proc.stderr is not None else ""
    raise AssertionError(f"writer exited ({proc.wait()}) before {marker!r}: {errors}")


def _go(procs: list[subprocess.Popen[str]]) -> None:
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()


def test_four_processes_append_to_one_consistent_log(postgres_url: str) -> None:
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, postgres_url, f"w{w}"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=child_env(),
            cwd=ROOT,
        )
        for w in range(4)
    ]
    acknowledged: list[str] = []
    heads: list[TreeHead] = []
    try:
        with open_audit(postgres_url) as watcher:
            for proc in procs:
                _read_until(proc, "#ready", acknowledged)
            _go(procs)  # all four start together
            for proc in procs:
                _read_until(proc, "#half", acknowledged)
            middle = watcher.head()
            assert middle.size == 400 and verify_head(middle, watcher.public_key_hex)
            _go(procs)
            while any(proc.poll() is None for proc in procs):
                heads.append(watcher.head(sign=False))  # taken while the others write
                time.sleep(0.05)
            for proc in procs:
                _read_until(proc, "#done", acknowledged)
                _, errors = proc.communicate(timeout=30)
                assert proc.returncode == 0, errors
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()

    assert len(acknowledged) == len(set(acknowledged)) == 800
    with open_audit(postgres_url) as log:
        report = log.verify()
        assert report.size == log.size == 800
        assert {log.get(record_id).id for record_id in acknowledged} == set(acknowledged)
        for head in [middle, *heads]:
            proof = log.consistency(head.size, 800)
            assert proof.verify(), head
            assert (proof.first_root, proof.second_root) == (head.root, report.root)
        writers = [log.get_index(i).record["writer"] for i in range(400)]
        assert sorted(set(writers)) == ["w0", "w1", "w2", "w3"]


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_acknowledged_records_survive_kill_9(postgres_url: str) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", KILL_CHILD, postgres_url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=child_env(),
        cwd=ROOT,
    )
    assert child.stdout is not None
    acknowledged: list[str] = []
    deadline = time.monotonic() + 60
    while len(acknowledged) < 1000 and time.monotonic() < deadline:
        line = child.stdout.readline()
        if not line:
            break
        acknowledged.append(line.strip())
    child.send_signal(signal.SIGKILL)
    rest, errors = child.communicate(timeout=30)
    acknowledged += rest.split()
    assert child.returncode == -signal.SIGKILL, errors
    assert len(acknowledged) >= 200, errors

    with open_audit(postgres_url) as log:
        report = log.verify()
        assert report.size >= len(acknowledged)
        for record_id in acknowledged:
            assert log.get(record_id).id == record_id
        log.append({"id": "after-restart"})
        assert log.verify().size == report.size + 1


@pytest.mark.parametrize(
    ("statements", "reason"),
    [
        pytest.param(
            [
                "ALTER TABLE guard_audit_leaves ALTER COLUMN record TYPE text"
                " USING convert_from(record, 'UTF8')",
            ],
            "its record column holds text, not bytes",
            id="record-text",
        ),
        pytest.param(
            [
                "ALTER TABLE guard_audit_leaves ALTER COLUMN leaf_hash DROP NOT NULL",
                "UPDATE guard_audit_leaves SET leaf_hash = NULL WHERE idx = 4",
            ],
            "its leaf_hash column holds NULL, not bytes",
            id="leaf-hash-null",
        ),
    ],
)
def test_a_column_changed_to_the_wrong_type_is_tampering(
    postgres_server: str,
    postgres_schema: str,
    postgres_url: str,
    statements: list[str],
    reason: str,
) -> None:
    build(postgres_url)
    admin(postgres_server, postgres_schema, *((sql, ()) for sql in statements))
    with open_audit(postgres_url) as log:
        with pytest.raises(AuditTampered) as caught:
            log.verify()
        index = caught.value.index
        assert index == (0 if "record" in reason else 4) and reason in str(caught.value)
        with pytest.raises(AuditTampered, match=reason):
            log.get(f"d{index}")
