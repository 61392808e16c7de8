"""docs/audit-cli.md as a new user runs it: the command block, typed as printed, works on a
log a Guard wrote, and each row of its exit-code table is the code the command gives, with
one `error: ` line on stderr."""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from guard import Guard

DOC = (Path(__file__).resolve().parents[1] / "docs" / "audit-cli.md").read_text(encoding="utf-8")
BIN = Path(sys.executable).parent
PACK = """\
name: doc-audit
version: 1
rules:
  - id: big
    when: params.amount > 500
    effect: escalate
"""

pytestmark = pytest.mark.skipif(
    not (BIN / "guard").exists() or shutil.which("bash") is None,
    reason="needs the installed guard command and bash",
)


def _sh(line: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run(  # noqa: S603 - a fixed shell line from the doc
        ["bash", "-c", f"set -o pipefail; {line}"],  # noqa: S607
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def log(tmp_path: Path) -> tuple[Path, list[str]]:
    """guard-audit.db in tmp_path, as a Guard writes it, and its decisions' ids."""
    (tmp_path / "doc-audit.yaml").write_text(PACK, encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'guard-audit.db'}"
    with Guard.from_policy(tmp_path / "doc-audit.yaml", audit=url) as g:
        ids = [g.check({"kind": "pay", "params": {"amount": n}}).id for n in (100, 700, 50)]
    return tmp_path, ids


def _block() -> list[str]:
    found = re.search(r"```sh\n(.*?)```", DOC, re.S)
    assert found
    return [line.split("  #", 1)[0].strip() for line in found.group(1).splitlines() if line]


def test_the_command_block_runs_as_printed(log: tuple[Path, list[str]]) -> None:
    cwd, ids = log
    lines = _block()
    assert [line.split()[:3] for line in lines if line.startswith("guard")] == [
        ["guard", "audit", "head"],
        ["guard", "audit", "verify"],
        ["guard", "audit", "verify"],
        ["guard", "audit", "show"],
    ]
    for line in lines:
        # the one remote part: the kept head comes from a vault over ssh
        line = line.replace("ssh vault cat head.json", "cat head.json")
        line = line.replace("<decision-id>", ids[1])
        done = _sh(line, cwd)
        assert done.returncode == 0, (line, done.stderr)
        assert done.stderr == "", (line, done.stderr)
        if "verify" in line:
            assert done.stdout.startswith("ok  3 records verified")
        if "--against" in line:
            assert "extends the tree head of size 3" in done.stdout
        if " show " in line:
            assert json.loads(done.stdout)["record"]["id"] == ids[1]
    head = json.loads((cwd / "head.json").read_text(encoding="utf-8"))
    assert head["size"] == 3 and re.fullmatch(r"[0-9a-f]{64}", head["root"])
    assert re.fullmatch(r"[0-9a-f]{64}", head["public_key"])  # "signed tree head + public key"


def _error(done: subprocess.CompletedProcess[str]) -> str:
    """The single stderr line the doc promises for every error."""
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert "Traceback" not in done.stderr
    return lines[0]


def _tamper(db: Path) -> None:
    with sqlite3.connect(db) as con:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        (record,) = con.execute("SELECT record FROM leaves WHERE idx = 1").fetchone()
        con.execute(
            "UPDATE leaves SET record = ? WHERE idx = 1",
            (bytes(record).replace(b"700", b"701"),),
        )


def test_the_exit_code_table(log: tuple[Path, list[str]]) -> None:
    cwd, ids = log
    assert _sh("guard audit head --audit sqlite:///guard-audit.db > head.json", cwd).returncode == 0
    (cwd / "a-folder").mkdir()
    (cwd / "not-json.json").write_text("{nope", encoding="utf-8")
    (cwd / "not-a-head.json").write_text('{"size": 3}', encoding="utf-8")
    shutil.copy(cwd / "guard-audit.db", cwd / "copy.db")  # a copied log: no .key beside it

    # exit 2: cannot open (a mistyped path is not a new, empty log that verifies)
    mistyped = _sh("guard audit verify --audit sqlite:///guard-audt.db", cwd)
    assert mistyped.returncode == 2
    assert "no audit log at" in _error(mistyped) and "the file does not exist" in mistyped.stderr
    assert not (cwd / "guard-audt.db").exists()
    assert _sh("guard audit verify --audit sqlite:///a-folder", cwd).returncode == 2
    assert _sh("guard audit head --audit sqlite:///a-folder", cwd).returncode == 2
    assert _sh("guard audit show x --audit sqlite:///nope.db", cwd).returncode == 2
    verify = "guard audit verify --audit sqlite:///guard-audit.db"
    against = _sh(f"{verify} --against not-json.json", cwd)
    assert against.returncode == 2 and "not valid JSON" in _error(against)

    # exit 1: a bad --against, a head without its key, an unknown id
    not_head = _sh(f"{verify} --against not-a-head.json", cwd)
    assert not_head.returncode == 1 and "not a tree head" in _error(not_head)
    no_key = _sh("guard audit head --audit sqlite:///copy.db", cwd)
    assert no_key.returncode == 1 and "--signing-key" in _error(no_key)
    assert not (cwd / "copy.db.key").exists()  # head only reads: it made no key
    unknown = _sh("guard audit show no-such-id --audit sqlite:///guard-audit.db", cwd)
    assert unknown.returncode == 1 and "no-such-id" in _error(unknown)
    if Path("/dev/full").exists():
        full = _sh("guard audit head --audit sqlite:///guard-audit.db > /dev/full", cwd)
        assert full.returncode == 1
        assert _error(full).startswith("error: cannot write the output: ")

    # exit 1: tampered, naming the first bad record; show refuses the tampered record
    _tamper(cwd / "guard-audit.db")
    bad = _sh(verify, cwd)
    assert bad.returncode == 1 and "index 1" in _error(bad) and ids[1] in bad.stderr
    shown = _sh(f"guard audit show {ids[1]} --audit sqlite:///guard-audit.db", cwd)
    assert shown.returncode == 1
    _error(shown)


def test_a_reader_closing_the_pipe_early_gets_no_error(log: tuple[Path, list[str]]) -> None:
    cwd, _ = log
    url = f"sqlite:///{cwd / 'guard-audit.db'}"
    with Guard.from_policy(cwd / "doc-audit.yaml", audit=url) as g:  # more than a pipe holds
        big = g.check({"kind": "pay", "params": {"amount": 1, "note": "x " * 200_000}}).id
    done = _sh(f"guard audit show {big} --audit sqlite:///guard-audit.db | head -1", cwd)
    assert done.returncode == 0 and done.stdout == "{\n" and done.stderr == ""
