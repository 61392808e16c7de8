"""`guard audit verify --against -` reads the tree head from stdin, as --action - does.

A head kept elsewhere is naturally piped in (`ssh vault cat head.json | guard audit
verify --against -`); it was read as a file named '-' ("No such file or directory").
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from guard.audit import open_audit


def _run(*args: str, cwd: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from guard.cli import main; main()", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        input=stdin,
        timeout=120,
    )


def test_against_dash_reads_the_head_from_stdin(tmp_path: Path) -> None:
    with open_audit(f"sqlite:///{tmp_path / 'a.db'}") as log:
        log.append_many([{"id": f"d{i}"} for i in range(4)])
    url = f"sqlite:///{tmp_path / 'a.db'}"
    head = _run("audit", "head", "--audit", url, cwd=tmp_path)
    assert head.returncode == 0, head.stderr
    r = _run("audit", "verify", "--audit", url, "--against", "-", cwd=tmp_path, stdin=head.stdout)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[-1] == "ok  extends the tree head of size 4 in stdin"
    # A head from stdin that the log does not extend is refused like one from a file.
    forged = head.stdout.replace('"size": 4', '"size": 3')
    r = _run("audit", "verify", "--audit", url, "--against", "-", cwd=tmp_path, stdin=forged)
    assert r.returncode == 1
    assert r.stderr.startswith("error: --against stdin: the signature does not match"), r.stderr
