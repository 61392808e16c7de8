"""`guard policy test` prints each failing case on one line: a note or a detail with line
breaks cannot split a report line, nor forge a PASS line in a CI log."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PACK = "name: p\nversion: 1\nrules:\n  - id: r\n    match: {kind: pay}\n    when: params.n > 5\n"


def guard_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from guard.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_note_with_line_breaks_is_one_report_line(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text(PACK)
    (tmp_path / "p.test.yaml").write_text(
        "cases:\n"
        '  - note: "small\\nPASS p: 9/9 cases, rule coverage 1/1"\n'
        "    action: {kind: pay, params: {n: 1}}\n"
        "    expect: {verdict: deny}\n"
    )
    r = guard_cli("policy", "test", str(tmp_path / "p.yaml"))
    assert r.returncode == 1 and "Traceback" not in r.stderr
    lines = r.stdout.splitlines()
    assert not any(line.startswith("PASS") for line in lines)
    (failure,) = [line for line in lines if "expected deny" in line]
    assert failure.startswith("FAIL p: small")
