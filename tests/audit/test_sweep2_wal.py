"""Readers open a SQLite log read-only: they never checkpoint or delete a writer's WAL."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from guard.audit import open_audit
from guard.cli import app

WRITER = """
import os, sys
from guard.audit import open_audit
log = open_audit("sqlite:///" + sys.argv[1])
for i in range(30):
    log.append({"id": f"r{i}", "n": i})
os._exit(0)  # killed: the WAL is never checkpointed into the file
"""


@pytest.fixture
def crashed(tmp_path: Path) -> Path:
    path = tmp_path / "w.db"
    subprocess.run([sys.executable, "-c", WRITER, str(path)], check=True, timeout=120)
    assert Path(f"{path}-wal").stat().st_size > 0
    return path


def test_verify_leaves_the_wal_of_a_killed_writer_alone(crashed: Path) -> None:
    from typer.testing import CliRunner

    wal = Path(f"{crashed}-wal")
    before = wal.read_bytes()
    result = CliRunner().invoke(app, ["audit", "verify", "--audit", f"sqlite:///{crashed}"])
    assert result.exit_code == 0 and "30 records verified" in result.output
    assert wal.read_bytes() == before  # not checkpointed away, not deleted


def test_a_reader_cannot_write(crashed: Path) -> None:
    log = open_audit(f"sqlite:///{crashed}", create=False)
    try:
        assert log.size == 30
        with pytest.raises(Exception, match="readonly|read-only|read only"):
            log.append({"id": "late"})
    finally:
        log.close()
