"""`guard policy test examples/policies/` passes with every rule of every example pack fired:
a new user running it on the examples sees no failure."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "policies"


def test_the_example_packs_pass_with_full_rule_coverage() -> None:
    r = subprocess.run(
        [
            sys.executable,
            "-c",
            "from guard.cli import main; main()",
            "policy",
            "test",
            str(EXAMPLES),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    packs = sorted(p.stem for p in EXAMPLES.glob("*.yaml") if not p.stem.endswith(".test"))
    assert packs
    reported: set[str] = set()
    for line in r.stdout.splitlines():
        m = re.fullmatch(r"PASS (\S+): (\d+)/(\d+) cases, rule coverage (\d+)/(\d+)", line)
        assert m, line
        name, ok, cases, fired, rules = m.groups()
        assert ok == cases and fired == rules and int(rules) > 0, line
        reported.add(name)
    assert sorted(reported) == packs
