"""An operator's view of the SQLite audit log: odd URLs, read-only copies, hand-edited tree
state and stored subtrees, several writer processes with a reader."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from guard._exceptions import AuditError, AuditTampered
from guard.audit import open_audit
from tests.audit.test_postgres import child_env
from tests.audit.test_tamper import build, edit, record

# -- URLs --------------------------------------------------------------------------------------


@pytest.mark.parametrize("create", [True, False])
def test_sqlite_memory_url_is_refused_pointing_at_memory(create: bool) -> None:
    with pytest.raises(AuditError, match=r"sqlite:///:memory:.*memory://") as caught:
        open_audit("sqlite:///:memory:", create=create)
    assert "No such file" not in str(caught.value)


@pytest.mark.parametrize("create", [True, False])
def test_sqlite_url_with_a_query_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, create: bool
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(AuditError, match=r"file path only, without options such as '\?mode=ro'"):
        open_audit(f"sqlite:///{tmp_path}/audit.db?mode=ro", create=create)
    assert list(tmp_path.iterdir()) == []  # no file named 'audit.db?mode=ro'


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg2://guard:s3cret@127.0.0.1/test",
        "POSTGRESQL://guard:s3cret@127.0.0.1/test",
        "mysql://guard:s3cret@127.0.0.1/test",
        "postgresql+asyncpg://guard:s3cret@db/test?password=s3cret",
    ],
)
def test_an_unsupported_url_does_not_repeat_its_password(url: str) -> None:
    with pytest.raises(AuditError, match="unsupported audit URL") as caught:
        open_audit(url)
    assert "s3cret" not in str(caught.value)
    assert "guard:***@" in str(caught.value)


def test_a_relative_and_an_absolute_path_name_the_same_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with open_audit("sqlite:///logs/audit.db") as log:  # the folder is made for a writer
        log.append(record(0))
    with open_audit(f"sqlite:///{tmp_path}/logs/audit.db", create=False) as log:
        assert log.verify().size == 1


def test_a_reader_given_a_path_in_a_missing_folder_makes_nothing(tmp_path: Path) -> None:
    with pytest.raises(AuditError, match="no audit log at .*the file does not exist"):
        open_audit(f"sqlite:///{tmp_path}/missing/audit.db", create=False)
    assert not (tmp_path / "missing").exists()


# -- hand-edited tree state and stored subtrees ------------------------------------------------


@pytest.mark.parametrize("create", [True, False])
def test_an_unreadable_tree_state_frontier_names_the_log(tmp_path: Path, create: bool) -> None:
    url = build(tmp_path)
    edit(tmp_path, ("UPDATE tree_state SET frontier = zeroblob(length(frontier))", ()))
    with open_audit(url, create=create) as log:
        attempts = [log.verify, log.head, lambda: log.append(record(99))]
        for attempt in attempts if create else attempts[:1]:
            with pytest.raises(AuditError, match="is inconsistent: its tree state frontier cannot"):
                attempt()


def test_an_append_refuses_a_tree_state_whose_size_disagrees(tmp_path: Path) -> None:
    url = build(tmp_path)
    edit(tmp_path, ("UPDATE tree_state SET size = 9", ()))
    with open_audit(url) as log, pytest.raises(AuditError, match="says size 9 but holds"):
        log.append(record(99))
    assert sqlite3.connect(tmp_path / "audit.db").execute(
        "SELECT COUNT(*) FROM leaves"
    ).fetchone() == (10,)


def test_swapped_records_are_named_at_the_first(tmp_path: Path) -> None:
    url = build(tmp_path)
    edit(
        tmp_path,
        ("UPDATE leaves SET idx = -1 WHERE idx = 3", ()),
        ("UPDATE leaves SET idx = 3 WHERE idx = 6", ()),
        ("UPDATE leaves SET idx = 6 WHERE idx = -1", ()),
    )
    with open_audit(url, create=False) as log, pytest.raises(AuditTampered) as caught:
        log.verify()
    assert caught.value.index == 3
    assert "record id 'd6'" in str(caught.value)


def test_a_changed_stored_subtree_hash_is_named(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/audit.db"
    with open_audit(url) as log:
        log.append_many([record(n) for n in range(600)])
    edit(tmp_path, ("UPDATE subtrees SET hash = zeroblob(32) WHERE height = 8 AND idx = 1", ()))
    with open_audit(url, create=False) as log, pytest.raises(AuditTampered) as caught:
        log.verify()
    assert caught.value.index == 256
    assert "subtree of records 256 to 511" in str(caught.value)


# -- two writer processes and a reader ---------------------------------------------------------

WRITER = """
import sys
from guard.audit import open_audit
with open_audit(sys.argv[1]) as log:
    for n in range(200):
        log.append({"id": f"{sys.argv[2]}-{n}", "n": n})
"""


def test_two_processes_append_to_one_sqlite_file_while_a_reader_proves(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/audit.db"
    with open_audit(url) as reader:
        procs = [
            subprocess.Popen([sys.executable, "-c", WRITER, url, tag], env=child_env())
            for tag in ("a", "b")
        ]
        heads = []
        while any(proc.poll() is None for proc in procs) or not heads:
            head = reader.head(sign=False)  # never a torn state, whatever the writers do
            if head.size:
                assert reader.inclusion(index=head.size - 1, tree_size=head.size).verify()
            heads.append(head)
        assert [proc.wait() for proc in procs] == [0, 0]
        report = reader.verify()
        assert report.size == 400
        ids = [stored.id for stored in reader.iter_records()]
        assert sorted(ids) == sorted(f"{tag}-{n}" for tag in "ab" for n in range(200))
        for head in heads:
            proof = reader.consistency(head.size, report.size)
            assert proof.verify() and proof.first_root == head.root


# -- a read-only copy ----------------------------------------------------------------------------

READER = """
import sys
from guard.audit import open_audit
with open_audit(sys.argv[1], create=False) as log:
    print(log.verify().size, log.head(sign=False).size)
"""


def test_a_log_this_process_cannot_write_is_read() -> None:
    folder = Path(tempfile.mkdtemp(prefix="guard-readonly-"))  # not pytest's: that one is 0700
    try:
        url = f"sqlite:///{folder}/audit.db"
        with open_audit(url) as log:  # closed: its WAL is checkpointed into the file and removed
            log.append_many([record(n) for n in range(5)])
        command = [sys.executable, "-c", READER, url]
        if os.geteuid() == 0:  # root may write anything: read as nobody instead
            if not Path("/usr/bin/setpriv").exists():
                pytest.skip("running as root without setpriv to drop privileges")
            command = [
                "/usr/bin/setpriv",
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
            ] + command
            folder.chmod(0o755)  # nobody may read the file, not write it or make files beside it
        else:
            (folder / "audit.db").chmod(0o444)
            folder.chmod(0o555)
        done = subprocess.run(command, capture_output=True, text=True, env=child_env(), timeout=120)
        assert done.returncode == 0, done.stderr
        assert done.stdout.split() == ["5", "5"]
    finally:
        folder.chmod(0o755)
        shutil.rmtree(folder)
