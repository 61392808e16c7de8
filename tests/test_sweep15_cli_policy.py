"""`guard policy test` prints a case's note as text, never as terminal control sequences.

A note comes from a test file anyone may edit (a pull request, say). Printed raw, an
ESC sequence in it can move the cursor and erase the FAIL line above it, clear the screen
or retitle the terminal, so that a failing run reads as a clean one on screen.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

PACK = """name: ok-pack
version: 1
rules:
  - id: r1
    when: "params.x == 1"
    effect: deny
"""


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from guard.cli import main; main()", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


def test_a_failing_case_note_with_escape_sequences_prints_them_escaped(tmp_path: Path) -> None:
    (tmp_path / "ok-pack.yaml").write_text(PACK)
    note = "fine\x1b[1A\x1b[2K\r\x1b]0;title\x07 \u202egnp.exe \x9b2J"
    (tmp_path / "ok-pack.test.yaml").write_text(
        "pack: ok-pack\ncases:\n"
        f"  - note: {json.dumps(note)}\n"
        "    action: {kind: x, params: {x: 2}}\n"
        "    expect: {verdict: deny}\n"
    )
    r = _run("policy", "test", str(tmp_path), cwd=tmp_path)
    assert r.returncode == 1
    controls = [c for c in r.stdout if c not in "\n" and (ord(c) < 32 or 0x7F <= ord(c) < 0xA0)]
    assert controls == [], r.stdout
    assert "\u202e" not in r.stdout
    fail_line = r.stdout.splitlines()[0]
    assert fail_line.startswith("FAIL ok-pack: fine\\x1b[1A\\x1b[2K\\r\\x1b]0;title\\x07")
    assert "\\u202e" in fail_line and "\\x9b2J" in fail_line
    assert "verdict allow, expected deny" in fail_line
