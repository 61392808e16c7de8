"""`guard check --action "$(cat action.json)"` with a file saved with a byte order mark.

The same JSON given as @action.json or on stdin was accepted (a BOM, as some editors
write, is allowed there); given inline it was refused ("UTF-8 byte order mark (BOM) is
not supported"). All three forms now read the same.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

PACK = """name: ok-pack
version: 1
rules:
  - id: big
    when: "params.x > 1"
    effect: deny
"""


def _check(tmp_path: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from guard.cli import main; main()", "check",
         "--policy", str(tmp_path / "ok-pack.yaml"), *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        input=stdin,
        timeout=120,
    )  # fmt: skip


def test_a_byte_order_mark_reads_the_same_inline_from_a_file_and_from_stdin(
    tmp_path: Path,
) -> None:
    (tmp_path / "ok-pack.yaml").write_text(PACK)
    action = '\ufeff{"kind": "pay", "params": {"x": 2}}'
    (tmp_path / "a.json").write_text(action, encoding="utf-8")
    verdicts = []
    for args, stdin in (
        (["--action", action], ""),
        (["--action", "@a.json"], ""),
        (["--action", "-"], action),
        (["--action", '{"kind": "pay", "params": {"x": 0}}', "--context", "\ufeff{}"], ""),
    ):
        r = _check(tmp_path, *args, stdin=stdin)
        assert r.returncode == 0, (args, r.stderr)
        verdicts.append(json.loads(r.stdout)["verdict"])
    assert verdicts == ["deny", "deny", "deny", "allow"]
