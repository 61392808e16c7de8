"""An operator's view of the PostgreSQL audit log: migrations from an older or newer
revision, readers that must not create a log, hand-edited tree state, URLs with secrets."""

from __future__ import annotations

import pytest

from guard._exceptions import AuditError, AuditTampered
from guard.audit import open_audit
from tests.audit.test_postgres import admin
from tests.audit.test_tamper import record


def build(url: str, size: int) -> str:
    with open_audit(url) as log:
        log.append_many([record(n) for n in range(size)])
        return log.head(sign=False).root


def test_a_log_at_revision_0001_is_upgraded_with_its_records(
    postgres_server: str, postgres_schema: str, postgres_url: str
) -> None:
    root = build(postgres_url, 600)
    # As revision 0001 left it: no subtrees table.
    admin(
        postgres_server,
        postgres_schema,
        ("DROP TABLE guard_audit_subtrees", ()),
        ("UPDATE guard_alembic_version SET version_num = '0001'", ()),
    )
    for _ in range(2):  # the second open finds the schema current
        with open_audit(postgres_url) as log:
            assert log.head(sign=False).root == root
            assert log.verify().root == root
            assert log.inclusion(index=300).verify()
    rows = admin(
        postgres_server,
        postgres_schema,
        ("SELECT version_num FROM guard_alembic_version", ()),
    )
    assert rows == [("0002",)]
    (count,) = admin(
        postgres_server, postgres_schema, ("SELECT COUNT(*) FROM guard_audit_subtrees", ())
    )
    assert count == (3,)  # 0-255, 256-511 and 0-511


@pytest.mark.parametrize("create", [True, False])
def test_a_newer_revision_is_refused_and_left_alone(
    postgres_server: str, postgres_schema: str, postgres_url: str, create: bool
) -> None:
    build(postgres_url, 3)
    admin(
        postgres_server,
        postgres_schema,
        ("UPDATE guard_alembic_version SET version_num = '0099'", ()),
    )
    with pytest.raises(AuditError, match=r"schema revision 0099, newer than .* \(up to 0002\)"):
        open_audit(postgres_url, create=create)
    rows = admin(
        postgres_server,
        postgres_schema,
        ("SELECT version_num FROM guard_alembic_version", ()),
        ("SELECT COUNT(*) FROM guard_audit_leaves", ()),
    )
    assert rows == [(3,)]
    admin(
        postgres_server,
        postgres_schema,
        ("UPDATE guard_alembic_version SET version_num = '0002'", ()),
    )
    with open_audit(postgres_url, create=False) as log:
        assert log.verify().size == 3


def test_a_reader_of_an_empty_database_creates_nothing(
    postgres_server: str, postgres_schema: str, postgres_url: str
) -> None:
    with pytest.raises(AuditError, match="no audit log at .*no guard_alembic_version table"):
        open_audit(postgres_url, create=False)
    tables = admin(
        postgres_server,
        postgres_schema,
        (
            "SELECT table_name FROM information_schema.tables WHERE table_schema = ?",
            (postgres_schema,),
        ),
    )
    assert tables == []


def test_an_unreadable_tree_state_frontier_names_the_log(
    postgres_server: str, postgres_schema: str, postgres_url: str
) -> None:
    build(postgres_url, 10)
    admin(
        postgres_server,
        postgres_schema,
        ("UPDATE tree_state SET frontier = decode(repeat('00', length(frontier)), 'hex')", ()),
    )
    with open_audit(postgres_url) as log:
        for attempt in (log.verify, log.head, lambda: log.append(record(99))):
            with pytest.raises(AuditError, match="is inconsistent: its tree state frontier cannot"):
                attempt()


def test_an_append_without_the_tree_state_row_says_so(
    postgres_server: str, postgres_schema: str, postgres_url: str
) -> None:
    build(postgres_url, 10)
    admin(postgres_server, postgres_schema, ("DELETE FROM tree_state", ()))
    with open_audit(postgres_url) as log, pytest.raises(AuditError, match="tree state row is gone"):
        log.append(record(99))


def test_swapped_records_and_a_changed_subtree_hash_are_named(
    postgres_server: str, postgres_schema: str, postgres_url: str
) -> None:
    build(postgres_url, 600)
    admin(
        postgres_server,
        postgres_schema,
        ("UPDATE guard_audit_subtrees SET hash = ? WHERE height = 8 AND idx = 1", (bytes(32),)),
    )
    with open_audit(postgres_url, create=False) as log, pytest.raises(AuditTampered) as caught:
        log.verify()
    assert caught.value.index == 256 and "subtree of records 256 to 511" in str(caught.value)
    admin(
        postgres_server,
        postgres_schema,
        ("UPDATE leaves SET idx = -1 WHERE idx = 3", ()),
        ("UPDATE leaves SET idx = 3 WHERE idx = 6", ()),
        ("UPDATE leaves SET idx = 6 WHERE idx = -1", ()),
    )
    with open_audit(postgres_url, create=False) as log, pytest.raises(AuditTampered) as caught:
        log.verify()
    assert caught.value.index == 3 and "record id 'd6'" in str(caught.value)


def test_a_password_in_the_query_is_not_repeated(postgres_server: str) -> None:
    url = "postgresql:///test?host=/nonexistent&password=s3cret&connect_timeout=2"
    with pytest.raises(AuditError, match="could not open the audit log") as caught:
        open_audit(url)
    assert "s3cret" not in str(caught.value) and "password=***" in str(caught.value)


@pytest.mark.parametrize(
    ("part", "message"),
    [
        ("database", 'database "guard_nosuchdb" does not exist'),
        ("role", 'role "guard_nosuchrole" does not exist'),
    ],
)
def test_a_wrong_database_or_role_is_named(postgres_server: str, part: str, message: str) -> None:
    from sqlalchemy import make_url

    url = make_url(postgres_server).set(password="s3cret")
    url = (
        url.set(database="guard_nosuchdb")
        if part == "database"
        else url.set(username="guard_nosuchrole")
    )
    for form in ("postgres", "postgresql", "postgresql+psycopg"):
        with pytest.raises(AuditError, match=message) as caught:
            open_audit(url.set(drivername=form).render_as_string(hide_password=False))
        assert "s3cret" not in str(caught.value)
