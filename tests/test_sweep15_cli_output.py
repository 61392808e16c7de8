"""When the output cannot be written (a full disk), `guard` says so in one line, never
with a traceback.

`guard audit show ... > out.json` on a full disk printed a Python traceback ending in
"OSError: [Errno 28] No space left on device", for every command that prints.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from guard.audit import open_audit

COMMANDS = [
    ["audit", "head"],
    ["audit", "verify"],
    ["audit", "show", "d0"],
    ["keys", "create", "--name", "a", "--scopes", "check"],
]


def _log(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    with open_audit(url) as log:
        log.append_many([{"id": f"d{i}", "text": "x" * 2000} for i in range(3)])
    return url


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_a_full_disk_is_one_line(tmp_path: Path, command: list[str]) -> None:
    args = [*command, "--audit", _log(tmp_path)] if command[0] == "audit" else command
    with open("/dev/full", "w") as full:
        r = subprocess.run(
            [sys.executable, "-c", "from guard.cli import main; main()", *args],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            cwd=tmp_path,
            timeout=120,
        )
    assert r.returncode == 1, r.stderr
    assert "Traceback" not in r.stderr and "Exception ignored" not in r.stderr, r.stderr
    assert r.stderr.strip().splitlines() == [
        "error: cannot write the output: No space left on device"
    ]
